// The attention kernel in use against the scalar reference: head sizes
// that are and are not multiples of the vector width, one key to many,
// strided rows, soft-capping.
#include "kernels/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "base/rng.h"
#include "tensor/fp16.h"

namespace folio {
namespace {

TEST(Attention, KernelMatchesReference) {
  Rng rng(7);
  for (int64_t hd : {40, 64, 80, 128, 256}) {
    for (int64_t nk : {1, 3, 4, 37, 300}) {
      for (float softcap : {0.f, 30.f}) {
        const size_t stride = static_cast<size_t>(hd) * 3 + 5;  // interleaved heads, odd stride
        std::vector<uint16_t> k(stride * static_cast<size_t>(nk)), v(stride * static_cast<size_t>(nk));
        for (auto& e : k) e = f32_to_fp16(rng.normal());
        for (auto& e : v) e = f32_to_fp16(rng.normal());
        std::vector<float> q(static_cast<size_t>(hd));
        for (auto& e : q) e = 2 * rng.normal();
        std::vector<float> s1(static_cast<size_t>(nk + hd)), s2(s1.size()), o1(static_cast<size_t>(hd)), o2(o1.size());
        AttendArgs a;
        a.q = q.data();
        a.k = k.data() + 1;
        a.v = v.data() + 3;
        a.k_stride = a.v_stride = stride;
        a.n_keys = nk;
        a.head_dim_k = a.head_dim_v = hd;
        a.scale = 1.f / std::sqrt(static_cast<float>(hd));
        a.softcap = softcap;
        a.scores = s1.data();
        a.out = o1.data();
        attend_ref(a);
        a.scores = s2.data();
        a.out = o2.data();
        attend_kernel()(a);
        for (int64_t d = 0; d < hd; ++d) {
          // p rounded to F16 can flip by one F16 ulp when the sums differ in
          // the last bits: bounded by 2^-11 of the largest |v|, times a few.
          ASSERT_NEAR(o2[static_cast<size_t>(d)], o1[static_cast<size_t>(d)], 5e-3)
              << "hd=" << hd << " keys=" << nk << " softcap=" << softcap << " dim " << d;
        }
      }
    }
  }
}

}  // namespace
}  // namespace folio
