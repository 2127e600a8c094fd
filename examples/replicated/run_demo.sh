#!/usr/bin/env bash
# Runs the replicated example: three replicated_server processes (one replica
# each) on 127.0.0.1 and replicated_client calling all of them through one
# reference. Midway through the client's round-robin reads, replica r1 is
# killed with SIGKILL; the reads keep succeeding on r0 and r2.
# Usage: run_demo.sh [build dir]
set -euo pipefail
build=${1:-build}
bin=$build/examples

dir=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do { wait "$pid"; } 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

# Waits up to 30 s for the first line of file $1, written by process $2.
first_line() {
  for _ in $(seq 300); do
    [[ -s "$1" ]] && { head -n 1 "$1"; return 0; }
    kill -0 "$2" 2>/dev/null || { echo "run_demo: a replica exited early" >&2; return 1; }
    sleep 0.1
  done
  echo "run_demo: no reference from a replica within 30 s" >&2
  return 1
}

refs=()
for i in 0 1 2; do
  "$bin/replicated_server" --listen 127.0.0.1:0 --name "r$i" >"$dir/r$i.out" 2>/dev/null &
  pids+=($!)
  refs+=("$(first_line "$dir/r$i.out" "${pids[$i]}")")
  echo "replica r$i: ${refs[$i]}"
done

"$bin/replicated_client" --calls 30 --interval-ms 100 "${refs[@]}" >"$dir/client.out" 2>&1 &
client=$!
tail -n +1 -f "$dir/client.out" --pid "$client" &
tailer=$!

# Kill r1 once ten round-robin reads are done (bounded: 30 s).
for _ in $(seq 300); do
  grep -q "call 10:" "$dir/client.out" && break
  kill -0 "$client" 2>/dev/null || break
  sleep 0.1
done
if grep -q "call 10:" "$dir/client.out"; then
  kill -KILL "${pids[1]}"
  { wait "${pids[1]}"; } 2>/dev/null || true   # reaped quietly: no "Killed" notice
  echo ">>> killed replica r1 (pid ${pids[1]}) with SIGKILL"
fi

status=0
wait "$client" || status=$?
wait "$tailer" 2>/dev/null || true
exit "$status"
