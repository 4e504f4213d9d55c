#!/usr/bin/env bash
# The main job of `make run`: show the bundled model, then generate a small
# synthetic model with folio's own tooling and show that too.
set -euo pipefail
folio=${1:-build/folio}
model=data/models/stories260K.gguf
echo "== folio show $model"
"$folio" show "$model"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo
echo "== folio synth (tiny preset, Q4_K_M, vocabulary of the bundled model)"
"$folio" synth "$out/tiny-q4_k_m.gguf" --preset tiny --type Q4_K_M --vocab "$model"
echo
"$folio" show "$out/tiny-q4_k_m.gguf"
