#!/usr/bin/env bash
# Runs the bank example end to end: bank_server and bank_client as separate
# processes over TCP on 127.0.0.1. Usage: run_demo.sh [build dir]
set -euo pipefail
build=${1:-build}
bin=$build/examples

out=$(mktemp)
"$bin/bank_server" --listen 127.0.0.1:0 >"$out" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$out"' EXIT

# The server prints its reference once it listens; allow a slow machine 30 s.
for _ in $(seq 300); do
  [[ -s "$out" ]] && break
  kill -0 "$server" 2>/dev/null || { echo "run_demo: bank_server exited early" >&2; exit 1; }
  sleep 0.1
done
ref=$(head -n 1 "$out")
[[ -n "$ref" ]] || { echo "run_demo: bank_server printed no reference within 30 s" >&2; exit 1; }

echo "bank: $ref"
"$bin/bank_client" "$ref"
