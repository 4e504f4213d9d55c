// Scalar reference dot products and activation quantizers. Integer sums are
// exact; only the float combination order differs from llama.cpp's SIMD code.
#include <array>
#include <cmath>
#include <cstring>

#include "kernels/dot.h"
#include "tensor/blocks.h"
#include "tensor/convert.h"
#include "tensor/fp16.h"
#include "tensor/quant_search.h"

namespace folio {

namespace {

template <typename Block>
Block load(const void* p, int64_t i) {
  Block b;
  std::memcpy(&b, static_cast<const uint8_t*>(p) + i * sizeof(Block), sizeof(Block));
  return b;
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// ---- activation quantizers (as ggml's x86 CPU backend rounds them) ----

// Q8_0 activations: d = amax/127, q = round-half-even(x * 127/amax).
void act_q8_0(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float id = amax != 0 ? 127.f / amax : 0.f;
    BlockQ8_0 b;
    b.d = f32_to_fp16(amax / 127.f);
    for (int j = 0; j < kQK; ++j) b.qs[j] = sat_i8(std::nearbyint(x[j] * id));
    std::memcpy(static_cast<uint8_t*>(dst) + i * sizeof b, &b, sizeof b);
  }
}

// Q8_1 activations: as Q8_0 plus s = d * sum(q).
void act_q8_1(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.f;
    const float id = amax != 0 ? 127.f / amax : 0.f;
    BlockQ8_1 b;
    b.d = f32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      b.qs[j] = sat_i8(std::nearbyint(x[j] * id));
      sum += b.qs[j];
    }
    b.s = f32_to_fp16(d * static_cast<float>(sum));
    std::memcpy(static_cast<uint8_t*>(dst) + i * sizeof b, &b, sizeof b);
  }
}

// ---- dot products ----

float dot_f32(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint8_t*>(w);
  const auto* b = static_cast<const uint8_t*>(x);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    float wa, xb;
    std::memcpy(&wa, a + 4 * i, 4);
    std::memcpy(&xb, b + 4 * i, 4);
    sum += static_cast<double>(wa) * xb;
  }
  return static_cast<float>(sum);
}

template <float (*Cvt)(uint16_t)>
float dot_half(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint8_t*>(w);
  const auto* b = static_cast<const uint8_t*>(x);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint16_t ha, hb;
    std::memcpy(&ha, a + 2 * i, 2);
    std::memcpy(&hb, b + 2 * i, 2);
    sum += static_cast<double>(Cvt(ha) * Cvt(hb));
  }
  return static_cast<float>(sum);
}

float dot_q4_0_q8_0(int64_t n, const void* w, const void* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    const auto a = load<BlockQ4_0>(w, i);
    const auto b = load<BlockQ8_0>(x, i);
    int isum = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      isum += ((a.qs[j] & 0xF) - 8) * b.qs[j] + ((a.qs[j] >> 4) - 8) * b.qs[j + kQK / 2];
    }
    sum += static_cast<float>(isum) * fp16_to_f32(a.d) * fp16_to_f32(b.d);
  }
  return sum;
}

float dot_q4_1_q8_1(int64_t n, const void* w, const void* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    const auto a = load<BlockQ4_1>(w, i);
    const auto b = load<BlockQ8_1>(x, i);
    int isum = 0;
    for (int j = 0; j < kQK / 2; ++j) isum += (a.qs[j] & 0xF) * b.qs[j] + (a.qs[j] >> 4) * b.qs[j + kQK / 2];
    // sum (d q + m)(dy qy) = d dy sum(q qy) + m * (dy sum(qy))
    sum += static_cast<float>(isum) * fp16_to_f32(a.d) * fp16_to_f32(b.d) + fp16_to_f32(a.m) * fp16_to_f32(b.s);
  }
  return sum;
}

