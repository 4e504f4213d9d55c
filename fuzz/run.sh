#!/usr/bin/env bash
# Runs the libFuzzer harnesses of a FOLIO_FUZZ build (make fuzz, make test).
# Usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]     (default: every target)
# Each target runs SECONDS on one core, two targets at a time, over a working
# corpus (BUILD_DIR/fuzz-corpus/<target>, grown across runs) seeded from
# fuzz/corpus/<target>. A crash, leak, timeout or sanitizer report fails
# the run and leaves the input in BUILD_DIR/fuzz-artifacts/<target>/; once
# fixed, copy it to fuzz/regressions/<target>/ (replayed by make test).
# FUZZ_SEED=N makes a run repeatable (make test uses 1); default: random.
set -euo pipefail

build=${1:?usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in "$here"/*_fuzz.cpp; do
    n=$(basename "$f" _fuzz.cpp)
    targets+=("$n")
  done
fi

run_one() {
  local t=$1 bin="$build/${1}_fuzz" corpus="$build/fuzz-corpus/$1" art="$build/fuzz-artifacts/$1/"
  local log="$build/fuzz-logs/$1.log" flags=()
  mkdir -p "$corpus" "$art" "$build/fuzz-logs"
  [[ -f "$here/dict/$t.dict" ]] && flags=(-dict="$here/dict/$t.dict")
  [[ -n "${FUZZ_SEED:-}" ]] && flags+=(-seed="$FUZZ_SEED")
  # -rss_limit_mb: a target that allocates without bound is a finding.
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 -max_len=16384 -print_final_stats=1 \
      -artifact_prefix="$art" "${flags[@]}" "$corpus" "$here/corpus/$t" >"$log" 2>&1; then
    echo ok >"$log.status"
  else
    echo failed >"$log.status"
  fi
}

for t in "${targets[@]}"; do
  [[ -x "$build/${t}_fuzz" ]] || { echo "fuzz: no $build/${t}_fuzz (build with make fuzz-build)" >&2; exit 1; }
done
for t in "${targets[@]}"; do
  # two at a time (the machine's two cores): a new one when either ends
  while (($(jobs -rp | wc -l) >= 2)); do wait -n || true; done
  run_one "$t" &
done
wait

failed=0
printf '%-10s %8s %10s %8s %8s %8s  %s\n' target seconds execs exec/s cov ft result
for t in "${targets[@]}"; do
  log="$build/fuzz-logs/$t.log"
  status=$(cat "$log.status" 2>/dev/null || echo failed)
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  printf '%-10s %8s %10s %8s %8s %8s  %s\n' "$t" "$seconds" "$execs" "$rate" "$cov" "$ft" "$status"
  if [[ $status != ok ]]; then
    failed=1
    echo "---- $t: last lines of $log" >&2
    tail -40 "$log" >&2
  fi
done
exit $failed
