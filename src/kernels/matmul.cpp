#include "kernels/matmul.h"

#include "base/check.h"
#include "kernels/dot.h"
#include "tensor/convert.h"

namespace folio {

void matmul(ThreadPool& pool, const WeightView& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y,
            int64_t y_stride, MatmulScratch& scratch) {
  const DotKernel& k = dot_kernel(w.type);
  FOLIO_CHECK(k.vec_dot != nullptr);
  const size_t act_row = row_bytes(k.act_type, w.n_in);
  scratch.act.resize(act_row * static_cast<size_t>(n_tokens));
  uint8_t* act = scratch.act.data();
  pool.parallel_for(n_tokens, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) k.quantize_act(x + t * x_stride, act + t * act_row, w.n_in);
  });
  pool.parallel_for(w.n_out, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* row = w.row(r);
      for (int64_t t = 0; t < n_tokens; ++t) y[t * y_stride + r] = k.vec_dot(w.n_in, row, act + t * act_row);
    }
  });
}

void dequantize_row(const WeightView& w, int64_t r, float* out) {
  const ConvertFns& c = convert_fns(w.type);
  FOLIO_CHECK(c.to_float != nullptr);
  c.to_float(w.row(r), out, w.n_in);
}

}  // namespace folio
