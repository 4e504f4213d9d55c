#!/usr/bin/env bash
# The benchmarks: model synthesis and open times, then `folio bench` (prompt
# processing, generation, batched generation, the bandwidth bound). Prints
# what it measured and the command for each number. Against llama.cpp:
# bench/compare.sh; through the server: bench/parallel.sh; kernels alone:
# build/folio_kernel_bench.
#   bench/run.sh [build/folio]          models are generated into bench/out/
set -euo pipefail
folio=${1:-build/folio}
out=bench/out
mkdir -p "$out"
preset=${FOLIO_BENCH_PRESET:-llama-3.2-1b}
type=${FOLIO_BENCH_TYPE:-Q4_K_M}
model="$out/$preset-$type.gguf"

now() { date +%s.%N; }

echo "# folio benchmarks ($(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ))"
if [[ ! -f "$model" ]]; then
  t0=$(now)
  "$folio" synth "$model" --preset "$preset" --type "$type" >/dev/null
  t1=$(now)
  size=$(stat -c %s "$model")
  params=$("$folio" show "$model" --json | sed -n 's/.*"general.parameter_count": \([0-9]*\).*/\1/p')
  awk -v s="$size" -v p="$params" -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" 'BEGIN {
    printf "synth %s: %.0f MB in %.1f s (%.1f M params/s)\n", "'"$preset $type"'", s/1e6, t, p/t/1e6 }'
  echo "  command: $folio synth $model --preset $preset --type $type"
fi

# Opening a model maps it and parses the metadata; it must not read the
# weights. Median of 5 runs of `folio show` (process start included).
times=()
for _ in 1 2 3 4 5; do
  t0=$(now)
  "$folio" show "$model" >/dev/null
  t1=$(now)
  times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) * 1000 }')")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
printf "show (open + parse + summary) %s: median %.1f ms of 5\n" "$(basename "$model")" "$median"
echo "  command: $folio show $model"

# Speed: prompt processing, generation, four sequences decoded together.
"$folio" bench "$model" -r 3 --parallel 1,4
echo "  command: $folio bench $model -r 3 --parallel 1,4"
