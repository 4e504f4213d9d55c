// The gated activations in use against the scalar reference: lengths that
// are and are not multiples of the vector width, misaligned rows, and
// arguments from tiny to far past where exp overflows.
#include "kernels/gated_act.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "base/rng.h"

namespace folio {
namespace {

TEST(GatedAct, KernelMatchesReference) {
  Rng rng(11);
  const float special[] = {0.f, -0.f, 1e-20f, -1e-20f, 1e-3f, -1e-3f, 5.f, -5.f, 20.f, -20.f,
                           80.f, -80.f, 90.f, -90.f, 200.f, -200.f, 1e30f, -1e30f};
  for (GatedAct act : {GatedAct::kSilu, GatedAct::kGeluTanh}) {
    for (int64_t n : {1, 15, 16, 17, 100, 1003}) {
      std::vector<float> x(static_cast<size_t>(n) + 1), up(static_cast<size_t>(n) + 1);
      for (int64_t i = 0; i < n; ++i) {
        const size_t k = static_cast<size_t>(i);
        x[k + 1] = i < 18 && n > 17 ? special[k] : 6 * rng.normal();
        up[k + 1] = rng.normal();
      }
      std::vector<float> want = x, got = x;
      gated_act_ref(act)(want.data() + 1, up.data() + 1, n);  // + 1: rows not 64-byte aligned
      gated_act_kernel(act)(got.data() + 1, up.data() + 1, n);
      for (int64_t i = 1; i <= n; ++i) {
        const size_t k = static_cast<size_t>(i);
        // Relative to |x * up|: the reference's 1 + tanh(u) loses up to an
        // f32 ulp of 1 where tanh(u) is near -1; the polynomial exp is
        // within 2e-7.
        const double tol = 2e-6 * std::fabs(static_cast<double>(x[k]) * up[k]) + 1e-30;
        ASSERT_NEAR(got[k], want[k], tol) << (act == GatedAct::kSilu ? "silu" : "gelu") << " n=" << n << " x=" << x[k];
      }
    }
  }
  // The first value past the vector tail is left alone.
  std::vector<float> g(20, 1.f), u(20, 1.f);
  gated_act_kernel(GatedAct::kSilu)(g.data(), u.data(), 17);
  EXPECT_EQ(g[17], 1.f);
}

}  // namespace
}  // namespace folio
