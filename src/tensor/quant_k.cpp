// Reference conversions for the K-quant super-block types (ref: llama.cpp
// PR #1684 "k-quants"; ggml-quants.c quantize_row_q*_K_ref for the exact
// fitting and rounding steps, which we keep so files match bit for bit).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/quant_ref.h"
#include "tensor/quant_search.h"

namespace folio::ref {

namespace {

template <typename Block>
Block load(const void* src, int64_t i) {
  Block b;
  std::memcpy(&b, static_cast<const uint8_t*>(src) + i * sizeof(Block), sizeof(Block));
  return b;
}

template <typename Block>
void store(void* dst, int64_t i, const Block& b) {
  std::memcpy(static_cast<uint8_t*>(dst) + i * sizeof(Block), &b, sizeof(Block));
}

// Packs 256 2-bit values: byte (j/4 + l) of each 128-value half holds
// values l, l+32, l+64, l+96 at bit offsets 0, 2, 4, 6.
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK_K; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                           (L[j + l + 96] << 6));
    }
  }
}

// Low two bits of value v as pack_2bit stored them.
inline int unpack_2bit(const uint8_t* qs, int v) {
  const int w = v % 128;
  return (qs[32 * (v / 128) + w % 32] >> (2 * (w / 32))) & 3;
}

// Packs the 6-bit scales and mins of the 8 sub-blocks of a Q4_K/Q5_K block
// (inverse of unpack_scale_min_k4).
void pack_scale_min_k4(const uint8_t* ls, const uint8_t* lm, uint8_t* q) {
  std::memset(q, 0, kKScaleBytes);
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      q[j] = ls[j];
      q[j + 4] = lm[j];
    } else {
      q[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
      q[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
      q[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
    }
  }
}

// Shared by Q4_K and Q5_K: fits 8 sub-blocks of 32 with (scale, min),
// quantizes those to 6 bits against the super-block d/dmin, then
// re-quantizes the values against the rounded scales. L receives 0..nmax.
void quantize_k_affine(const float* x, int nmax, float rmin, int nstep, uint16_t* d_out,
                       uint16_t* dmin_out, uint8_t* scales_out, uint8_t* L) {
  float scales[8], mins[8], weights[32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = fit_affine(32, nmax, xs, weights, L + 32 * j, &mins[j], rmin, 0.1f, nstep, false);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t ls[8], lm[8];
  for (int j = 0; j < 8; ++j) {
    ls[j] = static_cast<uint8_t>(std::min(63, round_even(inv_scale * scales[j])));
    lm[j] = static_cast<uint8_t>(std::min(63, round_even(inv_min * mins[j])));
  }
  pack_scale_min_k4(ls, lm, scales_out);
  *d_out = f32_to_fp16(max_scale / 63.f);
  *dmin_out = f32_to_fp16(max_min / 63.f);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    unpack_scale_min_k4(j, scales_out, &sc, &m);
    const float d = fp16_to_f32(*d_out) * sc;
    if (d == 0) continue;
    const float dm = fp16_to_f32(*dmin_out) * m;
    for (int ii = 0; ii < 32; ++ii) {
      const int l = round_even((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    }
  }
}

}  // namespace

// Q2_K: 16 groups of 16 with 4-bit scale and min against d/dmin.
void quantize_q2_k(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    float scales[16], mins[16], weights[16];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = fit_affine(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], -0.5f, 0.1f, 15, true);
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }
    BlockQ2_K b;
    if (max_scale > 0) {
      const float iscale = 15.f / max_scale;
      for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<uint8_t>(round_even(iscale * scales[j]));
      b.d = f32_to_fp16(max_scale / 15.f);
    } else {
      std::memset(b.scales, 0, sizeof b.scales);
      b.d = f32_to_fp16(0.f);
    }
    if (max_min > 0) {
      const float iscale = 15.f / max_min;
      for (int j = 0; j < 16; ++j) b.scales[j] |= static_cast<uint8_t>(round_even(iscale * mins[j]) << 4);
      b.dmin = f32_to_fp16(max_min / 15.f);
    } else {
      b.dmin = f32_to_fp16(0.f);
    }
    for (int j = 0; j < 16; ++j) {
      const float d = fp16_to_f32(b.d) * (b.scales[j] & 0xF);
      if (d == 0) continue;
      const float dm = fp16_to_f32(b.dmin) * (b.scales[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) {
        const int l = round_even((x[16 * j + ii] + dm) / d);
        L[16 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(3, l)));
      }
    }
    pack_2bit(L, b.qs);
    store(dst, i, b);
  }
}

