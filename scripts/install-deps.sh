#!/usr/bin/env bash
# Installs the Debian 12 packages Korb needs to build, test and benchmark.
# Idempotent: installs only what is missing, and runs `apt-get update` only
# when something is. Needs root (or sudo) only when something is missing.
#   scripts/install-deps.sh          what `make build/test/demo` need
#   scripts/install-deps.sh fuzz     what `make fuzz` needs (clang, libFuzzer)
#   scripts/install-deps.sh bench    what only the peer benchmark (bench/peers/)
#                                    needs: `make build/test/demo` never do;
#                                    CMake builds a peer only when it finds it
set -euo pipefail

case "${1:-}" in
  "")
    packages=(
      g++ make cmake ninja-build pkg-config
      protobuf-compiler libprotobuf-dev libprotoc-dev
      libgrpc++-dev protobuf-compiler-grpc
      libabsl-dev libsqlite3-dev
      # Logging (common/log.h), the /metrics listener, promtool for its test.
      libspdlog-dev libcpp-httplib-dev prometheus
      libcli11-dev                     # korbctl (tools/korbctl/)
      libgtest-dev libgmock-dev libbenchmark-dev
      etcd-server
    ) ;;
  fuzz)
    packages=(clang libclang-rt-14-dev) ;;
  bench)
    packages=(
      # ZeroC Ice 3.7: slice2cpp, libIce++11 headers and libraries, Ice's own Slice files.
      zeroc-ice-compilers libzeroc-ice-dev zeroc-ice-slice
      # omniORB 4.2: the IDL compiler (omniidl + its C++ back end), headers, libraries.
      omniidl libomniorb4-dev libomnithread4-dev
      # The charts of bench/peers/chart.py.
      python3-matplotlib
    ) ;;
  *)
    echo "usage: $0 [fuzz|bench]" >&2
    exit 2 ;;
esac

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
