#!/usr/bin/env bash
# Installs the Debian 12 packages folio needs to build and test, and only the
# ones that are missing. Runs apt-get through sudo when not root.
# Usage: scripts/install-deps.sh            (build + test packages)
set -euo pipefail

# Why each package is here: README.md, section "Dependencies".
packages=(
  g++ cmake ninja-build make pkg-config
  libcli11-dev          # command-line parsing
  nlohmann-json3-dev    # JSON output (show --json, logits), later the REST API
  libpcre2-dev          # Unicode regexes of the BPE pre-tokenizers
  libutf8proc-dev       # Unicode categories, case and decomposition (tokenizers)
  libssl-dev            # SHA-256 of model blobs (libcrypto)
  libcpp-httplib-dev    # the HTTP server and the CLI's client
  libedit-dev           # line editing and history in the interactive `folio run`
  libgtest-dev libgmock-dev   # unit tests
  clang libclang-rt-14-dev    # libFuzzer harnesses (fuzz/), run briefly by make test
  docker-registry       # a real OCI registry on loopback for the pull/push tests
  ca-certificates       # the system CA store for https registries
  libbenchmark-dev      # kernel microbenchmarks
  ccache                # faster rebuilds on 2 cores
)

missing=()
for p in "${packages[@]}"; do
  [[ "$p" == \#* ]] && continue
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == installed ]] || missing+=("$p")
done

# Node.js and npm run the API tests written with the official `ollama` and
# `openai` npm clients (tests/js). A node already on the machine (e.g. from
# NodeSource) is used as it is.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null; then
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
