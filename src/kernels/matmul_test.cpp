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

struct Matrix {
  std::vector<uint8_t> data;
  WeightView w;
};

Matrix random_matrix(TensorType type, int64_t n_in, int64_t n_out, Rng& rng) {
  Matrix m;
  const size_t rb = row_bytes(type, n_in);
  m.data.resize(rb * static_cast<size_t>(n_out));
  std::vector<float> row(static_cast<size_t>(n_in));
  for (int64_t r = 0; r < n_out; ++r) {
    for (float& f : row) f = rng.normal();
    convert_fns(type).from_float(row.data(), m.data.data() + static_cast<size_t>(r) * rb, n_in);
  }
  m.w.type = type;
  m.w.n_in = n_in;
  m.w.n_out = n_out;
  m.w.row_bytes = rb;
  m.w.data = m.data.data();
  return m;
}

// y against the reference dot of every (row, token) pair.
void verify(const WeightView& w, const std::vector<float>& x, int64_t x_stride, int64_t n_tokens,
            const std::vector<float>& y, int64_t y_stride) {
  const TensorType type = w.type;
  const int64_t n_in = w.n_in, n_out = w.n_out;
  const DotKernel& ref = dot_kernel_ref(type);
  std::vector<uint8_t> act(row_bytes(ref.act_type, n_in));
  std::vector<float> wd(static_cast<size_t>(n_in)), xd(static_cast<size_t>(n_in));
  for (int64_t t = 0; t < n_tokens; ++t) {
    ref.quantize_act(x.data() + t * x_stride, act.data(), n_in);
    convert_fns(ref.act_type).to_float(act.data(), xd.data(), n_in);
    for (int64_t r = 0; r < n_out; ++r) {
      const uint8_t* wr = w.row(r);
      convert_fns(type).to_float(wr, wd.data(), n_in);
      double mag = 0;
      for (int64_t i = 0; i < n_in; ++i) mag += std::fabs(double(wd[static_cast<size_t>(i)]) * xd[static_cast<size_t>(i)]);
      ASSERT_NEAR(y[static_cast<size_t>(t * y_stride + r)], ref.vec_dot(n_in, wr, act.data()), 1e-5 * mag + 1e-6)
          << type_name(type) << " n_in=" << n_in << " n_out=" << n_out << " tokens=" << n_tokens << " row " << r
          << " token " << t;
    }
  }
}

void check(TensorType type, int64_t n_in, int64_t n_out, int64_t n_tokens, ThreadPool& pool) {
  Rng rng(static_cast<uint64_t>(n_in * 31 + n_out * 7 + n_tokens));
  const Matrix m = random_matrix(type, n_in, n_out, rng);
  const int64_t x_stride = n_in + 3, y_stride = n_out + 5;
  std::vector<float> x(static_cast<size_t>(x_stride * n_tokens));
  for (float& f : x) f = rng.normal();
  std::vector<float> y(static_cast<size_t>(y_stride * n_tokens), NAN);
  MatmulScratch scratch;
  matmul(pool, m.w, x.data(), x_stride, n_tokens, y.data(), y_stride, scratch);
  verify(m.w, x, x_stride, n_tokens, y, y_stride);
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

// Matrices of one input in one pass (q, k, v): rows of different counts
// side by side, the threads' runs crossing matrix boundaries; types that
// share the activation type (Q4_K with Q6_K) in one pass, others (Q4_0 with
// Q4_K) one matmul each.
TEST(Matmul, GroupOfMatricesMatchesReference) {
  ThreadPool pool(3);
  const std::vector<std::vector<TensorType>> groups = {
      {TensorType::kQ4_0, TensorType::kQ4_0, TensorType::kQ4_0},
      {TensorType::kQ4_K, TensorType::kQ4_K, TensorType::kQ6_K},
      {TensorType::kQ4_0, TensorType::kQ4_K},
      {TensorType::kF16, TensorType::kF16}};
  for (const auto& types : groups) {
    for (int64_t tokens : {1, 4, 16, 21}) {
      Rng rng(static_cast<uint64_t>(tokens * 13 + static_cast<int64_t>(types.size())));
      const int64_t n_in = 512, counts[] = {37, 64, 50};
      std::vector<Matrix> ms;
      std::vector<std::vector<float>> ys;
      std::vector<MatmulOut> outs;
      for (size_t i = 0; i < types.size(); ++i) ms.push_back(random_matrix(types[i], n_in, counts[i], rng));
      const int64_t x_stride = n_in + 3;
      std::vector<float> x(static_cast<size_t>(x_stride * tokens));
      for (float& f : x) f = rng.normal();
      for (size_t i = 0; i < types.size(); ++i) ys.emplace_back(static_cast<size_t>((counts[i] + 2) * tokens), NAN);
      for (size_t i = 0; i < types.size(); ++i) outs.push_back({&ms[i].w, ys[i].data(), counts[i] + 2});
      MatmulScratch scratch;
      matmul_group(pool, outs.data(), static_cast<int>(outs.size()), x.data(), x_stride, tokens, scratch);
      for (size_t i = 0; i < types.size(); ++i) verify(ms[i].w, x, x_stride, tokens, ys[i], counts[i] + 2);
    }
  }
}

}  // namespace
}  // namespace folio
