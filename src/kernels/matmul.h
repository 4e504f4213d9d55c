// Weight x activations on the mapped blocks, in place: y = W x for a batch
// of token vectors. Activations are quantized once to the weight's
// activation type; rows of W are split across the pool's threads and each
// row is read once for the whole batch.
#pragma once

#include <cstdint>
#include <vector>

#include "base/thread_pool.h"
#include "gguf/types.h"

namespace folio {

// A 2-D (or 3-D, for expert stacks) weight view into a mapping.
struct WeightView {
  TensorType type = TensorType::kF32;
  int64_t n_in = 0;    // ne[0]: values per row
  int64_t n_out = 0;   // ne[1]: rows
  int64_t n_mat = 1;   // ne[2]: matrices (experts)
  size_t row_bytes = 0;
  const uint8_t* data = nullptr;
  // The rows are in kernels/packed.h's panels (repacked at load), not in
  // GGUF rows: row(r) is then a panel's start for r a multiple of 16.
  bool packed = false;

  const uint8_t* row(int64_t r, int64_t mat = 0) const {
    return data + (static_cast<size_t>(mat) * n_out + r) * row_bytes;
  }
};

// Scratch for quantized activations, reused across calls.
struct MatmulScratch {
  std::vector<uint8_t> act;
};

// y[t * y_stride + r] = dot(W row r, x[t * x_stride ..]) for t < n_tokens,
// r < W.n_out. x holds n_tokens rows of W.n_in floats.
void matmul(ThreadPool& pool, const WeightView& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y,
            int64_t y_stride, MatmulScratch& scratch);

// Several matrices that take the same input (a layer's q, k and v; gate
// and up): y_i = W_i x. When they pair with the same activation type the
// input is quantized once and the rows of all of them are split over the
// threads in one pass (one hand-off instead of one per matrix); else one
// matmul each.
struct MatmulOut {
  const WeightView* w = nullptr;
  float* y = nullptr;
  int64_t y_stride = 0;
};
void matmul_group(ThreadPool& pool, const MatmulOut* outs, int count, const float* x, int64_t x_stride,
                  int64_t n_tokens, MatmulScratch& scratch);

// Dequantizes row r of W (e.g. an embedding lookup) into out[0..n_in);
// packed or not.
void dequantize_row(const WeightView& w, int64_t r, float* out);

}  // namespace folio
