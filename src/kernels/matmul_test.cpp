// matmul against the reference dot of every (row, token) pair, through the
// paths it chooses: one token (matrix-vector), a few tokens (register
// tiles), a batch (packed panels) split over threads at panel boundaries,
// and a batch large enough to be walked in several token chunks.
#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "base/rng.h"
#include "kernels/dot.h"
#include "tensor/convert.h"

namespace folio {
namespace {

void check(TensorType type, int64_t n_in, int64_t n_out, int64_t n_tokens, ThreadPool& pool) {
  Rng rng(static_cast<uint64_t>(n_in * 31 + n_out * 7 + n_tokens));
  const size_t rb = row_bytes(type, n_in);
  std::vector<uint8_t> wdata(rb * static_cast<size_t>(n_out));
  std::vector<float> row(static_cast<size_t>(n_in));
  for (int64_t r = 0; r < n_out; ++r) {
    for (float& f : row) f = rng.normal();
    convert_fns(type).from_float(row.data(), wdata.data() + static_cast<size_t>(r) * rb, n_in);
  }
  WeightView w;
  w.type = type;
  w.n_in = n_in;
  w.n_out = n_out;
  w.row_bytes = rb;
  w.data = wdata.data();
  const int64_t x_stride = n_in + 3, y_stride = n_out + 5;
  std::vector<float> x(static_cast<size_t>(x_stride * n_tokens));
  for (float& f : x) f = rng.normal();
  std::vector<float> y(static_cast<size_t>(y_stride * n_tokens), NAN);
  MatmulScratch scratch;
  matmul(pool, w, x.data(), x_stride, n_tokens, y.data(), y_stride, scratch);
  const DotKernel& ref = dot_kernel_ref(type);
  std::vector<uint8_t> act(row_bytes(ref.act_type, n_in));
  std::vector<float> wd(static_cast<size_t>(n_in)), xd(static_cast<size_t>(n_in));
  for (int64_t t = 0; t < n_tokens; ++t) {
    ref.quantize_act(x.data() + t * x_stride, act.data(), n_in);
    convert_fns(ref.act_type).to_float(act.data(), xd.data(), n_in);
    for (int64_t r = 0; r < n_out; ++r) {
      const uint8_t* wr = wdata.data() + static_cast<size_t>(r) * rb;
      convert_fns(type).to_float(wr, wd.data(), n_in);
      double mag = 0;
      for (int64_t i = 0; i < n_in; ++i) mag += std::fabs(double(wd[static_cast<size_t>(i)]) * xd[static_cast<size_t>(i)]);
      ASSERT_NEAR(y[static_cast<size_t>(t * y_stride + r)], ref.vec_dot(n_in, wr, act.data()), 1e-5 * mag + 1e-6)
          << type_name(type) << " n_in=" << n_in << " n_out=" << n_out << " tokens=" << n_tokens << " row " << r
          << " token " << t;
    }
  }
}

TEST(Matmul, EveryPathMatchesReference) {
  ThreadPool pool(3);
  for (TensorType t : {TensorType::kF32, TensorType::kF16, TensorType::kQ4_0, TensorType::kQ8_0, TensorType::kQ4_K,
                       TensorType::kQ6_K, TensorType::kQ5_K, TensorType::kQ3_K, TensorType::kQ2_K, TensorType::kBF16, TensorType::kQ5_0, TensorType::kQ4_1, TensorType::kQ5_1}) {
    for (int64_t tokens : {1, 3, 16, 21}) {
      check(t, 512, 37, tokens, pool);
      check(t, 256, 50, tokens, pool);
    }
  }
}

TEST(Matmul, BatchLargerThanOneTokenChunk) {
  ThreadPool pool(2);
  check(TensorType::kQ4_0, 4096, 19, 260, pool);  // Q8_0 rows of 4352 bytes: 240 tokens a chunk
}

}  // namespace
}  // namespace folio
