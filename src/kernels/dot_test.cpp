// Every dot kernel in use against the scalar reference, on awkward sizes
// and misaligned pointers; and the reference against a float64 dot of the
// dequantized values.
#include "kernels/dot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "base/cpu.h"
#include "base/rng.h"
#include "tensor/convert.h"

namespace folio {
namespace {

const TensorType kTypes[] = {TensorType::kF32,  TensorType::kF16,  TensorType::kBF16, TensorType::kQ4_0,
                             TensorType::kQ4_1, TensorType::kQ5_0, TensorType::kQ5_1, TensorType::kQ8_0,
                             TensorType::kQ2_K, TensorType::kQ3_K, TensorType::kQ4_K, TensorType::kQ5_K,
                             TensorType::kQ6_K};

std::vector<float> random_floats(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = rng.normal();
  return v;
}

// Bytes of x converted by fn, placed at offset `shift` in a larger buffer.
std::vector<uint8_t> encode(void (*fn)(const float*, void*, int64_t), TensorType t, const std::vector<float>& x,
                            size_t shift) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> out(row_bytes(t, n) + shift);
  fn(x.data(), out.data() + shift, n);
  return out;
}

TEST(DotKernels, SimdMatchesReference) {
  for (TensorType t : kTypes) {
    const DotKernel& k = dot_kernel(t);
    const DotKernel& r = dot_kernel_ref(t);
    ASSERT_NE(k.vec_dot, nullptr) << type_name(t);
    ASSERT_EQ(k.act_type, r.act_type);
    const int64_t bs = type_traits(t).block_size > 1 ? type_traits(t).block_size : 1;
    for (int64_t blocks : {1, 3, 7, 64}) {
      const int64_t n = bs == 1 ? 17 * blocks : bs * blocks;  // plain types: odd lengths too
      const std::vector<float> w = random_floats(n, 1 + n), x = random_floats(n, 2 + n);
      for (size_t shift : {0u, 1u, 2u}) {
        const std::vector<uint8_t> wq = encode(convert_fns(t).from_float, t, w, shift);
        const std::vector<uint8_t> xq = encode(r.quantize_act, r.act_type, x, shift);
        const std::vector<uint8_t> xq_simd = encode(k.quantize_act, k.act_type, x, shift);
        ASSERT_EQ(xq, xq_simd) << type_name(t) << ": activation quantizers differ";
        const float ref = r.vec_dot(n, wq.data() + shift, xq.data() + shift);
        const float got = k.vec_dot(n, wq.data() + shift, xq.data() + shift);
        // Float sums in another order: bounded by the size of the terms.
        std::vector<float> wd(static_cast<size_t>(n)), xd(static_cast<size_t>(n));
        convert_fns(t).to_float(wq.data() + shift, wd.data(), n);
        convert_fns(r.act_type).to_float(xq.data() + shift, xd.data(), n);
        double mag = 0, exact = 0;
        for (int64_t i = 0; i < n; ++i) {
          mag += std::fabs(double(wd[i]) * xd[i]);
          exact += double(wd[i]) * xd[i];
        }
        EXPECT_NEAR(got, ref, 1e-5 * mag + 1e-6) << type_name(t) << " n=" << n << " shift=" << shift;
        // The reference itself is the dot of the dequantized values (Q8_1
        // stores d * sum(q) as F16: the min term carries that rounding).
        const double tol = r.act_type == TensorType::kQ8_1 ? 2e-3 * mag : 1e-5 * mag + 1e-6;
        EXPECT_NEAR(ref, exact, tol) << type_name(t) << " n=" << n;
      }
    }
  }
}

// Tiles of every shape (full 4x4 register tiles and their row and token
// tails), strided rows and misaligned pointers, against the reference dot
// of each (row, token) pair.
void check_tiles(TileFn DotKernel::*which, const std::vector<int>& token_counts, int* checked) {
  for (TensorType t : kTypes) {
    const DotKernel& k = dot_kernel(t);
    const TileFn fn = k.*which;
    if (fn == nullptr) continue;
    const DotKernel& r = dot_kernel_ref(t);
    const int64_t bs = type_traits(t).block_size > 1 ? type_traits(t).block_size : 1;
    for (int64_t blocks : {1, 2, 3, 9}) {
      const int64_t n = bs == 1 ? 13 * blocks + 16 * (blocks - 1) : bs * blocks;
      for (int nr : {1, 3, 4, 9, 17, 33}) {
        for (int nt : token_counts) {
          const size_t shift = static_cast<size_t>(nr + nt) % 3;
          const size_t ws = row_bytes(t, n) + 5, xs = row_bytes(r.act_type, n) + 3;  // odd strides
          std::vector<uint8_t> wbuf(ws * static_cast<size_t>(nr) + shift), xbuf(xs * static_cast<size_t>(nt) + shift);
          for (int i = 0; i < nr; ++i) {
            const std::vector<float> v = random_floats(n, 100 + static_cast<uint64_t>(i) + 7 * static_cast<uint64_t>(n));
            convert_fns(t).from_float(v.data(), wbuf.data() + shift + ws * static_cast<size_t>(i), n);
          }
          for (int j = 0; j < nt; ++j) {
            const std::vector<float> v = random_floats(n, 500 + static_cast<uint64_t>(j) + 3 * static_cast<uint64_t>(n));
            k.quantize_act(v.data(), xbuf.data() + shift + xs * static_cast<size_t>(j), n);
          }
          const size_t ys = static_cast<size_t>(nr) + 2;
          std::vector<float> y(ys * static_cast<size_t>(nt), -7.f);
          fn(n, wbuf.data() + shift, ws, nr, xbuf.data() + shift, xs, nt, y.data(), ys);
          for (int j = 0; j < nt; ++j) {
            for (int i = 0; i < nr; ++i) {
              const uint8_t* wr = wbuf.data() + shift + ws * static_cast<size_t>(i);
              const uint8_t* xr = xbuf.data() + shift + xs * static_cast<size_t>(j);
              const float ref = r.vec_dot(n, wr, xr);
              std::vector<float> wd(static_cast<size_t>(n)), xd(static_cast<size_t>(n));
              convert_fns(t).to_float(wr, wd.data(), n);
              convert_fns(r.act_type).to_float(xr, xd.data(), n);
              double mag = 0;
              for (int64_t e = 0; e < n; ++e) mag += std::fabs(double(wd[static_cast<size_t>(e)]) * xd[static_cast<size_t>(e)]);
              ASSERT_NEAR(y[static_cast<size_t>(j) * ys + static_cast<size_t>(i)], ref, 1e-5 * mag + 1e-6)
                  << type_name(t) << " n=" << n << " nr=" << nr << " nt=" << nt << " row " << i << " token " << j;
              ++*checked;
            }
            for (size_t pad = static_cast<size_t>(nr); pad < ys; ++pad) ASSERT_EQ(y[static_cast<size_t>(j) * ys + pad], -7.f);
          }
        }
      }
    }
  }
}

TEST(DotKernels, TilesMatchReference) {
  int checked = 0;
  check_tiles(&DotKernel::tile, {1, 2, 3, 5, 8}, &checked);
  if (cpu_features().avx512_kernels()) {
    EXPECT_GT(checked, 0) << "no tile kernel on a CPU with AVX-512 VNNI";
  }
}

// The packed-panel kernels for batches: panels of 16 rows with padding
// rows (nr 9, 17, 33), token counts around the 8-token step.
TEST(DotKernels, PanelGemmMatchesReference) {
  int checked = 0;
  check_tiles(&DotKernel::gemm, {16, 17, 23}, &checked);
  if (cpu_features().avx512_kernels()) {
    EXPECT_GT(checked, 0) << "no panel kernel on a CPU with AVX-512 VNNI";
  }
}

// Activation quantizers on inputs where a careless SIMD version differs:
// the largest magnitude twice with both signs (the first one sets the
// sign of the scale), products that land on .5 (round to even), zeros.
TEST(DotKernels, ActivationQuantizersOnTiesAndZeros) {
  for (TensorType t : {TensorType::kQ4_0, TensorType::kQ4_K, TensorType::kQ6_K}) {
    const DotKernel& k = dot_kernel(t);
    const DotKernel& r = dot_kernel_ref(t);
    std::vector<float> x(512);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(static_cast<int>(i % 255) - 127) / 2;
    x[7] = -127.f;
    x[300] = 127.f;
    x[301] = -127.f;
    for (size_t i = 256; i < 272; ++i) x[i] = 0;
    std::vector<float> zeros(256, 0.f);
    for (const std::vector<float>* in : {&x, &zeros}) {
      EXPECT_EQ(encode(r.quantize_act, r.act_type, *in, 0), encode(k.quantize_act, k.act_type, *in, 0))
          << type_name(t);
    }
  }
}

// F16 activations (and KV cache rows): ties to even, subnormals, overflow
// to infinity, signed zeros bit for bit; a NaN stays a NaN.
TEST(DotKernels, F16ActivationsOnEdgeValues) {
  const DotKernel& k = dot_kernel(TensorType::kF16);
  const DotKernel& r = dot_kernel_ref(TensorType::kF16);
  std::vector<float> x = {0.f, -0.f, 1.f, -1.f, 65504.f, 65519.f, 65520.f, -1e9f, 1e-8f, -3e-6f, 5.96e-8f, 2.98e-8f,
                          6.1035156e-5f, 1.00048828125f, 1.00146484375f, 2049.f, 2051.f, std::nanf(""),
                          std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
  for (int i = 0; i < 40; ++i) x.push_back(std::ldexp(1.f + static_cast<float>(i) / 64, i - 30));
  std::vector<uint16_t> want(x.size()), got(x.size());
  for (size_t shift : {0u, 3u}) {  // the vector part and the scalar tail
    r.quantize_act(x.data() + shift, want.data(), static_cast<int64_t>(x.size() - shift));
    k.quantize_act(x.data() + shift, got.data(), static_cast<int64_t>(x.size() - shift));
    for (size_t i = 0; i + shift < x.size(); ++i) {
      if (std::isnan(x[i + shift])) {
        EXPECT_EQ(got[i] & 0x7C00, 0x7C00);
        EXPECT_NE(got[i] & 0x3FF, 0);
      } else {
        EXPECT_EQ(got[i], want[i]) << "x=" << x[i + shift];
      }
    }
  }
}

// On a CPU with AVX-512 VNNI every type folio computes with has the fast
// paths (a type left on the scalar reference runs many times slower).
TEST(DotKernels, EveryTypeHasTilesAndPanelsOnAvx512) {
  const CpuFeatures& f = cpu_features();
  if (!f.avx512_kernels()) GTEST_SKIP() << "no AVX-512 VNNI here";
  for (TensorType t : kTypes) {
    EXPECT_NE(dot_kernel(t).tile, nullptr) << type_name(t);
    EXPECT_NE(dot_kernel(t).gemm, nullptr) << type_name(t);
  }
}

// With AVX2 (+FMA, F16C) every type has a SIMD dot product, not the
// scalar reference (CPUs without AVX-512 run these).
TEST(DotKernels, EveryTypeHasAnAvx2DotProduct) {
  const CpuFeatures& f = cpu_features();
  if (!(f.avx2 && f.fma && f.f16c)) GTEST_SKIP() << "no AVX2 here";
  for (TensorType t : kTypes) EXPECT_NE(dot_kernel(t).vec_dot, dot_kernel_ref(t).vec_dot) << type_name(t);
}

TEST(DotKernels, UnsupportedTypesHaveNoKernel) {
  EXPECT_EQ(dot_kernel(TensorType::kIQ2_XXS).vec_dot, nullptr);
  EXPECT_EQ(dot_kernel(static_cast<TensorType>(99)).vec_dot, nullptr);
}

}  // namespace
}  // namespace folio
