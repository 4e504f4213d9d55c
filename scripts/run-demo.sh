#!/usr/bin/env bash
# The main job of `make run`: a completion from the bundled model.
set -euo pipefail
folio=${1:-build/folio}
exec "$folio" run data/models/stories260K.gguf "Once upon a time" --verbose
