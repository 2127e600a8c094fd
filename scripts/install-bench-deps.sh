#!/usr/bin/env bash
# Installs the Debian 12 packages that only the cross-process peer benchmark
# (bench/peers/) needs: ZeroC Ice 3.7 and omniORB 4.2, to build their servers
# and clients, and matplotlib for bench/peers/chart.py. `make build`,
# `make test` and `make demo` never need them: CMake builds a peer only when
# it finds its compiler and libraries, and the driver skips the peers that
# were not built. Idempotent like install-deps.sh: installs only what is
# missing, and runs `apt-get update` only when something is.
set -euo pipefail

packages=(
  # ZeroC Ice 3.7: slice2cpp, libIce++11 headers and libraries, Ice's own Slice files.
  zeroc-ice-compilers libzeroc-ice-dev zeroc-ice-slice
  # omniORB 4.2: the IDL compiler (omniidl + its C++ back end), headers, libraries.
  omniidl libomniorb4-dev libomnithread4-dev
  # The charts.
  python3-matplotlib
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-bench-deps: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
