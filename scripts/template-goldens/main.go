// tmplgold renders chat templates with Ollama's own template package, for
// folio's golden tests. Usage:
//   tmplgold CONVERSATIONS.json OUTDIR TEMPLATE.gotmpl...
// CONVERSATIONS.json: {"name": {"messages": [...], "tools": [...]}, ...}
// writes OUTDIR/<template file name>/<conversation name> (exact bytes).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/template"
)

type conversation struct {
	Messages []api.Message `json:"messages"`
	Tools    api.Tools     `json:"tools"`
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: tmplgold CONVERSATIONS.json OUTDIR TEMPLATE.gotmpl...")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	convs := map[string]conversation{}
	if err := json.Unmarshal(raw, &convs); err != nil {
		panic(err)
	}
	names := make([]string, 0, len(convs))
	for n := range convs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, path := range os.Args[3:] {
		text, err := os.ReadFile(path)
		if err != nil {
			panic(err)
		}
		tmpl, err := template.Parse(string(text))
		if err != nil {
			panic(fmt.Sprintf("%s: %v", path, err))
		}
		dir := filepath.Join(os.Args[2], filepath.Base(path))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			panic(err)
		}
		for _, n := range names {
			c := convs[n]
			var b bytes.Buffer
			if err := tmpl.Execute(&b, template.Values{Messages: c.Messages, Tools: c.Tools}); err != nil {
				panic(fmt.Sprintf("%s/%s: %v", path, n, err))
			}
			if err := os.WriteFile(filepath.Join(dir, n), b.Bytes(), 0o644); err != nil {
				panic(err)
			}
		}
	}
}
