#!/usr/bin/env bash
# Installs the Debian 12 packages Korb needs to build, test and benchmark.
# Idempotent: installs only what is missing, and runs `apt-get update` only
# when something is. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  g++ make cmake ninja-build pkg-config
  protobuf-compiler libprotobuf-dev libprotoc-dev
  libgrpc++-dev protobuf-compiler-grpc
  libabsl-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  etcd-server
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
