// Reference conversions for the plain float types and the 32-value block
// types (ref: ggml-quants.c quantize_row_q*_ref / dequantize_row_q*; the
// rounding steps are kept identical so files match llama.cpp's bit for bit).
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

// Signed value of largest magnitude, and min/max, over one 32-value block.
float signed_absmax(const float* x) {
  float amax = 0, vmax = 0;
  for (int j = 0; j < kQK; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      vmax = x[j];
    }
  }
  return vmax;
}

void min_max(const float* x, float* lo, float* hi) {
  *lo = x[0];
  *hi = x[0];
  for (int j = 1; j < kQK; ++j) {
    *lo = std::min(*lo, x[j]);
    *hi = std::max(*hi, x[j]);
  }
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

void dequantize_f32(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, n * sizeof(float)); }
void quantize_f32(const float* src, void* dst, int64_t n) { std::memcpy(dst, src, n * sizeof(float)); }

void dequantize_f16(const void* src, float* dst, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    dst[i] = fp16_to_f32(h);
  }
}

void quantize_f16(const float* src, void* dst, int64_t n) {
  auto* p = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = f32_to_fp16(src[i]);
    std::memcpy(p + 2 * i, &h, 2);
  }
}

void dequantize_bf16(const void* src, float* dst, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    dst[i] = bf16_to_f32(h);
  }
}

void quantize_bf16(const float* src, void* dst, int64_t n) {
  auto* p = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = f32_to_bf16(src[i]);
    std::memcpy(p + 2 * i, &h, 2);
  }
}

// Q4_0: x = d * (q - 8), d = vmax / -8 so the largest magnitude maps to -8.
void quantize_q4_0(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = signed_absmax(x) / -8;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    BlockQ4_0 b;
    b.d = f32_to_fp16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(15, static_cast<int>(sat_i8(x[j] * id + 8.5f)));
      const int q1 = std::min(15, static_cast<int>(sat_i8(x[j + kQK / 2] * id + 8.5f)));
      b.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
    store(dst, i, b);
  }
}

void dequantize_q4_0(const void* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const auto b = load<BlockQ4_0>(src, i);
    const float d = fp16_to_f32(b.d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = ((b.qs[j] & 0xF) - 8) * d;
      y[j + kQK / 2] = ((b.qs[j] >> 4) - 8) * d;
    }
  }
}

// Q4_1: x = d * q + m, q in 0..15 spanning [min, max].
void quantize_q4_1(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float lo, hi;
    min_max(x, &lo, &hi);
    const float d = (hi - lo) / 15;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    BlockQ4_1 b;
    b.d = f32_to_fp16(d);
    b.m = f32_to_fp16(lo);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(15, static_cast<int>(sat_i8((x[j] - lo) * id + 0.5f)));
      const int q1 = std::min(15, static_cast<int>(sat_i8((x[j + kQK / 2] - lo) * id + 0.5f)));
      b.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
    store(dst, i, b);
  }
}

void dequantize_q4_1(const void* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const auto b = load<BlockQ4_1>(src, i);
    const float d = fp16_to_f32(b.d), m = fp16_to_f32(b.m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = (b.qs[j] & 0xF) * d + m;
      y[j + kQK / 2] = (b.qs[j] >> 4) * d + m;
    }
  }
}

// Q5_0: x = d * (q - 16), the 5th bit of value j in bit j of qh.
void quantize_q5_0(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = signed_absmax(x) / -16;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    BlockQ5_0 b;
    b.d = f32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(31, static_cast<int>(sat_i8(x[j] * id + 16.5f)));
      const int q1 = std::min(31, static_cast<int>(sat_i8(x[j + kQK / 2] * id + 16.5f)));
      b.qs[j] = static_cast<uint8_t>((q0 & 0xF) | ((q1 & 0xF) << 4));
      qh |= static_cast<uint32_t>((q0 >> 4) & 1) << j;
      qh |= static_cast<uint32_t>((q1 >> 4) & 1) << (j + kQK / 2);
    }
    std::memcpy(b.qh, &qh, 4);
    store(dst, i, b);
  }
}

void dequantize_q5_0(const void* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const auto b = load<BlockQ5_0>(src, i);
    const float d = fp16_to_f32(b.d);
    const uint32_t qh = load_u32(b.qh);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = (b.qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      const int q1 = (b.qs[j] >> 4) | (((qh >> (j + kQK / 2)) & 1) << 4);
      y[j] = (q0 - 16) * d;
      y[j + kQK / 2] = (q1 - 16) * d;
    }
  }
}

// Q5_1: x = d * q + m, q in 0..31.
void quantize_q5_1(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float lo, hi;
    min_max(x, &lo, &hi);
    const float d = (hi - lo) / 31;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    BlockQ5_1 b;
    b.d = f32_to_fp16(d);
    b.m = f32_to_fp16(lo);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = static_cast<uint8_t>((x[j] - lo) * id + 0.5f);
      const int q1 = static_cast<uint8_t>((x[j + kQK / 2] - lo) * id + 0.5f);
      b.qs[j] = static_cast<uint8_t>((q0 & 0xF) | ((q1 & 0xF) << 4));
      qh |= static_cast<uint32_t>((q0 >> 4) & 1) << j;
      qh |= static_cast<uint32_t>((q1 >> 4) & 1) << (j + kQK / 2);
    }
    std::memcpy(b.qh, &qh, 4);
    store(dst, i, b);
  }
}

void dequantize_q5_1(const void* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const auto b = load<BlockQ5_1>(src, i);
    const float d = fp16_to_f32(b.d), m = fp16_to_f32(b.m);
    const uint32_t qh = load_u32(b.qh);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = (b.qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      const int q1 = (b.qs[j] >> 4) | (((qh >> (j + kQK / 2)) & 1) << 4);
      y[j] = q0 * d + m;
      y[j + kQK / 2] = q1 * d + m;
    }
  }
}

// Q8_0: x = d * q, d = amax / 127, q rounded half away from zero.
void quantize_q8_0(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    BlockQ8_0 b;
    b.d = f32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) b.qs[j] = sat_i8(std::roundf(x[j] * id));
    store(dst, i, b);
  }
}

void dequantize_q8_0(const void* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const auto b = load<BlockQ8_0>(src, i);
    const float d = fp16_to_f32(b.d);
    for (int j = 0; j < kQK; ++j) y[j] = b.qs[j] * d;
  }
}

// Q8_1: Q8_0 plus s = d * sum(q), the activation type for Q4_1/Q5_1 dots.
void quantize_q8_1(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    BlockQ8_1 b;
    b.d = f32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      b.qs[j] = sat_i8(std::roundf(x[j] * id));
      sum += b.qs[j];
    }
    b.s = f32_to_fp16(static_cast<float>(sum) * d);
    store(dst, i, b);
  }
}

void dequantize_q8_1(const void* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const auto b = load<BlockQ8_1>(src, i);
    const float d = fp16_to_f32(b.d);
    for (int j = 0; j < kQK; ++j) y[j] = b.qs[j] * d;
  }
}

}  // namespace folio::ref
