// Dot products of a weight row (in its storage type) with an activation row
// quantized to the type the weight pairs with (ref: ggml type_traits
// vec_dot_type: Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for the
// K-quants, F16/BF16 for F16/BF16, F32 for F32). Quantizing activations the
// way llama.cpp does keeps our logits within its rounding of the reference.
//
// One table indexed by weight type; filled once at start with the best
// implementation the CPU supports: the scalar reference, AVX2 dot products,
// AVX-512 VNNI tiles.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/types.h"

namespace folio {

// Returns sum_i w[i] * x[i] over n values (a multiple of the block size).
using VecDotFn = float (*)(int64_t n, const void* w, const void* x);
// Converts n floats into the activation type (like QuantizeFn).
using ActQuantizeFn = void (*)(const float* src, void* dst, int64_t n);

// A tile of dot products: y[t * y_stride + r] = dot(weight row r, activation
// row t) for r < nr, t < nt (any sizes; the kernel walks them in its own
// register tiles, so each decoded weight block serves several tokens and
// each activation block several rows).
using TileFn = void (*)(int64_t n, const uint8_t* w, size_t w_stride, int nr, const uint8_t* x, size_t x_stride,
                        int nt, float* y, size_t y_stride);

struct DotKernel {
  TensorType act_type = TensorType::kF32;  // the activation type it pairs with
  ActQuantizeFn quantize_act = nullptr;
  VecDotFn vec_dot = nullptr;              // nullptr: folio cannot compute with this type
  TileFn tile = nullptr;                   // nullptr: matmul loops over vec_dot
  // For batches of at least kGemmMinTokens tokens: the same contract as
  // tile, with weights decoded once into a packed panel of kGemmRows rows
  // per chunk of tokens (nullptr: tile).
  TileFn gemm = nullptr;
};

inline constexpr int kGemmMinTokens = 16;
inline constexpr int kGemmRows = 32;

// The kernel in use for weights of type t (never fails; check vec_dot).
const DotKernel& dot_kernel(TensorType t);

// The scalar reference kernel for t, the specification the SIMD versions
// are tested against.
const DotKernel& dot_kernel_ref(TensorType t);

}  // namespace folio
