#!/usr/bin/env bash
# Runs the bank example end to end: bank_server and bank_client as separate
# processes over TCP on 127.0.0.1, with the accounts in a SQLite file. Then
# kills the server with SIGKILL, starts a new one on the same address and
# database, and shows that the accounts' old references still work and their
# balances survived. Usage: run_demo.sh [build dir]
set -euo pipefail
build=${1:-build}
bin=$build/examples

work=$(mktemp -d)
server=
stop_server() {
  if [[ -n "$server" ]]; then
    kill "$1" "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=
  fi
}
trap 'stop_server -TERM; rm -rf "$work"' EXIT

# Starts bank_server on address $1 and waits for the reference it prints
# once it listens (a slow machine gets 30 s).
start_server() {
  : >"$work/out"
  "$bin/bank_server" --listen "$1" --db "$work/bank.db" --max-active 100 >"$work/out" &
  server=$!
  for _ in $(seq 300); do
    [[ -s "$work/out" ]] && break
    kill -0 "$server" 2>/dev/null || { echo "run_demo: bank_server exited early" >&2; exit 1; }
    sleep 0.1
  done
  ref=$(head -n 1 "$work/out")
  [[ -n "$ref" ]] || { echo "run_demo: bank_server printed no reference within 30 s" >&2; exit 1; }
}

start_server 127.0.0.1:0
echo "bank: $ref"
"$bin/bank_client" "$ref" | tee "$work/client"
mapfile -t accounts < <(sed -n 's/^opened //p' "$work/client")

# The port the first server got, so the second listens where the references point.
address=${ref#korb://}
address=${address%%/*}
echo "--- kill -9 bank_server (no clean shutdown), restart it on $address with the same $(basename "$work/bank.db")"
stop_server -KILL
start_server "$address"
echo "--- the old references, served by the new process (accounts incarnated from SQLite):"
"$bin/bank_client" --show "${accounts[@]}"
