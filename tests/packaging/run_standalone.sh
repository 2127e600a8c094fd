#!/usr/bin/env bash
# Builds examples/standalone against Korb and runs its server and client.
#   run_standalone.sh installed    <korb-src> <korb-build> <work-dir>
#     installs the already built Korb into <work-dir>/prefix (cmake --install),
#     then builds the example with find_package(korb)
#   run_standalone.sh subdirectory <korb-src> <korb-build> <work-dir> <server>
#     builds the example's client with add_subdirectory(<korb-src>): Korb's
#     client library and protoc-gen-korb are compiled again (the server
#     library is not, to keep a cold CI run short), and it calls <server>,
#     the greeter_server the installed mode built
# Then: the server prints a reference, the client greets through it, and the
# client is checked to contain no server side and no SQLite.
set -euo pipefail
mode=$1 src=$2 korb_build=$3 work=$4
server_program=$work/build/greeter_server
targets=(greeter_server greeter_client)
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
start=$(date +%s)

configure_args=(-S "$src/examples/standalone" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo)
case "$mode" in
  installed)
    cmake --install "$korb_build" --prefix "$work/prefix" > "$work/install.log" ||
      { cat "$work/install.log"; fail "cmake --install"; }
    for f in include/korb/client/client.h include/korb/adapter/object_server.h include/korb/ref.pb.h \
             bin/protoc-gen-korb share/korb/idl/korb/options.proto; do
      [[ -e "$work/prefix/$f" ]] || fail "not installed: $f"
    done
    pc_dir=$(dirname "$(find "$work/prefix" -name korb-client.pc | head -1)")
    [[ -n "$pc_dir" ]] || fail "korb-client.pc not installed"
    PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs korb korb-client > "$work/pkg-config.out" ||
      fail "pkg-config korb korb-client"
    pc_include=$(tr ' ' '\n' < "$work/pkg-config.out" | sed -n 's/^-I//p' | head -1)
    [[ -f "$pc_include/korb/client/client.h" ]] ||
      fail "pkg-config's first -I ($pc_include) does not hold korb/client/client.h"
    configure_args+=(-DCMAKE_PREFIX_PATH="$work/prefix") ;;
  subdirectory)
    server_program=${5:?subdirectory mode needs the server program}
    [[ -x "$server_program" ]] || fail "no $server_program: run packaging_installed first"
    targets=(greeter_client)
    configure_args+=(-DKORB_SOURCE_DIR="$src") ;;
  *) fail "unknown mode $mode" ;;
esac

cmake "${configure_args[@]}" > "$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; fail "configure ($mode)"; }
cmake --build "$work/build" -j 2 --target "${targets[@]}" > "$work/build.log" 2>&1 ||
  { tail -50 "$work/build.log"; fail "build ($mode)"; }
echo "standalone ($mode): configured and built in $(( $(date +%s) - start )) s"

# The client is client-only: no adapter code, no SQLite.
if nm -C "$work/build/greeter_client" | grep -q "korb::ObjectServer::Start"; then
  fail "greeter_client contains the object server"
fi
if ldd "$work/build/greeter_client" | grep -q sqlite; then
  fail "greeter_client links SQLite"
fi

"$server_program" > "$work/server.out" 2> "$work/server.err" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' EXIT
ref=""
for _ in $(seq 600); do
  ref=$(head -1 "$work/server.out" 2>/dev/null || true)
  [[ -n "$ref" ]] && break
  kill -0 $server 2>/dev/null || { cat "$work/server.err"; fail "greeter_server exited"; }
  sleep 0.1
done
[[ -n "$ref" ]] || fail "greeter_server printed no reference within 60 s"
reply=$(timeout 60 "$work/build/greeter_client" "$ref" world) || fail "greeter_client failed"
[[ "$reply" == "hello, world" ]] || fail "unexpected reply '$reply'"
kill -TERM $server
wait $server || fail "greeter_server exited with $? on SIGTERM"
trap - EXIT
echo "standalone ($mode): OK in $(( $(date +%s) - start )) s"
