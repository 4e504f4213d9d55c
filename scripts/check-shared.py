#!/usr/bin/env python3
"""Developer check (not a test: tests never read ../shared): runs
`folio show --json` on every GGUF under ../shared and compares it with the
golden manifest (architecture, file type, parameter count, file size) and
the models README. Prints one line per file; exits 1 on any disagreement.

  scripts/check-shared.py [build/folio] [../shared]
"""
import glob
import json
import os
import subprocess
import sys

folio = sys.argv[1] if len(sys.argv) > 1 else "build/folio"
shared = sys.argv[2] if len(sys.argv) > 2 else "../shared"
FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
              12: "Q3_K_M", 15: "Q4_K_M", 17: "Q5_K_M", 18: "Q6_K", 32: "BF16"}
# Facts from ../shared/models/README.md for the files the manifest lacks.
README = {
    "stories260K.gguf": {"arch": "llama", "n_params": 292800, "tensors": 48},
    "llama-2-tiny-random.gguf": {"arch": "llama", "n_params": 513048, "file_type": "F16", "tensors": 12},
    "ggml-vocab-gpt-2.gguf": {"tensors": 0, "tokenizer": "gpt2", "vocab": 50257},
}

manifest = json.load(open(os.path.join(shared, "golden/models/manifest.json")))
expect = {}
for e in manifest["entries"]:
    name = os.path.basename(e["model"])
    want = expect.setdefault(name, {})
    want["arch"] = e["arch"]
    want["size"] = e["model_size"]
    if e.get("n_params"):
        want["n_params"] = e["n_params"]
    if e.get("file_type") is not None:
        want["file_type"] = FILE_TYPES.get(e["file_type"], e["file_type"])
for name, facts in README.items():
    expect.setdefault(name, {}).update(facts)

bad = 0
files = sorted(glob.glob(os.path.join(shared, "**/*.gguf"), recursive=True))
for path in files:
    name = os.path.basename(path)
    r = subprocess.run([folio, "show", path, "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"REFUSED {path}: {r.stderr.strip()}")
        continue
    j = json.loads(r.stdout)
    got = {"arch": j["details"]["family"], "n_params": j["model_info"]["general.parameter_count"],
           "file_type": j["details"]["quantization_level"], "size": j["file"]["size"],
           "tensors": j["file"]["n_tensors"], "tokenizer": j["model_info"].get("tokenizer.ggml.model")}
    want = expect.get(name, {})
    diffs = [f"{k}: {got.get(k)} != {v}" for k, v in want.items() if k != "vocab" and got.get(k) != v]
    if "vocab" in want:
        n = subprocess.run([folio, "show", path, "--json", "--verbose"], capture_output=True, text=True)
        if len(json.loads(n.stdout)["model_info"]["tokenizer.ggml.tokens"]) != want["vocab"]:
            diffs.append("vocab size")
    status = "ok" if not diffs else "MISMATCH " + "; ".join(diffs)
    bad += bool(diffs)
    print(f"{status:8} {os.path.relpath(path, shared):55} {got['arch']:10} {got['file_type']:7} "
          f"params={got['n_params']} tensors={got['tensors']} checked={sorted(want)}")
sys.exit(1 if bad else 0)
