#!/usr/bin/env bash
# Runs the bank example through the naming service, end to end: korb-naming
# (in-memory backend), a bank_server that registers its bank as "bank"
# there, and a bank_client that finds the bank by name
# (korbname://<naming endpoint>/bank?type=bank.Bank), each a separate process
# on 127.0.0.1. Then stops the server cleanly (it unregisters) and shows that
# the name is gone. Usage: run_naming_demo.sh [build dir]
set -euo pipefail
build=${1:-build}
bin=$build/examples
naming_bin=$build/tools/korb-naming/korb-naming

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do { wait "$pid"; } 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Waits up to 30 s for the first line of file $1, written by process $2 ($3 names it).
first_line() {
  for _ in $(seq 300); do
    [[ -s "$1" ]] && { head -n 1 "$1"; return 0; }
    kill -0 "$2" 2>/dev/null || { echo "run_naming_demo: $3 exited early" >&2; return 1; }
    sleep 0.1
  done
  echo "run_naming_demo: $3 printed no reference within 30 s" >&2
  return 1
}

"$naming_bin" --listen 127.0.0.1:0 >"$work/naming.out" &
pids+=($!)
naming=$(first_line "$work/naming.out" "${pids[0]}" korb-naming)
echo "naming service: $naming"

"$bin/bank_server" --naming "$naming" --name bank >"$work/bank.out" &
pids+=($!)
bank=$(first_line "$work/bank.out" "${pids[1]}" bank_server)
echo "bank_server: $bank, registering as \"bank\""

# The server registers in the background; until it has, the name is not
# bound and the client says so (NOT_FOUND, name-not-bound). Try for 30 s.
for attempt in $(seq 150); do
  if "$bin/bank_client" --naming "$naming" --name bank >"$work/client.out" 2>"$work/client.err"; then
    cat "$work/client.out"
    break
  fi
  grep -q "name-not-bound\|is not bound" "$work/client.err" || { cat "$work/client.err" >&2; exit 1; }
  [[ $attempt == 150 ]] && { echo "run_naming_demo: bank never registered" >&2; exit 1; }
  sleep 0.2
done

echo "--- bank_server stops cleanly (SIGTERM) and unregisters:"
kill -TERM "${pids[1]}"
wait "${pids[1]}" 2>/dev/null || true
if "$bin/bank_client" --naming "$naming" --name bank >/dev/null 2>"$work/client.err"; then
  echo "run_naming_demo: the bank is still found after its server stopped" >&2
  exit 1
fi
sed 's/^/  /' "$work/client.err"
