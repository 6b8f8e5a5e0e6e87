#!/usr/bin/env bash
# The flakiness figure: runs the workspace suite (or the part a filter picks) N times under `cargo nextest run` while every core is kept
# busy by a CPU hog, and prints runs, test executions and failures (with the names of the tests that failed).
#
#   scripts/flakiness.sh [RUNS] [FILTER]
#
# RUNS defaults to 10 (about 365 executions per run of the whole suite). FILTER is a nextest filter expression
# that runs only part of the suite: CI runs the tests that touch real time this way, a few times, on every push
# (`.ci/run`), and the whole suite is the figure for the closing notes of reliability work.
#
# No retries: nextest runs each test once per run, so a flake shows up as a failure here.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
filter=("--workspace")
if [[ -n "${2:-}" ]]; then
  filter+=(-E "$2")
fi
cores="$(nproc)"
log_dir="$(mktemp -d)"

hogs=()
stop_hogs() { for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_hogs EXIT

cargo nextest run --workspace --no-run >/dev/null 2>&1 || cargo nextest run --workspace --no-run
for _ in $(seq "$cores"); do
  sh -c 'while :; do :; done' &
  hogs+=("$!")
done
echo "flakiness: $runs run(s) of ${2:-the workspace suite}, $cores CPU hog(s) running, logs in $log_dir"

executions=0
failures=0
for run in $(seq "$runs"); do
  log="$log_dir/run-$run.log"
  cargo nextest run "${filter[@]}" --no-fail-fast --retries 0 --status-level fail --final-status-level fail \
    >"$log" 2>&1 || true
  summary="$(grep -E 'Summary \[' "$log" | tail -n 1)"
  ran="$(sed -nE 's/.* ([0-9]+) tests? run:.*/\1/p' <<<"$summary")"
  failed="$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$summary")"
  if [[ -z "$ran" ]]; then
    echo "run $run: no summary (the build or nextest failed); see $log" >&2
    exit 2
  fi
  executions=$((executions + ran))
  failures=$((failures + ${failed:-0}))
  printf 'run %3d: %d executed, %d failed\n' "$run" "$ran" "${failed:-0}"
  if [[ "${failed:-0}" -ne 0 ]]; then
    grep -E '^\s+FAIL \[' "$log" | sort -u | sed 's/^/         /' || true
    # What failed and why, here: a CI log shows this, not the temporary directory.
    grep -E -A 40 '^\s+(FAIL|SIGSEGV|SIGABRT) \[' "$log" | head -n 200 | sed 's/^/         | /' || true
  fi
done
echo "runs: $runs  executions: $executions  failures: $failures"
[[ "$failures" -eq 0 ]]
