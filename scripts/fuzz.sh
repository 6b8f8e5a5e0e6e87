#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 60) and prints executions and crashes per target.
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Crashes land in fuzz/artifacts/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(server pattern matcher)
fi
status=0
for target in "${targets[@]}"; do
  log="$(mktemp)"
  if cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -max_len=4096 -timeout=10 >"$log" 2>&1; then
    outcome="no crash"
  else
    outcome="CRASH (see fuzz/artifacts/$target and $log)"
    status=1
  fi
  runs="$(sed -nE 's/^Done ([0-9]+) runs.*/\1/p' "$log" | tail -n 1)"
  printf '%-8s %10s executions in %ss: %s\n' "$target" "${runs:-?}" "$seconds" "$outcome"
done
exit "$status"
