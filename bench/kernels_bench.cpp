// Kernel microbenchmarks (Google Benchmark): the matmul of each weight type
// has, for one token (token generation), 4 tokens (a
// batched decode step of 4 sequences) and 128 tokens (prompt processing),
// on a 2048 x 2048 matrix (Q4_0, Q8_0 also packed: kernels/packed.h) (llama-3.2-1b's attention projections), weights
// hot in cache; and one query's attention over 512 and 4096 keys.
//   build/folio_kernel_bench [--benchmark_filter=Q4_0]
// Not a test: numbers depend on the machine; bench/compare.sh measures the
// whole model against llama.cpp.
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "base/rng.h"
#include "base/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/packed.h"
#include "tensor/convert.h"
#include "tensor/fp16.h"

namespace folio {
namespace {

void BM_Matmul(benchmark::State& state, TensorType type, bool packed = false) {
  const int64_t n_in = 2048, n_out = 2048, tokens = state.range(0);
  Rng rng(1);
  const size_t rb = row_bytes(type, n_in);
  std::vector<uint8_t> w(rb * static_cast<size_t>(n_out));
  std::vector<float> row(static_cast<size_t>(n_in));
  for (int64_t r = 0; r < n_out; ++r) {
    for (float& f : row) f = rng.normal();
    convert_fns(type).from_float(row.data(), w.data() + static_cast<size_t>(r) * rb, n_in);
  }
  std::vector<float> x(static_cast<size_t>(n_in * tokens)), y(static_cast<size_t>(n_out * tokens));
  for (float& f : x) f = rng.normal();
  WeightView view{type, n_in, n_out, 1, rb, w.data()};
  std::vector<uint8_t> pw;
  if (packed) {
    if (!can_pack(type, n_in, n_out)) {
      state.SkipWithError("no packed kernel on this CPU");
      return;
    }
    pw.resize(w.size());
    pack_rows(type, n_in, n_out, w.data(), rb, pw.data());
    view.data = pw.data();
    view.packed = true;
  }
  ThreadPool pool(1);
  MatmulScratch scratch;
  for (auto _ : state) {
    matmul(pool, view, x.data(), n_in, tokens, y.data(), n_out, scratch);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(n_in * n_out * tokens), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["weight B/s"] = benchmark::Counter(static_cast<double>(w.size()), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Attention(benchmark::State& state) {
  const int64_t hd = 64, keys = state.range(0);
  Rng rng(2);
  std::vector<uint16_t> k(static_cast<size_t>(hd * keys)), v(k.size());
  for (auto& e : k) e = f32_to_fp16(rng.normal());
  for (auto& e : v) e = f32_to_fp16(rng.normal());
  std::vector<float> q(static_cast<size_t>(hd)), scores(static_cast<size_t>(keys + hd)), out(static_cast<size_t>(hd));
  for (float& f : q) f = rng.normal();
  AttendArgs a;
  a.q = q.data();
  a.k = k.data();
  a.v = v.data();
  a.k_stride = a.v_stride = static_cast<size_t>(hd);
  a.n_keys = keys;
  a.head_dim_k = a.head_dim_v = hd;
  a.scale = 0.125f;
  a.scores = scores.data();
  a.out = out.data();
  const AttendFn fn = attend_kernel();
  for (auto _ : state) {
    fn(a);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["keys/s"] = benchmark::Counter(static_cast<double>(keys), benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK_CAPTURE(BM_Matmul, F16, TensorType::kF16)->Arg(1)->Arg(4)->Arg(128);
BENCHMARK_CAPTURE(BM_Matmul, Q8_0, TensorType::kQ8_0)->Arg(1)->Arg(4)->Arg(128);
BENCHMARK_CAPTURE(BM_Matmul, Q4_0, TensorType::kQ4_0)->Arg(1)->Arg(4)->Arg(128);
BENCHMARK_CAPTURE(BM_Matmul, Q8_0_packed, TensorType::kQ8_0, true)->Arg(1)->Arg(4)->Arg(128);
BENCHMARK_CAPTURE(BM_Matmul, Q4_0_packed, TensorType::kQ4_0, true)->Arg(1)->Arg(4)->Arg(128);
BENCHMARK_CAPTURE(BM_Matmul, Q4_K, TensorType::kQ4_K)->Arg(1)->Arg(4)->Arg(128);
BENCHMARK_CAPTURE(BM_Matmul, Q6_K, TensorType::kQ6_K)->Arg(1)->Arg(4)->Arg(128);
BENCHMARK_CAPTURE(BM_Matmul, Q5_K, TensorType::kQ5_K)->Arg(1)->Arg(4)->Arg(128);
BENCHMARK_CAPTURE(BM_Matmul, Q3_K, TensorType::kQ3_K)->Arg(1)->Arg(4)->Arg(128);
BENCHMARK_CAPTURE(BM_Matmul, Q2_K, TensorType::kQ2_K)->Arg(1)->Arg(4)->Arg(128);
BENCHMARK_CAPTURE(BM_Matmul, Q4_1, TensorType::kQ4_1)->Arg(1)->Arg(4)->Arg(128);
BENCHMARK_CAPTURE(BM_Matmul, Q5_0, TensorType::kQ5_0)->Arg(1)->Arg(4)->Arg(128);
BENCHMARK_CAPTURE(BM_Matmul, Q5_1, TensorType::kQ5_1)->Arg(1)->Arg(4)->Arg(128);
BENCHMARK_CAPTURE(BM_Matmul, BF16, TensorType::kBF16)->Arg(1)->Arg(4)->Arg(128);
BENCHMARK(BM_Attention)->Arg(512)->Arg(4096);

}  // namespace
}  // namespace folio

BENCHMARK_MAIN();
