#include "kernels/packed.h"

#include <cstring>
#include <vector>

#include "base/cpu.h"
#include "kernels/avx512/packed_avx512.h"
#include "tensor/blocks.h"
#include "tensor/convert.h"

namespace folio {

namespace {

// The legacy 32-value blocks the layout covers: f16 d, then the qs bytes.
struct Legacy {
  size_t block = 0;  // bytes a block
  int dwords = 0;    // qs dwords a block (D)
  uint8_t flip = 0;  // xor applied to the stored value bytes
};

Legacy legacy(TensorType t) {
  if (t == TensorType::kQ4_0) return {sizeof(BlockQ4_0), 4, 0};
  if (t == TensorType::kQ8_0) return {sizeof(BlockQ8_0), 8, 0x80};
  return {};
}

// Byte offsets, in a panel of nb blocks, of block j's scale of lane l and
// of its value dword c of lane l.
size_t scale_at(int64_t j, int l) { return (static_cast<size_t>(j) * kPackRows + static_cast<size_t>(l)) * 2; }
size_t dword_at(const Legacy& g, int64_t nb, int64_t j, int c, int l) {
  return static_cast<size_t>(nb) * kPackRows * 2 +
         ((static_cast<size_t>(j) * static_cast<size_t>(g.dwords) + static_cast<size_t>(c)) * kPackRows + static_cast<size_t>(l)) * 4;
}

void packed_ref(TensorType t, int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt,
                float* y, size_t ys) {
  const DotKernel& ref = dot_kernel_ref(t);
  std::vector<uint8_t> row(ws);
  for (int r = 0; r < nr; ++r) {
    unpack_row(t, n, w, r, row.data());
    for (int k = 0; k < nt; ++k) y[static_cast<size_t>(k) * ys + static_cast<size_t>(r)] = ref.vec_dot(n, row.data(), x + static_cast<size_t>(k) * xs);
  }
}

void ref_q4_0(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y, size_t ys) {
  packed_ref(TensorType::kQ4_0, n, w, ws, nr, x, xs, nt, y, ys);
}
void ref_q8_0(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y, size_t ys) {
  packed_ref(TensorType::kQ8_0, n, w, ws, nr, x, xs, nt, y, ys);
}

}  // namespace

bool can_pack(TensorType t, int64_t n_in, int64_t n_out) {
  return packed_kernel(t) != nullptr && n_in > 0 && n_in % kQK == 0 && n_out > 0 && n_out % kPackRows == 0;
}

void pack_rows(TensorType t, int64_t n_in, int64_t n_out, const uint8_t* src, size_t src_stride, uint8_t* dst) {
  const Legacy g = legacy(t);
  const int64_t nb = n_in / kQK;
  const size_t panel_bytes = kPackRows * row_bytes(t, n_in);
  for (int64_t p = 0; p < n_out / kPackRows; ++p) {
    uint8_t* o = dst + static_cast<size_t>(p) * panel_bytes;
    for (int l = 0; l < kPackRows; ++l) {
      const uint8_t* row = src + static_cast<size_t>(p * kPackRows + l) * src_stride;
      for (int64_t j = 0; j < nb; ++j) {
        const uint8_t* b = row + static_cast<size_t>(j) * g.block;
        std::memcpy(o + scale_at(j, l), b, 2);
        const uint32_t flip = 0x01010101u * g.flip;
        for (int c = 0; c < g.dwords; ++c) {
          uint32_t v;
          std::memcpy(&v, b + 2 + 4 * c, 4);
          v ^= flip;
          std::memcpy(o + dword_at(g, nb, j, c, l), &v, 4);
        }
      }
    }
  }
}

void unpack_row(TensorType t, int64_t n_in, const uint8_t* packed, int64_t r, uint8_t* row) {
  const Legacy g = legacy(t);
  const int64_t nb = n_in / kQK;
  const uint8_t* panel = packed + static_cast<size_t>(r / kPackRows) * kPackRows * row_bytes(t, n_in);
  const int l = static_cast<int>(r % kPackRows);
  for (int64_t j = 0; j < nb; ++j) {
    uint8_t* b = row + static_cast<size_t>(j) * g.block;
    std::memcpy(b, panel + scale_at(j, l), 2);
    for (int c = 0; c < g.dwords; ++c) {
      const uint8_t* d = panel + dword_at(g, nb, j, c, l);
      for (int i = 0; i < 4; ++i) b[2 + 4 * c + i] = static_cast<uint8_t>(d[i] ^ g.flip);
    }
  }
}

TileFn packed_kernel(TensorType t) {
  if (!cpu_features().avx512_kernels()) return nullptr;
  if (t == TensorType::kQ4_0) return avx512::packed_q4_0_q8_0;
  if (t == TensorType::kQ8_0) return avx512::packed_q8_0_q8_0;
  return nullptr;
}

TileFn packed_kernel_ref(TensorType t) {
  if (t == TensorType::kQ4_0) return ref_q4_0;
  if (t == TensorType::kQ8_0) return ref_q8_0;
  return nullptr;
}

}  // namespace folio
