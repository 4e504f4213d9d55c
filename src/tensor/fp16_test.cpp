#include "tensor/fp16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace folio {
namespace {

// Exhaustive: every half round-trips through f32 exactly.
TEST(Fp16, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(fp16_to_f32(f32_to_fp16(f)))) << h;
      continue;
    }
    EXPECT_EQ(f32_to_fp16(f), h) << "half 0x" << std::hex << h;
  }
}

// Rounding to nearest even, checked against a double-precision search of
// the nearest representable half for many floats.
TEST(Fp16, RoundsToNearestEven) {
  auto nearest = [](float f) {
    uint16_t best = 0;
    double best_err = INFINITY;
    for (uint32_t h = 0; h < 0x7C00; ++h) {
      const double v = fp16_to_f32(static_cast<uint16_t>(h));
      const double err = std::fabs(v - std::fabs(static_cast<double>(f)));
      if (err < best_err || (err == best_err && (h & 1) == 0)) {
        best_err = err;
        best = static_cast<uint16_t>(h);
      }
    }
    return static_cast<uint16_t>((f < 0 ? 0x8000 : 0) | best);
  };
  const float samples[] = {0.1f, -0.1f, 1.0f / 3, 65504.f, 65519.f, 6.1e-5f, 5.96e-8f, 2.98e-8f, 2.99e-8f,
                           1e-6f, -3.14159f, 1234.5678f, 0.000123f, 1.00048828125f, 1.000732421875f};
  for (float f : samples) EXPECT_EQ(f32_to_fp16(f), nearest(f)) << f;
}

TEST(Fp16, SpecialValues) {
  EXPECT_EQ(f32_to_fp16(0.f), 0x0000);
  EXPECT_EQ(f32_to_fp16(-0.f), 0x8000);
  EXPECT_EQ(f32_to_fp16(65520.f), 0x7C00);  // rounds up to infinity
  EXPECT_EQ(f32_to_fp16(1e10f), 0x7C00);
  EXPECT_EQ(f32_to_fp16(-INFINITY), 0xFC00);
  EXPECT_EQ(f32_to_fp16(1e-10f), 0x0000);
  EXPECT_TRUE(std::isnan(fp16_to_f32(f32_to_fp16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3F808000)), 0x3F80);  // tie, even stays
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3F818000)), 0x3F82);  // tie, odd rounds up
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3F808001)), 0x3F81);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  for (uint32_t b = 0; b < 0x10000; b += 7) {
    const float f = bf16_to_f32(static_cast<uint16_t>(b));
    if (!std::isnan(f)) {
      EXPECT_EQ(f32_to_bf16(f), b);
    }
  }
}

}  // namespace
}  // namespace folio
