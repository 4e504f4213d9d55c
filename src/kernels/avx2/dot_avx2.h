// AVX2/FMA/F16C kernels (call only when the CPU has them: kernels/dot.cpp
// checks cpu_features() once).
#pragma once

#include <cstdint>

namespace folio::avx2 {

float dot_f32(int64_t n, const void* w, const void* x);
float dot_f16(int64_t n, const void* w, const void* x);
float dot_q4_0_q8_0(int64_t n, const void* w, const void* x);
float dot_q8_0_q8_0(int64_t n, const void* w, const void* x);
float dot_q4_k_q8_k(int64_t n, const void* w, const void* x);
float dot_q6_k_q8_k(int64_t n, const void* w, const void* x);
float dot_bf16(int64_t n, const void* w, const void* x);
float dot_q5_0_q8_0(int64_t n, const void* w, const void* x);
float dot_q4_1_q8_1(int64_t n, const void* w, const void* x);
float dot_q5_1_q8_1(int64_t n, const void* w, const void* x);
float dot_q5_k_q8_k(int64_t n, const void* w, const void* x);
float dot_q2_k_q8_k(int64_t n, const void* w, const void* x);
float dot_q3_k_q8_k(int64_t n, const void* w, const void* x);
void quantize_act_q8_0(const float* x, void* dst, int64_t n);
void quantize_act_f16(const float* x, void* dst, int64_t n);

}  // namespace folio::avx2
