// The index of the largest of n floats (greedy decoding over the logits):
// the first among equals; NaNs are skipped (none but NaNs, or n == 0: 0).
// The scalar reference is the specification; the AVX-512 version is tested
// against it.
#pragma once

#include <cstdint>

namespace folio {

using ArgmaxFn = int64_t (*)(const float* x, int64_t n);

// The implementation in use (chosen once for the CPU).
ArgmaxFn argmax_kernel();
int64_t argmax_ref(const float* x, int64_t n);

}  // namespace folio
