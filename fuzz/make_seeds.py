#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/).

Run from the repository root: python3 fuzz/make_seeds.py. Everything here
is generated (tiny GGUF models written field by field below, requests and
Modelfiles spelled out) or copied from folio's own files (data/templates,
tests/data/tokenizer/*.inp); nothing comes from ../shared.
"""
import json
import os
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))


def out(target, name, data):
    d = os.path.join(ROOT, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---- GGUF ------------------------------------------------------------------
T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR = 4, 5, 6, 7, 8, 9
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8


def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value):
    b = gstr(key) + struct.pack("<I", vtype)
    if vtype == T_U32:
        b += struct.pack("<I", value)
    elif vtype == T_I32:
        b += struct.pack("<i", value)
    elif vtype == T_F32:
        b += struct.pack("<f", value)
    elif vtype == T_STR:
        b += gstr(value)
    elif vtype == T_ARR:
        etype, items = value
        b += struct.pack("<IQ", etype, len(items))
        for it in items:
            if etype == T_STR:
                b += gstr(it)
            elif etype == T_F32:
                b += struct.pack("<f", it)
            elif etype == T_I32:
                b += struct.pack("<i", it)
    return b


def f16(x):
    return struct.pack("<e", x)


def tensor_bytes(ggml_type, n, seed):
    vals = [((i * 7919 + seed * 104729) % 200 - 100) / 400.0 for i in range(n)]
    if ggml_type == GGML_F32:
        return b"".join(struct.pack("<f", v) for v in vals)
    if ggml_type == GGML_F16:
        return b"".join(f16(v) for v in vals)
    # Q8_0: blocks of 32: f16 scale, 32 int8.
    b = b""
    for i in range(0, n, 32):
        blk = vals[i:i + 32]
        amax = max(abs(v) for v in blk) or 1.0
        d = amax / 127
        b += f16(d) + bytes((round(v / d) & 0xFF) for v in blk)
    return b


def tiny_llama(n_embd, n_ff, ggml_type, vocab):
    n_head, n_head_kv, n_layer = 2, 1, 1
    head = n_embd // n_head
    kvs = [
        kv("general.architecture", T_STR, "llama"),
        kv("general.name", T_STR, "fuzz-tiny"),
        kv("llama.context_length", T_U32, 64),
        kv("llama.embedding_length", T_U32, n_embd),
        kv("llama.block_count", T_U32, n_layer),
        kv("llama.feed_forward_length", T_U32, n_ff),
        kv("llama.attention.head_count", T_U32, n_head),
        kv("llama.attention.head_count_kv", T_U32, n_head_kv),
        kv("llama.attention.layer_norm_rms_epsilon", T_F32, 1e-5),
        kv("llama.rope.dimension_count", T_U32, head),
        kv("tokenizer.ggml.model", T_STR, "llama"),
        kv("tokenizer.ggml.tokens", T_ARR, (T_STR, vocab)),
        kv("tokenizer.ggml.scores", T_ARR, (T_F32, [-float(i) for i in range(len(vocab))])),
        kv("tokenizer.ggml.token_type", T_ARR, (T_I32, [2, 3, 3] + [1] * (len(vocab) - 3))),
        kv("tokenizer.ggml.bos_token_id", T_U32, 1),
        kv("tokenizer.ggml.eos_token_id", T_U32, 2),
    ]
    nv = len(vocab)
    mat = ggml_type
    tensors = [
        ("token_embd.weight", [n_embd, nv], mat),
        ("output_norm.weight", [n_embd], GGML_F32),
        ("output.weight", [n_embd, nv], mat),
        ("blk.0.attn_norm.weight", [n_embd], GGML_F32),
        ("blk.0.attn_q.weight", [n_embd, n_embd], mat),
        ("blk.0.attn_k.weight", [n_embd, head * n_head_kv], mat),
        ("blk.0.attn_v.weight", [n_embd, head * n_head_kv], mat),
        ("blk.0.attn_output.weight", [n_embd, n_embd], mat),
        ("blk.0.ffn_norm.weight", [n_embd], GGML_F32),
        ("blk.0.ffn_gate.weight", [n_embd, n_ff], mat),
        ("blk.0.ffn_up.weight", [n_embd, n_ff], mat),
        ("blk.0.ffn_down.weight", [n_ff, n_embd], mat),
    ]
    align = 32
    infos, data = b"", b""
    for i, (name, dims, t) in enumerate(tensors):
        n = 1
        for d in dims:
            n *= d
        body = tensor_bytes(t, n, i)
        data += b"\0" * (-len(data) % align)
        infos += gstr(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", t, len(data))
        data += body
    head_bytes = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs) + infos
    head_bytes += b"\0" * (-len(head_bytes) % align)
    return head_bytes + data


VOCAB = ["<unk>", "<s>", "</s>", "\u2581", "\u2581a", "b", "\u2581hello", "<0x41>"]
out("gguf", "llama-f32.gguf", tiny_llama(8, 16, GGML_F32, VOCAB))
out("gguf", "llama-q8_0.gguf", tiny_llama(32, 32, GGML_Q8_0, VOCAB))

# ---- Modelfiles --------------------------------------------------------------
out("modelfile", "basic", "FROM llama3.2\nPARAMETER temperature 0.7\nPARAMETER stop \"<|eot_id|>\"\nSYSTEM You are terse.\n")
out("modelfile", "full", '''# comment
FROM ./model.gguf
ADAPTER ./lora.gguf
TEMPLATE """{{ if .System }}<|system|>{{ .System }}{{ end }}{{ .Prompt }}"""
SYSTEM """Multi
line "quoted" system"""
PARAMETER num_ctx 4096
PARAMETER top_k 40
PARAMETER top_p 0.9
PARAMETER mirostat 2
PARAMETER seed 42
PARAMETER use_mmap false
PARAMETER stop <|im_end|>
PARAMETER stop "User:"
MESSAGE user Hi there
MESSAGE assistant """Hello!
How can I help?"""
LICENSE """MIT License"""
REQUIRES 0.5.0
''')
out("modelfile", "quoted", 'from "model name with spaces"\nsystem "a \\"quote\\" inside"\nparameter repeat_penalty 1.1\n')

# ---- Templates ---------------------------------------------------------------
tdir = os.path.join(ROOT, "..", "data", "templates")
for name in sorted(os.listdir(tdir)):
    if name.endswith(".gotmpl"):
        with open(os.path.join(tdir, name), "rb") as f:
            out("template", name, f.read())
out("template", "funcs", '{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" .Prompt }}{{ printf "%q %5.2f %x %v" .System 3.5 255 .Messages }}'
    '{{ range $i, $m := .Messages }}{{ $i }}{{ if gt $i 0 }},{{ end }}{{ json $m.Role }}{{ slice $m.Content 0 1 }}{{ end }}'
    '{{ with .Tools }}{{ range . }}{{ .Function.Name }}{{ toTypeScriptType .Function.Parameters }}{{ end }}{{ end }}'
    '{{ index .Messages 0 }}{{ len .Messages }}{{ and 1 0 }}{{ or 0 "x" }}{{ not true }}{{ html "<a>" }}{{ js "\'" }}'
    '{{ urlquery "a b" }}{{ currentDate }}{{ range 3 }}{{ . }}{{ break }}{{ end }}{{- /* comment */ -}}')

