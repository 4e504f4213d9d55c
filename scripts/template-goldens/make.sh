#!/bin/sh
# Renders tests/data/templates/tools/golden with Ollama's own template
# package (the reference folio's template engine must match). Not part of
# the build or the tests: run by hand when the conversations or templates
# change. Needs Go >= 1.23 (Debian 12: golang-1.23-go from bookworm-backports)
# and, from Debian, golang-github-{agnivade-levenshtein,google-uuid,
# buger-jsonparser,mailru-easyjson}-dev and golang-gopkg-yaml.v3-dev.
#
#   scripts/template-goldens/make.sh OLLAMA_GIT_DIR WK8_ORDERED_MAP_GIT_DIR GENERIC_LIST_GIT_DIR
#
# OLLAMA_GIT_DIR at the commit in tests/data/templates/tools/README.md;
# wk8/go-ordered-map at tag v2.1.8, bahlo/generic-list-go at v0.2.0 (what
# Ollama's go.mod asks for). Nothing of them is copied into the repository.
set -eu
[ $# -eq 3 ] || { sed -n 2,15p "$0"; exit 2; }
here=$(cd "$(dirname "$0")" && pwd); repo=$(cd "$here/../.." && pwd)
w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
g=/usr/share/gocode/src
mkdir -p "$w/ollama/cmd/tmplgold" "$w/wk8" "$w/bahlo" "$w/intern"
git -C "$1" archive HEAD template api/types.go envconfig internal/orderedmap types/model | tar -x -C "$w/ollama"
git -C "$2" archive v2.1.8 -- '*.go' go.mod | tar -x -C "$w/wk8"
for f in list.go go.mod; do git -C "$3" show HEAD:$f > "$w/bahlo/$f"; done
cp "$g/github.com/josharian/intern/intern.go" "$w/intern/" && printf 'module github.com/josharian/intern\n\ngo 1.5\n' > "$w/intern/go.mod"
find "$w" -name '*_test.go' -delete
cp "$here/main.go" "$w/ollama/cmd/tmplgold/"
cat > "$w/ollama/go.mod" <<MOD
module github.com/ollama/ollama

go 1.23

require (
	github.com/agnivade/levenshtein v1.1.1
	github.com/google/uuid v1.3.0
	github.com/wk8/go-ordered-map/v2 v2.1.8
	github.com/bahlo/generic-list-go v0.2.0
	github.com/buger/jsonparser v1.1.1
	github.com/mailru/easyjson v0.7.7
	github.com/josharian/intern v1.0.0
	gopkg.in/yaml.v3 v3.0.1
)

replace (
	github.com/agnivade/levenshtein => $g/github.com/agnivade/levenshtein
	github.com/google/uuid => $g/github.com/google/uuid
	github.com/wk8/go-ordered-map/v2 => $w/wk8
	github.com/bahlo/generic-list-go => $w/bahlo
	github.com/buger/jsonparser => $g/github.com/buger/jsonparser
	github.com/mailru/easyjson => $g/github.com/mailru/easyjson
	github.com/josharian/intern => $w/intern
	gopkg.in/yaml.v3 => $g/gopkg.in/yaml.v3
)
MOD
export PATH="/usr/lib/go-1.23/bin:$PATH" GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local GOCACHE="$w/cache" GOPATH="$w/gopath"
(cd "$w/ollama" && go build -o "$w/tmplgold" ./cmd/tmplgold)
t="$repo/tests/data/templates/tools"
rm -rf "$t/golden"
"$w/tmplgold" "$t/conversations.json" "$t/golden" "$t"/*.gotmpl "$repo"/data/templates/*.gotmpl
echo "wrote $(find "$t/golden" -type f | wc -l) renders to $t/golden"
