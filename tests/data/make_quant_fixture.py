#!/usr/bin/env python3
"""Builds quant-golden.gguf: one weight tensor of the golden synthetic llama
(blk.0.ffn_down.weight, 256 rows of 512) as F32 and as llama.cpp's
llama-quantize wrote it in each type. The tests quantize the F32 rows with
folio's reference quantizers and compare with these bytes.

Run once by a developer (it reads ../shared, which tests never do):
  tests/data/make_quant_fixture.py ../shared/golden/models tests/data/quant-golden.gguf
"""
import struct
import sys

TENSOR = "blk.0.ffn_down.weight"
SOURCES = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1",
           "q2_k", "q3_k", "q4_k", "q5_k", "q6_k"]
SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
TYPE_SIZE = {0: (1, 4), 1: (1, 2), 30: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24),
             8: (32, 34), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210)}


class Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, fmt):
        v = struct.unpack_from("<" + fmt, self.d, self.p)
        self.p += struct.calcsize("<" + fmt)
        return v[0]

    def string(self):
        n = self.take("Q")
        s = self.d[self.p:self.p + n]
        self.p += n
        return s.decode()

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take("I"), self.take("Q")
            return [self.value(et) for _ in range(n)]
        return self.take(SCALAR[t])


def extract(path):
    data = open(path, "rb").read()
    r = Reader(data)
    assert r.d[:4] == b"GGUF"
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
    for name, dims, t, off in infos:
        if name == TENSOR:
            blk, size = TYPE_SIZE[t]
            n = 1
            for d in dims:
                n *= d
            return dims, t, data[start + off:start + off + n // blk * size]
    raise SystemExit(f"{TENSOR} not in {path}")


def main():
    src, out = sys.argv[1], sys.argv[2]
    tensors = [(s,) + extract(f"{src}/synth-llama-{s}.gguf") for s in SOURCES]
    head = bytearray(b"GGUF") + struct.pack("<IQQ", 3, len(tensors), 1)
    desc = (f"{TENSOR} of llama.cpp's golden synth-llama-*.gguf (commit c392e509), one tensor per type, "
            "named by type").encode()
    head += struct.pack("<Q", 19) + b"general.description" + struct.pack("<IQ", 8, len(desc)) + desc
    off = 0
    for name, dims, t, blob in tensors:
        head += struct.pack("<Q", len(name)) + name.encode() + struct.pack("<I", len(dims))
        head += b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", t, off)
        off += (len(blob) + 31) // 32 * 32
    head += b"\0" * ((-len(head)) % 32)
    with open(out, "wb") as f:
        f.write(head)
        for _, _, _, blob in tensors:
            f.write(blob + b"\0" * ((-len(blob)) % 32))


if __name__ == "__main__":
    main()
