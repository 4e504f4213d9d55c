#!/usr/bin/env bash
# folio bench next to llama.cpp's llama-bench on the same files, in
# alternating rounds (so both see the same machine state), and the ratios.
#   bench/compare.sh [-t THREADS] [-p 512] [-n 128] [-r 5] [--rounds 2] [MODEL.gguf ...]
# Without models, llama-3.2-1b-shaped models (Q4_0, Q8_0, Q4_K_M, F16) are
# generated into bench/out with `folio synth`. llama-bench is taken from
# $LLAMA_BENCH, else from a llama.cpp build beside the project
# (../llama.cpp/build/bin, ../llama.cpp/bin, ../peer/llama.cpp/bin); without
# one, only folio's numbers are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
folio=${FOLIO:-build/folio}
threads=2 prompt=512 gen=128 reps=5 rounds=2
models=()
while (($#)); do
  case "$1" in
    -t) threads=$2; shift 2 ;;
    -p) prompt=$2; shift 2 ;;
    -n) gen=$2; shift 2 ;;
    -r) reps=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) models+=("$1"); shift ;;
  esac
done
[[ -x "$folio" ]] || { echo "Error: $folio not found; run make first" >&2; exit 1; }
command -v node >/dev/null || { echo "Error: node is needed to summarize (scripts/install-deps.sh installs it)" >&2; exit 1; }
if ((${#models[@]} == 0)); then
  mkdir -p bench/out
  for type in Q4_0 Q8_0 Q4_K_M F16; do
    m=bench/out/llama-3.2-1b-$type.gguf
    [[ -f "$m" ]] || "$folio" synth "$m" --preset llama-3.2-1b --type "$type" >&2
    models+=("$m")
  done
fi
llama=${LLAMA_BENCH:-}
if [[ -z "$llama" ]]; then
  for c in ../llama.cpp/build/bin/llama-bench ../llama.cpp/bin/llama-bench ../peer/llama.cpp/bin/llama-bench; do
    [[ -x "$c" ]] && { llama=$c; break; }
  done
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $threads threads, pp$prompt tg$gen, $reps repetitions x $rounds rounds" >&2
for ((round = 1; round <= rounds; ++round)); do
  for m in "${models[@]}"; do
    echo "round $round: folio bench $m" >&2
    "$folio" bench "$m" -p "$prompt" -n "$gen" -r "$reps" -t "$threads" -o json >"$out/folio-$round-$(basename "$m").json"
    if [[ -n "$llama" ]]; then
      echo "round $round: llama-bench $m" >&2
      "$llama" -m "$m" -p "$prompt" -n "$gen" -r "$reps" -t "$threads" -o json 2>/dev/null \
        >"$out/llama-$round-$(basename "$m").json"
    fi
  done
done
node - "$out" <<'JS'
const fs = require('fs'), path = require('path');
const dir = process.argv[2];
const rows = {};  // key: model|test -> {folio: [avg...], llama: [avg...], bound: [..]}
for (const f of fs.readdirSync(dir)) {
  const engine = f.startsWith('folio-') ? 'folio' : 'llama';
  const model = f.replace(/^(folio|llama)-\d+-/, '').replace(/\.json$/, '');
  for (const r of JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))) {
    const test = r.test ?? (r.n_prompt > 0 && r.n_gen === 0 ? `pp${r.n_prompt}` : `tg${r.n_gen}`);
    const k = `${model}|${test}`;
    rows[k] ??= {folio: [], llama: [], bound: []};
    rows[k][engine].push(r.avg_ts);
    if (engine === 'folio' && r.of_bound !== undefined) rows[k].bound.push(r.of_bound);
  }
}
const mean = a => a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN;
console.log('| model | test | folio t/s | llama.cpp t/s | folio / llama.cpp | folio of bandwidth bound |');
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
for (const k of Object.keys(rows).sort()) {
  const [model, test] = k.split('|'), r = rows[k];
  const f = mean(r.folio), l = mean(r.llama), b = mean(r.bound);
  const fmt = v => Number.isFinite(v) ? v.toFixed(2) : '-';
  console.log(`| ${model} | ${test} | ${fmt(f)} | ${fmt(l)} | ${Number.isFinite(f / l) ? (f / l).toFixed(2) + 'x' : '-'} | ${Number.isFinite(b) ? (100 * b).toFixed(0) + '%' : '-'} |`);
}
JS