void dequantize_q2_k(const void* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const auto b = load<BlockQ2_K>(src, i);
    const float d = fp16_to_f32(b.d), dmin = fp16_to_f32(b.dmin);
    for (int v = 0; v < kQK_K; ++v) {
      const uint8_t sc = b.scales[v / 16];
      y[v] = d * (sc & 0xF) * unpack_2bit(b.qs, v) - dmin * (sc >> 4);
    }
  }
}

// Q3_K: 16 groups of 16, signed 6-bit scales, values -4..3.
void quantize_q3_k(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    float scales[16];
    float amax = 0, max_scale = 0;
    for (int j = 0; j < 16; ++j) {
      scales[j] = fit_symmetric_refine(16, 4, x + 16 * j, L + 16 * j);
      if (std::fabs(scales[j]) > amax) {
        amax = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    BlockQ3_K b;
    std::memset(b.scales, 0, sizeof b.scales);
    if (max_scale != 0) {
      const float iscale = -32.f / max_scale;
      for (int j = 0; j < 16; ++j) {
        int l = std::max(-32, std::min(31, round_even(iscale * scales[j]))) + 32;
        if (j < 8) b.scales[j] = static_cast<uint8_t>(l & 0xF);
        else b.scales[j - 8] |= static_cast<uint8_t>((l & 0xF) << 4);
        l >>= 4;
        b.scales[j % 4 + 8] |= static_cast<uint8_t>(l << (2 * (j / 4)));
      }
      b.d = f32_to_fp16(1 / iscale);
    } else {
      b.d = f32_to_fp16(0.f);
    }
    int8_t sc[16];
    unpack_scales_q3_k(b.scales, sc);
    for (int j = 0; j < 16; ++j) {
      const float d = fp16_to_f32(b.d) * sc[j];
      if (d == 0) continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = std::max(-4, std::min(3, round_even(x[16 * j + ii] / d)));
        L[16 * j + ii] = static_cast<uint8_t>(l + 4);
      }
    }
    // The high bit of value v goes to hmask[v % 32], bit v / 32.
    std::memset(b.hmask, 0, sizeof b.hmask);
    for (int v = 0; v < kQK_K; ++v) {
      if (L[v] > 3) {
        b.hmask[v % 32] |= static_cast<uint8_t>(1 << (v / 32));
        L[v] -= 4;
      }
    }
    pack_2bit(L, b.qs);
    store(dst, i, b);
  }
}

void dequantize_q3_k(const void* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const auto b = load<BlockQ3_K>(src, i);
    const float d = fp16_to_f32(b.d);
    int8_t sc[16];
    unpack_scales_q3_k(b.scales, sc);
    for (int v = 0; v < kQK_K; ++v) {
      const int high = (b.hmask[v % 32] >> (v / 32)) & 1;
      y[v] = d * sc[v / 16] * (unpack_2bit(b.qs, v) - (high ? 0 : 4));
    }
  }
}

// Q4_K: 8 groups of 32, 6-bit scale and min, values 0..15.
void quantize_q4_k(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    BlockQ4_K b;
    quantize_k_affine(x, 15, -1.f, 20, &b.d, &b.dmin, b.scales, L);
    // qs[32c + l]: value 64c + l in the low nibble, 64c + 32 + l in the high.
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        b.qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
      }
    }
    store(dst, i, b);
  }
}

void dequantize_q4_k(const void* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const auto b = load<BlockQ4_K>(src, i);
    const float d = fp16_to_f32(b.d), dmin = fp16_to_f32(b.dmin);
    for (int v = 0; v < kQK_K; ++v) {
      uint8_t sc, m;
      unpack_scale_min_k4(v / 32, b.scales, &sc, &m);
      const uint8_t byte = b.qs[32 * (v / 64) + v % 32];
      const int q = (v % 64) < 32 ? (byte & 0xF) : (byte >> 4);
      y[v] = d * sc * q - dmin * m;
    }
  }
}

// Q5_K: as Q4_K with a 5th bit per value in qh.
void quantize_q5_k(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    BlockQ5_K b;
    quantize_k_affine(x, 31, -0.5f, 15, &b.d, &b.dmin, b.scales, L);
    // Value 64c + 32h + l: low nibble/high nibble of qs[32c + l] for h = 0/1,
    // 5th bit in qh[l] bit 2c + h.
    std::memset(b.qh, 0, sizeof b.qh);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
        b.qs[32 * c + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
        b.qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
    store(dst, i, b);
  }
}

