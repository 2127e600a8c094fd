#!/usr/bin/env bash
# A peer benchmark client read as a hostile driver would talk to it: every
# malformed or out-of-bound command gets an "error" line and changes
# nothing, and a valid run still answers "ok" after them. Uses the raw gRPC
# server and client (always built); the server is stopped by PID.
#
#   protocol_test.sh BIN_DIR
set -euo pipefail
bin=$1
dir=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

"$bin/peer_grpc_server" --mode callback > "$dir/server.out" &
server_pid=$!
for _ in $(seq 1 300); do  # up to 30 s for the server's address
  [[ -s "$dir/server.out" ]] && break
  sleep 0.1
done
target=$(head -n 1 "$dir/server.out")
[[ -n "$target" ]] || { echo "FAIL: the server printed no address within 30 s"; exit 1; }

commands=(
  "run"                                  # too few words
  "walk 1 32 0.01 $dir/lat"              # unknown command
  "run 0 32 0.01 $dir/lat"               # no clients
  "run 257 32 0.01 $dir/lat"             # more clients than the bound
  "run -3 32 0.01 $dir/lat"
  "run 1 1048577 0.01 $dir/lat"          # payload over 1 MiB
  "run 1 32 0 $dir/lat"                  # no time
  "run 1 32 601 $dir/lat"                # over the time bound
  "run 1 32 nan $dir/lat"
  "run 1 32 0.01 $dir/no/such/dir/lat"   # cannot write the file
  "run 1 32 0.2 $dir/lat"                # valid
)
printf '%s\n' "${commands[@]}" quit |
  timeout 60 "$bin/peer_grpc_client" --mode unary --target "$target" > "$dir/client.out"

expected=$(( ${#commands[@]} + 1 ))  # "ready", then a line per command
got=$(wc -l < "$dir/client.out")
[[ "$got" -eq "$expected" ]] || { echo "FAIL: $got lines, expected $expected"; cat "$dir/client.out"; exit 1; }
[[ $(head -n 1 "$dir/client.out") == ready ]] || { echo "FAIL: no ready line"; exit 1; }
errors=$(sed -n "2,$(( expected - 1 ))p" "$dir/client.out" | grep -c '^error ' || true)
[[ "$errors" -eq $(( ${#commands[@]} - 1 )) ]] || {
  echo "FAIL: $errors error lines for $(( ${#commands[@]} - 1 )) bad commands"; cat "$dir/client.out"; exit 1; }
last=$(tail -n 1 "$dir/client.out")
[[ "$last" =~ ^ok\ [0-9.]+\ [1-9][0-9]*$ ]] || { echo "FAIL: the valid run answered: $last"; exit 1; }
size=$(stat -c %s "$dir/lat")
calls=${last##* }
[[ "$size" -eq $(( calls * 8 )) ]] || { echo "FAIL: $size bytes of latencies for $calls calls"; exit 1; }
echo "1 passed, 0 failed"
