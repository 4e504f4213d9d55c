// Dot products of a weight row (in its storage type) with an activation row
// quantized to the type the weight pairs with (ref: ggml type_traits
// vec_dot_type: Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for the
// K-quants, F16/BF16 for F16/BF16, F32 for F32). Quantizing activations the
// way llama.cpp does keeps our logits within its rounding of the reference.
//
// One table indexed by weight type; filled once at start with the best
// implementation the CPU supports (scalar reference today).
#pragma once

#include <cstdint>

#include "gguf/types.h"

namespace folio {

// Returns sum_i w[i] * x[i] over n values (a multiple of the block size).
using VecDotFn = float (*)(int64_t n, const void* w, const void* x);
// Converts n floats into the activation type (like QuantizeFn).
using ActQuantizeFn = void (*)(const float* src, void* dst, int64_t n);

struct DotKernel {
  TensorType act_type = TensorType::kF32;  // the activation type it pairs with
  ActQuantizeFn quantize_act = nullptr;
  VecDotFn vec_dot = nullptr;              // nullptr: folio cannot compute with this type
};

// The kernel in use for weights of type t (never fails; check vec_dot).
const DotKernel& dot_kernel(TensorType t);

// The scalar reference kernel for t, the specification the SIMD versions
// are tested against.
const DotKernel& dot_kernel_ref(TensorType t);

}  // namespace folio
