#include "tensor/quant_search.h"

#include <algorithm>

namespace folio {

namespace {
constexpr float kTiny = 1e-15f;  // groups with smaller magnitude quantize to zero

inline int clampi(int v, int lo, int hi) { return std::min(hi, std::max(lo, v)); }

// Index and signed value of the element with the largest magnitude.
float signed_absmax(int n, const float* x) {
  float amax = 0, vmax = 0;
  for (int i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (a > amax) {
      amax = a;
      vmax = x[i];
    }
  }
  return vmax;
}
}  // namespace

float fit_symmetric(int n, int nmax, const float* x, const float* w, uint8_t* L) {
  const float vmax = signed_absmax(n, x);
  if (std::fabs(vmax) < kTiny) {
    std::fill(L, L + n, static_cast<uint8_t>(nmax));
    return 0.f;
  }
  // The weighted LS scale for fixed integers l is sum(w x l) / sum(w l^2);
  // its error is minimal where sum(w x l)^2 / sum(w l^2) is maximal.
  auto evaluate = [&](float iscale, uint8_t* out, float* sumlx, float* suml2) {
    float slx = 0, sl2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clampi(round_even(iscale * x[i]), -nmax, nmax - 1);
      out[i] = static_cast<uint8_t>(l + nmax);
      slx += w[i] * x[i] * l;
      sl2 += w[i] * l * l;
    }
    *sumlx = slx;
    *suml2 = sl2;
  };
  float sumlx, suml2;
  evaluate(-nmax / vmax, L, &sumlx, &suml2);
  float scale = suml2 > 0 ? sumlx / suml2 : 0.f;
  float best = scale * sumlx;
  uint8_t trial[256];
  for (int step = -9; step <= 9; ++step) {
    if (step == 0) continue;
    evaluate(-(nmax + 0.1f * step) / vmax, trial, &sumlx, &suml2);
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      std::copy(trial, trial + n, L);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

float fit_symmetric_refine(int n, int nmax, const float* x, uint8_t* L) {
  const float vmax = signed_absmax(n, x);
  if (std::fabs(vmax) < kTiny) {
    std::fill(L, L + n, static_cast<uint8_t>(nmax));
    return 0.f;
  }
  const float iscale = -nmax / vmax;
  int l[256];
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    l[i] = clampi(round_even(iscale * x[i]), -nmax, nmax - 1);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l[i];
    suml2 += w * l[i] * l[i];
  }
  for (int sweep = 0; sweep < 5; ++sweep) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * l[i];
      if (slx <= 0) continue;
      float sl2 = suml2 - w * l[i] * l[i];
      // best integer for element i given the others: x_i / (slx/sl2)
      const int nl = clampi(round_even(x[i] * sl2 / slx), -nmax, nmax - 1);
      if (nl == l[i]) continue;
      slx += w * x[i] * nl;
      sl2 += w * nl * nl;
      if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
        l[i] = nl;
        sumlx = slx;
        suml2 = sl2;
        ++changed;
      }
    }
    if (!changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(l[i] + nmax);
  return suml2 > 0 ? sumlx / suml2 : 0.f;
}

float fit_affine(int n, int nmax, const float* x, const float* w, uint8_t* L, float* neg_min,
                 float rmin, float rdelta, int nstep, bool use_abs) {
  float lo = x[0], hi = x[0];
  float sum_w = w[0], sum_x = w[0] * x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (lo > 0) lo = 0;  // the offset only ever shifts down
  if (hi == lo) {
    std::fill(L, L + n, 0);
    *neg_min = -lo;
    return 0.f;
  }
  auto err = [&](float d) { return use_abs ? std::fabs(d) : d * d; };

  float iscale = nmax / (hi - lo);
  float scale = 1 / iscale;
  float best = 0;
  for (int i = 0; i < n; ++i) {
    const int l = clampi(round_even(iscale * (x[i] - lo)), 0, nmax);
    L[i] = static_cast<uint8_t>(l);
    best += w[i] * err(scale * l + lo - x[i]);
  }
  if (nstep < 1) {
    *neg_min = -lo;
    return scale;
  }
  uint8_t trial[256];
  for (int step = 0; step <= nstep; ++step) {
    iscale = (rmin + rdelta * step + nmax) / (hi - lo);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clampi(round_even(iscale * (x[i] - lo)), 0, nmax);
      trial[i] = static_cast<uint8_t>(l);
      sum_l += w[i] * l;
      sum_l2 += w[i] * l * l;
      sum_xl += w[i] * l * x[i];
    }
    // Weighted least squares for x ~= s*l + m.
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (det <= 0) continue;
    float s = (sum_w * sum_xl - sum_x * sum_l) / det;
    float m = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (m > 0) {
      m = 0;
      s = sum_xl / sum_l2;
    }
    float e = 0;
    for (int i = 0; i < n; ++i) e += w[i] * err(s * trial[i] + m - x[i]);
    if (e < best) {
      std::copy(trial, trial + n, L);
      best = e;
      scale = s;
      lo = m;
    }
  }
  *neg_min = -lo;
  return scale;
}

}  // namespace folio