# ---- Requests (first byte: the route, as request_fuzz.cpp numbers them) ------------
routes = {
    0: [{"model": "fuzz"}, {"model": "fuzz", "verbose": True}, {"name": "plain:v1"}],
    1: [{"source": "fuzz", "destination": "copy/of:fuzz"}],
    2: [{"model": "plain:v1"}],
    3: [{"model": "new", "from": "fuzz", "system": "x", "parameters": {"top_k": 3, "stop": ["a"]},
         "messages": [{"role": "user", "content": "hi"}], "template": "{{ .Prompt }}", "license": "MIT"}],
    4: [{"model": "fuzz", "prompt": "Why is the sky blue?", "stream": False},
        {"model": "fuzz", "prompt": "hi", "system": "s", "template": "{{ .System }}{{ .Prompt }}", "raw": False,
         "context": [1, 2, 3], "options": {"num_predict": 5, "temperature": 0.5, "stop": ["x"]}, "keep_alive": "1m",
         "logprobs": True, "top_logprobs": 2, "format": "json", "suffix": "end"},
        {"model": "plain:v1", "prompt": "hi", "raw": True, "format": {"type": "object", "properties": {"a": {"type": "string"}}}},
        {"model": "fuzz", "prompt": "", "keep_alive": 0}],
    5: [{"model": "fuzz", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "weather?"}],
         "tools": [{"type": "function", "function": {"name": "get_weather", "description": "d",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
         "stream": True, "think": False},
        {"model": "fuzz", "messages": [{"role": "user", "content": "a"},
                                       {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]},
                                       {"role": "tool", "content": "r", "tool_name": "f"}], "options": {"seed": 1}}],
    6: [{"model": "fuzz", "input": ["a", "b"], "truncate": True, "dimensions": 2}, {"model": "fuzz", "input": "x"}],
    7: [{"model": "fuzz", "prompt": "x"}],
    8: [{"model": "fuzz", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}], "stream": True,
         "stream_options": {"include_usage": True}, "max_tokens": 5, "temperature": 0.2, "stop": "x",
         "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
         "response_format": {"type": "json_object"}}],
    9: [{"model": "fuzz", "prompt": "Once", "max_tokens": 3, "seed": 4, "suffix": "s", "echo": False}],
    10: [{"model": "fuzz", "input": ["a", "b"], "encoding_format": "base64"}],
    11: [{}],
    12: [{}],
}
for r, bodies in routes.items():
    for i, b in enumerate(bodies):
        out("request", "route%02d-%d" % (r, i), bytes([r]) + json.dumps(b).encode())

# ---- Tokenizer (first byte: vocabulary index and flags) -------------------------
texts = ["Hello world", " \u00e9t\u00e9 123 4567 \u4e2d\u6587\n\n\t", "<s>[INST] hi [/INST]</s>", "don't  I'll  \U0001F600",
         "   leading and trailing   ", "\u0000\u00ff"]
for v in range(10):
    for i, t in enumerate(texts[:3] if v > 2 else texts):
        flags = (i % 2) << 4 | ((i // 2) % 2) << 5
        out("tokenizer", "v%d-%d" % (v, i), bytes([v | flags]) + t.encode())
