// The packed layout (kernels/packed.h): rows come back byte for byte, the
// reference kernel on packed rows is the reference dot on the GGUF rows,
// and the SIMD kernel matches it on every path (1..15 tokens in passes of
// 4, the panel GEMM from 16), at odd block counts and misaligned buffers;
// matmul on a packed view gives the results of the GGUF view.
#include "kernels/packed.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "base/rng.h"
#include "base/thread_pool.h"
#include "kernels/matmul.h"
#include "tensor/convert.h"

namespace folio {
namespace {

std::vector<uint8_t> random_rows(TensorType t, int64_t n_in, int64_t n_out, Rng& rng) {
  const size_t rb = row_bytes(t, n_in);
  std::vector<uint8_t> data(rb * static_cast<size_t>(n_out));
  std::vector<float> row(static_cast<size_t>(n_in));
  for (int64_t r = 0; r < n_out; ++r) {
    // Rows of different scales, and a few with an extreme value (Q8_0's
    // +-127 / Q4_0's 0 and 15 codes).
    const float scale = 0.1f + static_cast<float>(r % 5);
    for (float& f : row) f = scale * rng.normal();
    if (r % 3 == 0) row[static_cast<size_t>(r) % row.size()] = 40.f * scale;
    convert_fns(t).from_float(row.data(), data.data() + static_cast<size_t>(r) * rb, n_in);
  }
  return data;
}

// nt quantized activation rows, xs bytes apart, starting at byte offset 1
// of the returned buffer (misaligned on purpose).
std::vector<uint8_t> activations(TensorType t, int64_t n_in, int nt, size_t xs, Rng& rng) {
  const DotKernel& ref = dot_kernel_ref(t);
  std::vector<uint8_t> buf(1 + xs * static_cast<size_t>(nt));
  std::vector<float> x(static_cast<size_t>(n_in));
  for (int k = 0; k < nt; ++k) {
    for (float& f : x) f = rng.normal() * (k % 2 ? 3.f : 0.5f);
    ref.quantize_act(x.data(), buf.data() + 1 + static_cast<size_t>(k) * xs, n_in);
  }
  return buf;
}

// sum |w_i x_i| of a GGUF row and an activation row: the scale of the
// rounding a dot in another order may differ by.
double magnitude(TensorType t, int64_t n_in, const uint8_t* w, const uint8_t* x) {
  std::vector<float> wf(static_cast<size_t>(n_in)), xf(wf);
  convert_fns(t).to_float(w, wf.data(), n_in);
  convert_fns(dot_kernel_ref(t).act_type).to_float(x, xf.data(), n_in);
  double m = 0;
  for (size_t i = 0; i < wf.size(); ++i) m += std::fabs(double(wf[i]) * xf[i]);
  return m;
}

constexpr TensorType kTypes[] = {TensorType::kQ4_0, TensorType::kQ8_0};

TEST(Packed, RowsComeBackByteForByte) {
  Rng rng(7);
  for (TensorType t : kTypes) {
    for (int64_t n_in : {32, 96, 2048}) {
      const int64_t n_out = 48;
      const size_t rb = row_bytes(t, n_in);
      const auto src = random_rows(t, n_in, n_out, rng);
      std::vector<uint8_t> packed(src.size()), row(rb);
      pack_rows(t, n_in, n_out, src.data(), rb, packed.data());
      EXPECT_NE(0, std::memcmp(packed.data(), src.data(), src.size())) << type_name(t);
      for (int64_t r = 0; r < n_out; ++r) {
        unpack_row(t, n_in, packed.data(), r, row.data());
        ASSERT_EQ(0, std::memcmp(row.data(), src.data() + static_cast<size_t>(r) * rb, rb))
            << type_name(t) << " n_in=" << n_in << " row " << r;
      }
    }
  }
}

TEST(Packed, ReferenceIsTheDotOnGgufRows) {
  Rng rng(8);
  for (TensorType t : kTypes) {
    const int64_t n_in = 96, n_out = 32;
    const int nt = 3;
    const size_t rb = row_bytes(t, n_in), xs = row_bytes(dot_kernel_ref(t).act_type, n_in) + 5;
    const auto src = random_rows(t, n_in, n_out, rng);
    std::vector<uint8_t> packed(src.size());
    pack_rows(t, n_in, n_out, src.data(), rb, packed.data());
    const auto x = activations(t, n_in, nt, xs, rng);
    std::vector<float> y(static_cast<size_t>(nt * n_out));
    packed_kernel_ref(t)(n_in, packed.data(), rb, static_cast<int>(n_out), x.data() + 1, xs, nt, y.data(),
                         static_cast<size_t>(n_out));
    for (int k = 0; k < nt; ++k) {
      for (int64_t r = 0; r < n_out; ++r) {
        const float want = dot_kernel_ref(t).vec_dot(n_in, src.data() + static_cast<size_t>(r) * rb,
                                                     x.data() + 1 + static_cast<size_t>(k) * xs);
        ASSERT_EQ(want, y[static_cast<size_t>(k * n_out + r)]) << type_name(t) << " row " << r << " token " << k;
      }
    }
  }
}

TEST(Packed, SimdMatchesReference) {
  Rng rng(9);
  for (TensorType t : kTypes) {
    const TileFn simd = packed_kernel(t);
    if (simd == nullptr) GTEST_SKIP() << "no packed kernel on this CPU";
    for (int64_t n_in : {32, 96, 256, 2080}) {
      for (int64_t n_out : {16, 48}) {
        const size_t rb = row_bytes(t, n_in), xs = row_bytes(dot_kernel_ref(t).act_type, n_in) + 3;
        const auto src = random_rows(t, n_in, n_out, rng);
        // Packed at a misaligned address (the kernels use unaligned loads).
        std::vector<uint8_t> buf(src.size() + 8);
        uint8_t* packed = buf.data() + 8;
        pack_rows(t, n_in, n_out, src.data(), rb, packed);
        for (int nt : {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 21, 33}) {
          const auto x = activations(t, n_in, nt, xs, rng);
          const size_t ys = static_cast<size_t>(n_out) + 3;
          std::vector<float> want(ys * static_cast<size_t>(nt), -1.f), got(want);
          packed_kernel_ref(t)(n_in, packed, rb, static_cast<int>(n_out), x.data() + 1, xs, nt, want.data(), ys);
          simd(n_in, packed, rb, static_cast<int>(n_out), x.data() + 1, xs, nt, got.data(), ys);
          for (size_t i = 0; i < want.size(); ++i) {
            if (i % ys >= static_cast<size_t>(n_out)) {  // outside the rows: untouched
              ASSERT_EQ(-1.f, got[i]);
              continue;
            }
            const size_t k = i / ys, r = i % ys;
            const double mag = magnitude(t, n_in, src.data() + r * rb, x.data() + 1 + k * xs);
            ASSERT_NEAR(want[i], got[i], 1e-5 * mag + 1e-6)
                << type_name(t) << " n_in=" << n_in << " n_out=" << n_out << " tokens=" << nt << " at " << i;
          }
        }
      }
    }
  }
}

TEST(Packed, MatmulOnPackedViewMatchesGgufView) {
  Rng rng(10);
  ThreadPool pool(2);
  MatmulScratch scratch;
  for (TensorType t : kTypes) {
    const int64_t n_in = 128, n_out = 80;  // five panels: the threads split at a panel
    if (!can_pack(t, n_in, n_out)) GTEST_SKIP() << "no packed kernel on this CPU";
    const size_t rb = row_bytes(t, n_in);
    const auto src = random_rows(t, n_in, n_out, rng);
    std::vector<uint8_t> packed(src.size());
    pack_rows(t, n_in, n_out, src.data(), rb, packed.data());
    WeightView plain{t, n_in, n_out, 1, rb, src.data()};
    WeightView pk = plain;
    pk.data = packed.data();
    pk.packed = true;
    const DotKernel& k = dot_kernel(t);
    const size_t xs = row_bytes(k.act_type, n_in);
    for (int64_t nt : {1, 4, 6, 40}) {
      std::vector<float> x(static_cast<size_t>(nt * n_in));
      for (float& f : x) f = rng.normal();
      std::vector<float> a(static_cast<size_t>(nt * n_out)), b(a.size());
      matmul(pool, plain, x.data(), n_in, nt, a.data(), n_out, scratch);
      matmul(pool, pk, x.data(), n_in, nt, b.data(), n_out, scratch);
      std::vector<uint8_t> act(xs);
      for (size_t i = 0; i < a.size(); ++i) {
        const size_t tok = i / static_cast<size_t>(n_out), r = i % static_cast<size_t>(n_out);
        k.quantize_act(x.data() + tok * static_cast<size_t>(n_in), act.data(), n_in);
        const double mag = magnitude(t, n_in, src.data() + r * rb, act.data());
        ASSERT_NEAR(a[i], b[i], 2e-5 * mag + 1e-6) << type_name(t) << " tokens=" << nt << " at " << i;
      }
    }
    // An embedding lookup on the packed view is the GGUF row's values.
    std::vector<float> r1(static_cast<size_t>(n_in)), r2(r1);
    for (int64_t r : {0, 17, 79}) {
      dequantize_row(plain, r, r1.data());
      dequantize_row(pk, r, r2.data());
      ASSERT_EQ(r1, r2) << type_name(t) << " row " << r;
    }
  }
}

}  // namespace
}  // namespace folio