void dequantize_q5_k(const void* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const auto b = load<BlockQ5_K>(src, i);
    const float d = fp16_to_f32(b.d), dmin = fp16_to_f32(b.dmin);
    for (int v = 0; v < kQK_K; ++v) {
      uint8_t sc, m;
      unpack_scale_min_k4(v / 32, b.scales, &sc, &m);
      const int c = v / 64, h = (v % 64) / 32, l = v % 32;
      const uint8_t byte = b.qs[32 * c + l];
      const int q = (h ? byte >> 4 : byte & 0xF) | (((b.qh[l] >> (2 * c + h)) & 1) << 4);
      y[v] = d * sc * q - dmin * m;
    }
  }
}

// Q6_K: 16 groups of 16, int8 scales, values -32..31.
void quantize_q6_k(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    float scales[16], weights[16];
    float amax = 0, max_scale = 0;
    for (int j = 0; j < 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = x[16 * j + l] * x[16 * j + l];
      scales[j] = fit_symmetric(16, 32, x + 16 * j, weights, L + 16 * j);
      if (std::fabs(scales[j]) > amax) {
        amax = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    BlockQ6_K b;
    if (amax < 1e-15f) {
      std::memset(&b, 0, sizeof b);
      store(dst, i, b);
      continue;
    }
    const float iscale = -128.f / max_scale;
    b.d = f32_to_fp16(1 / iscale);
    for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<int8_t>(std::min(127, round_even(iscale * scales[j])));
    for (int j = 0; j < 16; ++j) {
      const float d = fp16_to_f32(b.d) * b.scales[j];
      if (d == 0) continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = std::max(-32, std::min(31, round_even(x[16 * j + ii] / d)));
        L[16 * j + ii] = static_cast<uint8_t>(l + 32);
      }
    }
    // Per 128-value half c: ql[64c + l] holds values l (low) and l+64 (high),
    // ql[64c + 32 + l] holds l+32 and l+96; qh[32c + l] their top 2 bits.
    for (int c = 0; c < 2; ++c) {
      const uint8_t* Lc = L + 128 * c;
      for (int l = 0; l < 32; ++l) {
        b.ql[64 * c + l] = static_cast<uint8_t>((Lc[l] & 0xF) | ((Lc[l + 64] & 0xF) << 4));
        b.ql[64 * c + 32 + l] = static_cast<uint8_t>((Lc[l + 32] & 0xF) | ((Lc[l + 96] & 0xF) << 4));
        b.qh[32 * c + l] = static_cast<uint8_t>((Lc[l] >> 4) | ((Lc[l + 32] >> 4) << 2) |
                                                ((Lc[l + 64] >> 4) << 4) | ((Lc[l + 96] >> 4) << 6));
      }
    }
    store(dst, i, b);
  }
}

void dequantize_q6_k(const void* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const auto b = load<BlockQ6_K>(src, i);
    const float d = fp16_to_f32(b.d);
    for (int v = 0; v < kQK_K; ++v) {
      const int c = v / 128, g = (v % 128) / 32, l = v % 32;
      const uint8_t byte = b.ql[64 * c + 32 * (g & 1) + l];
      const int lo = g < 2 ? byte & 0xF : byte >> 4;
      const int hi = (b.qh[32 * c + l] >> (2 * g)) & 3;
      y[v] = d * b.scales[v / 16] * ((lo | (hi << 4)) - 32);
    }
  }
}

// Q8_K: x = d * q with d = vmax / -127 (so q = -127 at the largest magnitude).
void quantize_q8_k(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float amax = 0, vmax = 0;
    for (int j = 0; j < kQK_K; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        vmax = x[j];
      }
    }
    BlockQ8_K b;
    if (amax == 0) {
      std::memset(&b, 0, sizeof b);
      store(dst, i, b);
      continue;
    }
    const float iscale = -127.f / vmax;
    for (int j = 0; j < kQK_K; ++j) b.qs[j] = static_cast<int8_t>(std::min(127, round_even(iscale * x[j])));
    for (int j = 0; j < 16; ++j) {
      int sum = 0;
      for (int ii = 0; ii < 16; ++ii) sum += b.qs[16 * j + ii];
      b.bsums[j] = static_cast<int16_t>(sum);
    }
    b.d = 1 / iscale;
    store(dst, i, b);
  }
}

void dequantize_q8_k(const void* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const auto b = load<BlockQ8_K>(src, i);
    for (int j = 0; j < kQK_K; ++j) y[j] = b.d * b.qs[j];
  }
}

}  // namespace folio::ref
