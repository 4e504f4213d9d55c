#!/usr/bin/env python3
"""Copies the reference logits the engine tests need from ../shared/golden
into tests/data/golden, and records a hash of the tensor data of each
llama.cpp-quantized synth-llama file, so a test can prove that folio's own
quantization of synth-llama-f32.gguf reproduces those files' weights exactly
(then llama.cpp's logits for them apply to ours). Run by a developer:

  tests/data/make_golden_fixtures.py ../shared/golden tests/data
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_quant_fixture import Reader  # noqa: E402

TYPES = ["f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q4_k_m"]
# The other architectures' synthetic models (F16, random weights): the
# model files too, since their logits depend on those exact weights.
ARCHS = ["synth-qwen2-f16", "synth-phi3-f16", "synth-gemma2-f16", "synth-llama-moe-f16", "synth-deepseek2-f16"]
LOGITS = ARCHS + ["synth-deepseek2-q4_k_m", "stories260K", "stories260K.prompt1", "stories260K.prompt2", "stories260K.prompt3",
          "llama-2-tiny-random", "synth-llama-f32"] + [f"synth-llama-{t}" for t in TYPES]
SIZES = {0: (1, 4), 1: (1, 2), 30: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
         10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210)}


def fnv1a64(h, data):
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def tensor_hash(path):
    """FNV-1a 64 over (name, type id as one byte, data) of every tensor, by name."""
    data = open(path, "rb").read()
    r = Reader(data)
    r.p = 4
    _, n_tensors, n_kv = r.take("I"), r.take("Q"), r.take("Q")
    align = 32
    for _ in range(n_kv):
        key = r.string()
        v = r.value(r.take("I"))
        if key == "general.alignment":
            align = v
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        dims = [r.take("Q") for _ in range(r.take("I"))]
        infos.append((name, dims, r.take("I"), r.take("Q")))
    start = (r.p + align - 1) // align * align
    h = 0xcbf29ce484222325
    for name, dims, t, off in sorted(infos):
        n = 1
        for d in dims:
            n *= d
        blk, size = SIZES[t]
        h = fnv1a64(h, name.encode() + bytes([t]))
        h = fnv1a64(h, data[start + off:start + off + n // blk * size])
    return h


def main():
    golden, out = sys.argv[1], sys.argv[2]
    dst = os.path.join(out, "golden")
    os.makedirs(dst, exist_ok=True)
    for name in LOGITS:
        for ext in (".logits.json", ".logits.bin"):
            shutil.copyfile(os.path.join(golden, "models", name + ext), os.path.join(dst, name + ext))
    for name in ["synth-llama-f32"] + ARCHS:
        shutil.copyfile(os.path.join(golden, "models", name + ".gguf"), os.path.join(out, name + ".gguf"))
    hashes = {t: "%016x" % tensor_hash(os.path.join(golden, "models", f"synth-llama-{t}.gguf")) for t in TYPES}
    with open(os.path.join(dst, "synth-llama-tensor-hashes.json"), "w") as f:
        json.dump({"hash": "fnv1a64 over (name, type byte, data) of each tensor, sorted by name",
                   "source": "llama.cpp c392e509 llama-quantize [--pure] synth-llama-f32.gguf OUT TYPE",
                   "tensors": hashes}, f, indent=1)


if __name__ == "__main__":
    main()
