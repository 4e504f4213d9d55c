#!/usr/bin/env bash
# Batched decoding end to end: a `folio serve` with FOLIO_NUM_PARALLEL=P
# answers one /api/generate stream, then P at once; prints the generation
# speed of the one and the aggregate of the P (tokens generated / the time
# from their common start to the last one's end, prompts included).
#   bench/parallel.sh [MODEL.gguf] [-P 4] [-n 64] [-t THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
folio=$(pwd)/${FOLIO:-build/folio}
model=bench/out/llama-3.2-1b-Q4_K_M.gguf P=4 n=64 threads=""
while (($#)); do
  case "$1" in
    -P) P=$2; shift 2 ;;
    -n) n=$2; shift 2 ;;
    -t) threads=$2; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) model=$1; shift ;;
  esac
done
[[ -f "$model" ]] || "$folio" synth "$model" --preset llama-3.2-1b --type Q4_K_M >&2
tmp=$(mktemp -d)
port=$(( (RANDOM % 20000) + 30000 ))
cleanup() {
  [[ -n "${pid:-}" ]] && kill "$pid" 2>/dev/null
  wait 2>/dev/null
  [[ -n "${FOLIO_DEBUG:-}" ]] && grep "batched decoding" "$tmp/serve.log" | tail -1 >&2
  rm -rf "$tmp"
}
trap cleanup EXIT
printf 'FROM %s\nPARAMETER temperature 0\n' "$(realpath "$model")" >"$tmp/Modelfile"
export FOLIO_MODELS=$tmp/models FOLIO_HOST=127.0.0.1:$port FOLIO_NUM_PARALLEL=$P
"$folio" serve >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -s "http://$FOLIO_HOST/api/version" >/dev/null && break; sleep 0.1; done
"$folio" create bench -f "$tmp/Modelfile" >/dev/null 2>&1
opts="\"num_predict\":$n${threads:+,\"num_thread\":$threads}"
gen() {  # prompt -> "eval_count eval_duration_ns" (the reply has no final newline)
  local reply
  reply=$(curl -s "http://$FOLIO_HOST/api/generate" \
    -d "{\"model\":\"bench\",\"prompt\":\"$1\",\"stream\":false,\"options\":{$opts}}")
  sed -n 's/.*"eval_count":\([0-9]*\),"eval_duration":\([0-9]*\).*/\1 \2/p' <<<"$reply"
}
gen "warm up" >/dev/null
read -r c d < <(gen "Once upon a time")
one=$(awk -v c="$c" -v d="$d" 'BEGIN { printf "%.2f", c / (d / 1e9) }')
t0=$(date +%s.%N)
for i in $(seq "$P"); do gen "Story number $i begins" >"$tmp/out.$i" & done
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
t1=$(date +%s.%N)
total=$(cat "$tmp"/out.* | awk '{ s += $1 } END { print s }')
agg=$(awk -v t="$total" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", t / (b - a) }')
echo "model $(basename "$model"), FOLIO_NUM_PARALLEL=$P, num_predict $n"
echo "1 stream:  $one tokens/s"
echo "$P streams: $agg tokens/s aggregate ($total tokens), $(awk -v a="$agg" -v o="$one" 'BEGIN { printf "%.2f", a / o }')x"
