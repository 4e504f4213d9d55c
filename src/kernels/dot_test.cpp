// Every dot kernel in use against the scalar reference, on awkward sizes
// and misaligned pointers; and the reference against a float64 dot of the
// dequantized values.
#include "kernels/dot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

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

TEST(DotKernels, UnsupportedTypesHaveNoKernel) {
  EXPECT_EQ(dot_kernel(TensorType::kIQ2_XXS).vec_dot, nullptr);
  EXPECT_EQ(dot_kernel(static_cast<TensorType>(99)).vec_dot, nullptr);
}

}  // namespace
}  // namespace folio