float dot_q5_0_q8_0(int64_t n, const void* w, const void* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    const auto a = load<BlockQ5_0>(w, i);
    const auto b = load<BlockQ8_0>(x, i);
    const uint32_t qh = load_u32(a.qh);
    int isum = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = ((a.qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - 16;
      const int q1 = ((a.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
      isum += q0 * b.qs[j] + q1 * b.qs[j + kQK / 2];
    }
    sum += static_cast<float>(isum) * fp16_to_f32(a.d) * fp16_to_f32(b.d);
  }
  return sum;
}

float dot_q5_1_q8_1(int64_t n, const void* w, const void* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    const auto a = load<BlockQ5_1>(w, i);
    const auto b = load<BlockQ8_1>(x, i);
    const uint32_t qh = load_u32(a.qh);
    int isum = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = (a.qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      const int q1 = (a.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      isum += q0 * b.qs[j] + q1 * b.qs[j + kQK / 2];
    }
    sum += static_cast<float>(isum) * fp16_to_f32(a.d) * fp16_to_f32(b.d) + fp16_to_f32(a.m) * fp16_to_f32(b.s);
  }
  return sum;
}

float dot_q8_0_q8_0(int64_t n, const void* w, const void* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    const auto a = load<BlockQ8_0>(w, i);
    const auto b = load<BlockQ8_0>(x, i);
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += a.qs[j] * b.qs[j];
    sum += static_cast<float>(isum) * fp16_to_f32(a.d) * fp16_to_f32(b.d);
  }
  return sum;
}

// K-quants against Q8_K (x = d * q, bsums = sums of q per 16).

float dot_q2_k_q8_k(int64_t n, const void* w, const void* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto a = load<BlockQ2_K>(w, i);
    const auto b = load<BlockQ8_K>(x, i);
    int isum = 0, summ = 0;
    for (int g = 0; g < 16; ++g) summ += (a.scales[g] >> 4) * b.bsums[g];
    for (int v = 0; v < kQK_K; ++v) {
      const int w2 = v % 128;
      const int q = (a.qs[32 * (v / 128) + w2 % 32] >> (2 * (w2 / 32))) & 3;
      isum += (a.scales[v / 16] & 0xF) * q * b.qs[v];
    }
    sum += b.d * (fp16_to_f32(a.d) * static_cast<float>(isum) - fp16_to_f32(a.dmin) * static_cast<float>(summ));
  }
  return sum;
}

float dot_q3_k_q8_k(int64_t n, const void* w, const void* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto a = load<BlockQ3_K>(w, i);
    const auto b = load<BlockQ8_K>(x, i);
    int8_t sc[16];
    unpack_scales_q3_k(a.scales, sc);
    int isum = 0;
    for (int v = 0; v < kQK_K; ++v) {
      const int w2 = v % 128;
      const int low = (a.qs[32 * (v / 128) + w2 % 32] >> (2 * (w2 / 32))) & 3;
      const int high = (a.hmask[v % 32] >> (v / 32)) & 1;
      isum += sc[v / 16] * (low - (high ? 0 : 4)) * b.qs[v];
    }
    sum += fp16_to_f32(a.d) * b.d * static_cast<float>(isum);
  }
  return sum;
}

float dot_q4_k_q8_k(int64_t n, const void* w, const void* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto a = load<BlockQ4_K>(w, i);
    const auto b = load<BlockQ8_K>(x, i);
    int isum = 0, summ = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      unpack_scale_min_k4(j, a.scales, &sc, &m);
      summ += m * (b.bsums[2 * j] + b.bsums[2 * j + 1]);
      int s = 0;
      for (int l = 0; l < 32; ++l) {
        const uint8_t byte = a.qs[32 * (j / 2) + l];
        s += ((j & 1) ? (byte >> 4) : (byte & 0xF)) * b.qs[32 * j + l];
      }
      isum += sc * s;
    }
    sum += b.d * (fp16_to_f32(a.d) * static_cast<float>(isum) - fp16_to_f32(a.dmin) * static_cast<float>(summ));
  }
  return sum;
}

