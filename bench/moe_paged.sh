#!/usr/bin/env bash
# A mixture of experts next to a dense model of about the same file size,
# both run from the mapping under a cgroup memory limit smaller than either
# (root; cgroup v1 or v2): folio bench's generation tokens/s and bytes read
# from disk per token (/proc/self/io read_bytes), and the weight bytes a
# token uses (a MoE token: the routed experts only).
#   bench/moe_paged.sh [--limit 256M] [-n 16] [--type Q4_K_M]
set -euo pipefail
cd "$(dirname "$0")/.."
folio=${FOLIO:-build/folio}
limit=256M gen=16 type=Q4_K_M
while (($#)); do
  case "$1" in
    --limit) limit=$2; shift 2 ;;
    -n) gen=$2; shift 2 ;;
    --type) type=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "Error: unknown argument $1" >&2; exit 1 ;;
  esac
done
[[ -x "$folio" ]] || { echo "Error: $folio not found; run make first" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "Error: needs root to make a memory cgroup" >&2; exit 1; }
mkdir -p bench/out
moe=bench/out/moe-deepseek2-$type.gguf dense=bench/out/dense-llama-$type.gguf
# deepseek2: 12 layers (1 dense), 2048 wide, 16 heads, 16 experts of width
# 1024, 2 routed + 1 shared per token (1.4B parameters). llama: 28 layers,
# 2048 wide, FFN 5632 (1.4B).
[[ -f $moe ]] || "$folio" synth "$moe" --preset tiny-deepseek2 --embd 2048 --heads 16 --layers 12 --ff 5632 \
  --experts 16 --experts-used 2 --expert-ff 1024 --vocab-size 32000 --type "$type" >&2
[[ -f $dense ]] || "$folio" synth "$dense" --preset tiny --embd 2048 --heads 16 --heads-kv 4 --ff 5632 --layers 28 \
  --vocab-size 32000 --type "$type" >&2
bytes=$(numfmt --from=iec "$limit")
if [[ -d /sys/fs/cgroup/memory ]]; then
  cg=/sys/fs/cgroup/memory/folio-bench-$$; mkdir "$cg"; echo "$bytes" >"$cg/memory.limit_in_bytes"
else
  cg=/sys/fs/cgroup/folio-bench-$$; mkdir "$cg"; echo "$bytes" >"$cg/memory.max"; echo 0 >"$cg/memory.swap.max"
fi
trap 'rmdir "$cg" 2>/dev/null || true' EXIT
command -v node >/dev/null || { echo "Error: node is needed to summarize (scripts/install-deps.sh installs it)" >&2; exit 1; }
echo "| model | file | limit | tg t/s | weights used per token | read from disk per token |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for m in "$dense" "$moe"; do
  # Out of the page cache first: pages cached by others are not charged
  # to the cgroup and would never be read from disk.
  dd if="$m" iflag=nocache count=0 status=none
  sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$cg" "$folio" bench "$m" -p 0 -n "$gen" -r 1 -t "$(nproc)" \
    -o json | node -e '
      const r = JSON.parse(require("fs").readFileSync(0, "utf8")).find(x => x.n_gen > 0);
      const mb = b => (b / 1048576).toFixed(0) + " MiB";
      console.log(`| ${process.argv[1]} | ${mb(r.size)} | ${process.argv[2]} | ${r.avg_ts.toFixed(2)} | ${mb(r.weight_bytes_per_token)} | ${mb(r.disk_read_bytes_per_token)} |`);
    ' "$(basename "$m")" "$limit"
done
