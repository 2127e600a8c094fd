#!/usr/bin/env bash
# Runs every fuzz target of a fuzzing build for a bounded time each, starting
# from the seed corpus in tests/fuzz/corpus/<target>/ (never written to: new
# inputs go to a scratch corpus in the build directory). Prints each target's
# executions and a total; exits non-zero if a target found a crash, a leak or
# a hang (the input is saved under <build>/fuzz-artifacts/).
#   tests/fuzz/run.sh <build-dir> <seconds-per-target>
set -euo pipefail
build=${1:?usage: run.sh <build-dir> <seconds>}
seconds=${2:?usage: run.sh <build-dir> <seconds>}
here=$(cd "$(dirname "$0")" && pwd)
# Leaks in third-party libraries only (each entry is explained in the file).
export LSAN_OPTIONS="suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
total=0
failed=()
for target in ref_fuzz metadata_fuzz forward_fuzz dispatch_fuzz; do
  scratch="$build/fuzz-corpus/$target"
  mkdir -p "$scratch"
  log="$build/fuzz-$target.log"
  echo "fuzz: $target for ${seconds}s"
  # -timeout: one input running longer than this is a hang.
  if "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
      "$scratch" "$here/corpus/$target" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$target")
    tail -n 40 "$log"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  runs=${runs:-0}
  total=$((total + runs))
  echo "fuzz: $target $status: $runs executions"
done
echo "fuzz: $total executions in all"
if ((${#failed[@]} > 0)); then
  echo "fuzz: findings in ${failed[*]} (inputs in $artifacts)" >&2
  exit 1
fi
