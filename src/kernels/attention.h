// One query's attention over F16 keys and values (the KV cache rows):
// scores = scale * q.k (q rounded to F16 first, as llama.cpp's F16 path),
// optional soft-capping, softmax, then out = sum_j p_j v_j with each p_j
// rounded to F16. The scalar reference is the specification; the AVX-512
// version is tested against it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace folio {

struct AttendArgs {
  const float* q = nullptr;        // head_dim_k
  const uint16_t* k = nullptr;     // key j at k + j * k_stride
  const uint16_t* v = nullptr;     // value j at v + j * v_stride
  size_t k_stride = 0, v_stride = 0;  // in F16 elements
  int64_t n_keys = 0;
  int64_t head_dim_k = 0, head_dim_v = 0;
  float scale = 1.f;
  float softcap = 0.f;             // > 0: s = softcap * tanh(s / softcap)
  float* scores = nullptr;         // scratch, n_keys + head_dim_k floats
  float* out = nullptr;            // head_dim_v
};

using AttendFn = void (*)(const AttendArgs& a);

// The implementation in use (chosen once for the CPU).
AttendFn attend_kernel();
void attend_ref(const AttendArgs& a);

// n floats into F16 cache entries (round to nearest even, as the F16
// activations are converted: the vectorized converter where the CPU has one).
void store_f16(const float* x, uint16_t* y, int64_t n);

}  // namespace folio