float dot_q5_k_q8_k(int64_t n, const void* w, const void* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto a = load<BlockQ5_K>(w, i);
    const auto b = load<BlockQ8_K>(x, i);
    int isum = 0, summ = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      unpack_scale_min_k4(j, a.scales, &sc, &m);
      summ += m * (b.bsums[2 * j] + b.bsums[2 * j + 1]);
      const int c = j / 2, h = j & 1;
      int s = 0;
      for (int l = 0; l < 32; ++l) {
        const uint8_t byte = a.qs[32 * c + l];
        const int q = (h ? byte >> 4 : byte & 0xF) | (((a.qh[l] >> (2 * c + h)) & 1) << 4);
        s += q * b.qs[32 * j + l];
      }
      isum += sc * s;
    }
    sum += b.d * (fp16_to_f32(a.d) * static_cast<float>(isum) - fp16_to_f32(a.dmin) * static_cast<float>(summ));
  }
  return sum;
}

float dot_q6_k_q8_k(int64_t n, const void* w, const void* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto a = load<BlockQ6_K>(w, i);
    const auto b = load<BlockQ8_K>(x, i);
    int isum = 0;
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int v = 16 * g; v < 16 * g + 16; ++v) {
        const int c = v / 128, q4 = (v % 128) / 32, l = v % 32;
        const uint8_t byte = a.ql[64 * c + 32 * (q4 & 1) + l];
        const int lo = q4 < 2 ? byte & 0xF : byte >> 4;
        const int hi = (a.qh[32 * c + l] >> (2 * q4)) & 3;
        s += ((lo | (hi << 4)) - 32) * b.qs[v];
      }
      isum += a.scales[g] * s;
    }
    sum += fp16_to_f32(a.d) * b.d * static_cast<float>(isum);
  }
  return sum;
}

std::array<DotKernel, kTensorTypeCount> make_ref_table() {
  std::array<DotKernel, kTensorTypeCount> t{};
  auto set = [&](TensorType w, TensorType act, ActQuantizeFn q, VecDotFn dot) {
    t[static_cast<uint32_t>(w)] = {act, q, dot};
  };
  using T = TensorType;
  set(T::kF32, T::kF32, convert_fns(T::kF32).from_float, dot_f32);
  set(T::kF16, T::kF16, convert_fns(T::kF16).from_float, dot_half<fp16_to_f32>);
  set(T::kBF16, T::kBF16, convert_fns(T::kBF16).from_float, dot_half<bf16_to_f32>);
  set(T::kQ4_0, T::kQ8_0, act_q8_0, dot_q4_0_q8_0);
  set(T::kQ4_1, T::kQ8_1, act_q8_1, dot_q4_1_q8_1);
  set(T::kQ5_0, T::kQ8_0, act_q8_0, dot_q5_0_q8_0);
  set(T::kQ5_1, T::kQ8_1, act_q8_1, dot_q5_1_q8_1);
  set(T::kQ8_0, T::kQ8_0, act_q8_0, dot_q8_0_q8_0);
  const ActQuantizeFn q8k = convert_fns(T::kQ8_K).from_float;
  set(T::kQ2_K, T::kQ8_K, q8k, dot_q2_k_q8_k);
  set(T::kQ3_K, T::kQ8_K, q8k, dot_q3_k_q8_k);
  set(T::kQ4_K, T::kQ8_K, q8k, dot_q4_k_q8_k);
  set(T::kQ5_K, T::kQ8_K, q8k, dot_q5_k_q8_k);
  set(T::kQ6_K, T::kQ8_K, q8k, dot_q6_k_q8_k);
  return t;
}

}  // namespace

const DotKernel& dot_kernel_ref(TensorType t) {
  static const std::array<DotKernel, kTensorTypeCount> table = make_ref_table();
  static const DotKernel none{};
  const auto i = static_cast<uint32_t>(t);
  return i < kTensorTypeCount ? table[i] : none;
}


}  // namespace folio
