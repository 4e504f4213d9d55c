// argmax in use against the scalar reference: lengths around the vector
// width, the maximum in the tail, ties (the first wins), NaNs, infinities.
#include "kernels/argmax.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "base/rng.h"

namespace folio {
namespace {

TEST(Argmax, KernelMatchesReference) {
  Rng rng(5);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  for (int64_t n : {1, 2, 15, 16, 17, 31, 33, 1000, 128256}) {
    std::vector<float> x(static_cast<size_t>(n) + 1);
    for (float& v : x) v = rng.normal();
    const float* p = x.data() + 1;  // not 64-byte aligned
    const auto check = [&](const char* what) {
      ASSERT_EQ(argmax_kernel()(p, n), argmax_ref(p, n)) << what << " n=" << n;
    };
    check("random");
    x[static_cast<size_t>(n)] = 10.f;  // the last value (in the tail for most n)
    check("last");
    EXPECT_EQ(argmax_ref(p, n), n - 1);
    if (n >= 3) {
      x[2] = 10.f;  // p[1]: a tie with p[n - 1], the first one wins
      check("tie");
      EXPECT_EQ(argmax_ref(p, n), 1);
      x[2] = nan;  // skipped: p[n - 1] again
      check("nan");
      EXPECT_EQ(argmax_ref(p, n), n - 1);
    }
    for (float& v : x) v = -inf;
    check("all -inf");
    EXPECT_EQ(argmax_ref(p, n), 0);
    for (float& v : x) v = nan;
    check("all nan");
    EXPECT_EQ(argmax_ref(p, n), 0);
  }
  EXPECT_EQ(argmax_kernel()(nullptr, 0), 0);
}

}  // namespace
}  // namespace folio
