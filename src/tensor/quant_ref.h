// Scalar reference dequantize/quantize for each type: the specification the
// SIMD kernels are tested against. n is a multiple of the type's block size;
// pointers need no alignment. Reached through type_traits(); declared here
// for tests and kernels.
#pragma once

#include <cstdint>

namespace folio::ref {

#define FOLIO_DECLARE_TYPE(t)                                 \
  void dequantize_##t(const void* src, float* dst, int64_t n); \
  void quantize_##t(const float* src, void* dst, int64_t n);

FOLIO_DECLARE_TYPE(f32)
FOLIO_DECLARE_TYPE(f16)
FOLIO_DECLARE_TYPE(bf16)
FOLIO_DECLARE_TYPE(q4_0)
FOLIO_DECLARE_TYPE(q4_1)
FOLIO_DECLARE_TYPE(q5_0)
FOLIO_DECLARE_TYPE(q5_1)
FOLIO_DECLARE_TYPE(q8_0)
FOLIO_DECLARE_TYPE(q8_1)
FOLIO_DECLARE_TYPE(q2_k)
FOLIO_DECLARE_TYPE(q3_k)
FOLIO_DECLARE_TYPE(q4_k)
FOLIO_DECLARE_TYPE(q5_k)
FOLIO_DECLARE_TYPE(q6_k)
FOLIO_DECLARE_TYPE(q8_k)

#undef FOLIO_DECLARE_TYPE

}  // namespace folio::ref
