// Panel GEMM. A weight row decodes into unsigned bytes u and, per block of
// B values (32, or 16 for Q6_K's groups), a float scale s and offset m with
// value = s * u - m (Q4_0: s = d, m = 8d; Q8_0: u = q + 128, m = 128d;
// Q4_K: s = d*sc, m = dmin*min; Q6_K: s = d*sc, m = 32*d*sc). A token's
// block has scale dx and int8 values x, so
//   dot = sum_blocks dx * (s * sum(u x) - m * sum(x)),
// the integer sum exact (vpdpbusd), the rest in float. Where m is an
// integer offset times s, the integer sum starts at -offset * sum(x), so
// nothing cancels in float (as in the reference).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/avx512/panel_avx512.h"
#include "tensor/blocks.h"

#define FOLIO_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c"
#include "kernels/target_begin.h"
#include <immintrin.h>

namespace folio::avx512 {

namespace {

#include "kernels/avx512/common.h"

constexpr int kPanelRows = 16;

// ---- weight rows -> unsigned bytes + (s, m) per block ---------------------

// kOffset > 0: m = kOffset * s exactly, so the offset is taken out of the
// integer sum (as the reference does) instead of subtracted in float.
// The nibble types: Q4_0 / Q5_0 (x = d (q - offset)) and Q4_1 / Q5_1
// (x = d q + min, with Q8_1 activations). Block layout: f16 d at 0, the min
// (kMin) at 2, qh at kQhAt (>= 0: a fifth bit per value), qs at kQsAt.
template <class Block, size_t kQsAt, int kQhAt, int kOff, bool kMin>
struct RowNibbles {
  static constexpr int kB = 32;
  static constexpr int kOffset = kOff;
  static void decode(const uint8_t* row, int64_t n, uint8_t* u, float* s, float* m) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), b4 = _mm256_set1_epi8(0x10);
    for (int64_t b = 0; b < n / 32; ++b) {
      const uint8_t* p = row + b * sizeof(Block);
      const __m128i v = load128(p + kQsAt);
      __m256i y = _mm256_and_si256(_mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1), m4);
      if constexpr (kQhAt >= 0) {
        const auto bits = static_cast<__mmask32>(static_cast<uint32_t>(i32_at(p + kQhAt)));
        y = _mm256_or_si256(y, _mm256_and_si256(_mm256_movm_epi8(bits), b4));
      }
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 32 * b), y);
      s[b] = half(p);
      m[b] = kMin ? -half(p + 2) : static_cast<float>(kOff) * s[b];
    }
  }
};

using RowQ4_0 = RowNibbles<BlockQ4_0, 2, -1, 8, false>;
using RowQ5_0 = RowNibbles<BlockQ5_0, 6, 2, 16, false>;
using RowQ4_1 = RowNibbles<BlockQ4_1, 4, -1, 0, true>;
using RowQ5_1 = RowNibbles<BlockQ5_1, 8, 4, 0, true>;

struct RowQ8_0 {
  static constexpr int kB = 32;
  static constexpr int kOffset = 128;
  static void decode(const uint8_t* row, int64_t n, uint8_t* u, float* s, float* m) {
    const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
    for (int64_t b = 0; b < n / 32; ++b) {
      const uint8_t* p = row + b * sizeof(BlockQ8_0);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 32 * b), _mm256_xor_si256(load256(p + 2), flip));
      s[b] = half(p);
      m[b] = 128 * s[b];
    }
  }
};

struct RowQ4_K {
  static constexpr int kB = 32;
  static constexpr int kOffset = 0;
  static void decode(const uint8_t* row, int64_t n, uint8_t* u, float* s, float* m) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      const uint8_t* p = row + i * sizeof(BlockQ4_K);
      const float d = half(p), dmin = half(p + 2);
      for (int j = 0; j < 8; ++j) {
        uint8_t sc, mn;
        unpack_scale_min_k4(j, p + offsetof(BlockQ4_K, scales), &sc, &mn);
        s[8 * i + j] = d * sc;
        m[8 * i + j] = dmin * mn;
      }
      for (int c = 0; c < 4; ++c) {
        const __m256i q = load256(p + offsetof(BlockQ4_K, qs) + 32 * c);
        uint8_t* o = u + kQK_K * i + 64 * c;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), _mm256_and_si256(q, m4));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 32), _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
      }
    }
  }
};

struct RowQ5_K {
  static constexpr int kB = 32;
  static constexpr int kOffset = 0;
  static void decode(const uint8_t* row, int64_t n, uint8_t* u, float* s, float* m) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      const uint8_t* p = row + i * sizeof(BlockQ5_K);
      const float d = half(p), dmin = half(p + 2);
      for (int j = 0; j < 8; ++j) {
        uint8_t sc, mn;
        unpack_scale_min_k4(j, p + offsetof(BlockQ5_K, scales), &sc, &mn);
        s[8 * i + j] = d * sc;
        m[8 * i + j] = dmin * mn;
      }
      const __m256i qh = load256(p + offsetof(BlockQ5_K, qh));  // bit j of qh[l]: sub-block j, value l
      for (int c = 0; c < 4; ++c) {
        const __m256i q = load256(p + offsetof(BlockQ5_K, qs) + 32 * c);
        const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4);
        const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4);
        uint8_t* o = u + kQK_K * i + 64 * c;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), _mm256_or_si256(_mm256_and_si256(q, m4), h0));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 32),
                            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), h1));
      }
    }
  }
};

// Q2_K / Q3_K: value 128h + 32j + l is bit pair j of qs[32h + l]; Q3_K's
// third bit is bit 4h + j of hmask[l].
struct RowQ2_K {
  static constexpr int kB = 16;
  static constexpr int kOffset = 0;
  static void decode(const uint8_t* row, int64_t n, uint8_t* u, float* s, float* m) {
    const __m256i m2 = _mm256_set1_epi8(0x03);
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      const uint8_t* p = row + i * sizeof(BlockQ2_K);
      const float d = half(p + offsetof(BlockQ2_K, d)), dmin = half(p + offsetof(BlockQ2_K, dmin));
      for (int g = 0; g < 16; ++g) {
        const uint8_t sc = p[offsetof(BlockQ2_K, scales) + g];
        s[16 * i + g] = d * (sc & 0xF);
        m[16 * i + g] = dmin * (sc >> 4);
      }
      for (int h = 0; h < 2; ++h) {
        const __m256i v = load256(p + offsetof(BlockQ2_K, qs) + 32 * h);
        for (int j = 0; j < 4; ++j) {
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + kQK_K * i + 128 * h + 32 * j),
                              _mm256_and_si256(_mm256_srli_epi16(v, 2 * j), m2));
        }
      }
    }
  }
};

struct RowQ3_K {
  static constexpr int kB = 16;
  static constexpr int kOffset = 4;
  static void decode(const uint8_t* row, int64_t n, uint8_t* u, float* s, float* m) {
    const __m256i m2 = _mm256_set1_epi8(0x03), one = _mm256_set1_epi8(1);
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      const uint8_t* p = row + i * sizeof(BlockQ3_K);
      const float d = half(p + offsetof(BlockQ3_K, d));
      int8_t sc[16];
      unpack_scales_q3_k(p + offsetof(BlockQ3_K, scales), sc);
      for (int g = 0; g < 16; ++g) {
        s[16 * i + g] = d * sc[g];
        m[16 * i + g] = 4 * s[16 * i + g];
      }
      const __m256i hm = load256(p + offsetof(BlockQ3_K, hmask));
      for (int h = 0; h < 2; ++h) {
        const __m256i v = load256(p + offsetof(BlockQ3_K, qs) + 32 * h);
        for (int j = 0; j < 4; ++j) {
          const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + j), one);
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + kQK_K * i + 128 * h + 32 * j),
                              _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 2 * j), m2), _mm256_slli_epi16(hb, 2)));
        }
      }
    }
  }
};

struct RowQ6_K {
  static constexpr int kB = 16;
  static constexpr int kOffset = 32;
  static void decode(const uint8_t* row, int64_t n, uint8_t* u, float* s, float* m) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      const uint8_t* p = row + i * sizeof(BlockQ6_K);
      const float d = half(p + offsetof(BlockQ6_K, d));
      const auto* sc = reinterpret_cast<const int8_t*>(p + offsetof(BlockQ6_K, scales));
      for (int g = 0; g < 16; ++g) {
        s[16 * i + g] = d * sc[g];
        m[16 * i + g] = 32 * s[16 * i + g];
      }
      for (int h = 0; h < 2; ++h) {  // 128 values: ql[64h..], qh[32h..]
        const __m256i ql0 = load256(p + offsetof(BlockQ6_K, ql) + 64 * h);
        const __m256i ql1 = load256(p + offsetof(BlockQ6_K, ql) + 64 * h + 32);
        const __m256i qh = load256(p + offsetof(BlockQ6_K, qh) + 32 * h);
        uint8_t* o = u + kQK_K * i + 128 * h;
        const __m256i v[4] = {
            _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4)),
            _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4))};
        for (int k = 0; k < 4; ++k) _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 32 * k), v[k]);
      }
    }
  }
};

// ---- activation rows: where block b's int8 values are, its dx, sum(x) ----

struct ActQ8_0 {
  static constexpr bool kStoredSum = false;
  static FOLIO_INLINE const uint8_t* qs(const uint8_t* row, int64_t b) { return row + b * sizeof(BlockQ8_0) + 2; }
  template <int B>
  static void info(const uint8_t* row, int64_t n, float* dx, int32_t* xsum, float* /*c*/) {
    static_assert(B == 32);
    for (int64_t b = 0; b < n / 32; ++b) {
      const uint8_t* p = row + b * sizeof(BlockQ8_0);
      const __m256i ones = _mm256_set1_epi8(1);
      const __m256i sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ones, load256(p + 2));
      __m128i t = _mm_add_epi32(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
      t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(1, 0, 3, 2)));
      t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(2, 3, 0, 1)));
      dx[b] = half(p);
      xsum[b] = _mm_cvtsi128_si32(t);
    }
  }
};

// Q8_1 keeps d * sum(q) (as F16): the reference's min term uses it, so the
// panel does too (kStoredSum: info writes it as c).
struct ActQ8_1 {
  static constexpr bool kStoredSum = true;
  static FOLIO_INLINE const uint8_t* qs(const uint8_t* row, int64_t b) { return row + b * sizeof(BlockQ8_1) + 4; }
  template <int B>
  static void info(const uint8_t* row, int64_t n, float* dx, int32_t* /*xsum*/, float* c) {
    for (int64_t b = 0; b < n / 32; ++b) {
      dx[b] = half(row + b * sizeof(BlockQ8_1));
      c[b] = half(row + b * sizeof(BlockQ8_1) + 2);
    }
  }
};

template <int B>
struct ActQ8_K {
  static constexpr bool kStoredSum = false;
  static constexpr int kPer = kQK_K / B;  // blocks per super-block
  static FOLIO_INLINE const uint8_t* qs(const uint8_t* row, int64_t b) {
    return row + (b / kPer) * sizeof(BlockQ8_K) + offsetof(BlockQ8_K, qs) + (b % kPer) * B;
  }
  template <int B_>
  static void info(const uint8_t* row, int64_t n, float* dx, int32_t* xsum, float* /*c*/) {
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      const uint8_t* p = row + i * sizeof(BlockQ8_K);
      float d;
      std::memcpy(&d, p, 4);
      int16_t bs[16];
      std::memcpy(bs, p + offsetof(BlockQ8_K, bsums), sizeof bs);
      for (int j = 0; j < kPer; ++j) {
        int sum = 0;
        for (int g = j * B / 16; g < (j + 1) * B / 16; ++g) sum += bs[g];
        dx[kPer * i + j] = d;
        xsum[kPer * i + j] = sum;
      }
    }
  }
};

struct Buffers {
  std::vector<uint8_t> rows;   // kRows decoded rows
  std::vector<int32_t> panel;  // [group of 4 values][row], 64-byte aligned view
  std::vector<float> s, m;     // [block][row]
  std::vector<float> rs, rm;   // one row's (s, m)
  std::vector<float> dx, c;    // [token][block]: scale, scale * sum(x)
  std::vector<int32_t> xsum;   // [token][block]: sum(x), then -offset * sum(x)
};

template <class T>
T* align64(T* p) {
  return reinterpret_cast<T*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t{63});
}

// Two 16-row halves per panel: each broadcast activation value feeds two
// vpdpbusd (the broadcast loads, not the multiplies, would set the pace).
constexpr int kHalves = 2;
constexpr int kRows = kHalves * kPanelRows;

struct Panel {
  const int32_t* u;     // [group][row]
  const float *s, *m;   // [block][row]
  const float *dx, *c;  // [token][block]
  const int32_t* init;  // [token][block]: -offset * sum(x) (offset types)
  int64_t nb;
};

// T tokens from `t` against one packed panel; writes its 32 (masked) rows.
template <class A, int B, bool kOffset, int T>
FOLIO_INLINE void panel_tokens(const Panel& p, const uint8_t* x, size_t xs, int t, float* y, size_t ys,
                               const __mmask16 (&rows)[kHalves]) {
  constexpr int K4 = B / 4;
  __m512 accf[kHalves][T];
  for (int h = 0; h < kHalves; ++h)
    for (int i = 0; i < T; ++i) accf[h][i] = _mm512_setzero_ps();
  const uint8_t* xr[T];
  for (int i = 0; i < T; ++i) xr[i] = x + static_cast<size_t>(t + i) * xs;
  const float* dx = p.dx + static_cast<size_t>(t) * p.nb;
  const float* c = p.c + static_cast<size_t>(t) * p.nb;
  const int32_t* init = p.init + static_cast<size_t>(t) * p.nb;
  for (int64_t b = 0; b < p.nb; ++b) {
    __m512i acc[kHalves][T];
    for (int i = 0; i < T; ++i) {
      acc[0][i] = kOffset ? _mm512_set1_epi32(init[i * p.nb + b]) : _mm512_setzero_si512();
      for (int h = 1; h < kHalves; ++h) acc[h][i] = acc[0][i];
    }
    const uint8_t* q[T];
    for (int i = 0; i < T; ++i) q[i] = A::qs(xr[i], b);
    for (int k = 0; k < K4; ++k) {
      __m512i wv[kHalves];
      for (int h = 0; h < kHalves; ++h) wv[h] = _mm512_load_si512(p.u + ((b * K4 + k) * kHalves + h) * kPanelRows);
      for (int i = 0; i < T; ++i) {
        const __m512i xv = _mm512_set1_epi32(i32_at(q[i] + 4 * k));
        for (int h = 0; h < kHalves; ++h) acc[h][i] = _mm512_dpbusd_epi32(acc[h][i], wv[h], xv);
      }
    }
    for (int h = 0; h < kHalves; ++h) {
      const __m512 sv = _mm512_load_ps(p.s + (b * kHalves + h) * kPanelRows);
      for (int i = 0; i < T; ++i) {
        accf[h][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[h][i]), _mm512_mul_ps(sv, _mm512_set1_ps(dx[i * p.nb + b])),
                                     accf[h][i]);
      }
      if (!kOffset) {
        const __m512 mv = _mm512_load_ps(p.m + (b * kHalves + h) * kPanelRows);
        for (int i = 0; i < T; ++i) accf[h][i] = _mm512_fnmadd_ps(mv, _mm512_set1_ps(c[i * p.nb + b]), accf[h][i]);
      }
    }
  }
  for (int i = 0; i < T; ++i) {
    for (int h = 0; h < kHalves; ++h) {
      _mm512_mask_storeu_ps(y + static_cast<size_t>(t + i) * ys + h * kPanelRows, rows[h], accf[h][i]);
    }
  }
}

// The activations' per-block info for nt tokens (dx, c, and the integer
// sums' start -offset * sum(x) for the offset types), then per 32 rows:
// fill(r0, rows, panel, s, m) packs them (padding rows: zero values and
// scales) and every token runs over the panel.
template <class R, class A, class Fill>
void gemm_with(int64_t n, int nr, const uint8_t* x, size_t xs, int nt, float* y, size_t ys, Fill&& fill) {
  constexpr int B = R::kB;
  constexpr int K4 = B / 4;
  const int64_t nb = n / B;
  const size_t unb = static_cast<size_t>(nb);
  thread_local Buffers buf;
  buf.panel.resize(unb * K4 * kRows + 16);
  buf.s.resize(unb * kRows + 16);
  buf.m.resize(unb * kRows + 16);
  buf.dx.resize(static_cast<size_t>(nt) * unb);
  buf.c.resize(static_cast<size_t>(nt) * unb);
  buf.xsum.resize(static_cast<size_t>(nt) * unb);
  int32_t* panel = align64(buf.panel.data());
  float* sp = align64(buf.s.data());
  float* mp = align64(buf.m.data());
  for (int t = 0; t < nt; ++t) {
    A::template info<B>(x + static_cast<size_t>(t) * xs, n, buf.dx.data() + t * unb, buf.xsum.data() + t * unb,
                        buf.c.data() + t * unb);
  }
  for (size_t i = 0; i < static_cast<size_t>(nt) * unb; ++i) {
    if (R::kOffset > 0) {
      buf.xsum[i] *= -R::kOffset;
    } else if (!A::kStoredSum) {
      buf.c[i] = buf.dx[i] * static_cast<float>(buf.xsum[i]);
    }
  }
  const Panel p{panel, sp, mp, buf.dx.data(), buf.c.data(), buf.xsum.data(), nb};
  for (int r0 = 0; r0 < nr; r0 += kRows) {
    const int rows = std::min(kRows, nr - r0);
    fill(r0, rows, panel, sp, mp);
    __mmask16 mask[kHalves];
    for (int h = 0; h < kHalves; ++h) {
      const int r = std::clamp(rows - h * kPanelRows, 0, kPanelRows);
      mask[h] = static_cast<__mmask16>((1u << r) - 1);
    }
    int t = 0;
    constexpr bool kOff = R::kOffset > 0;
    for (; t + 4 <= nt; t += 4) panel_tokens<A, B, kOff, 4>(p, x, xs, t, y + r0, ys, mask);
    for (; t < nt; ++t) panel_tokens<A, B, kOff, 1>(p, x, xs, t, y + r0, ys, mask);
  }
}

// GGUF rows: each decoded by R, then gathered into the panel.
template <class R, class A>
void gemm(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y, size_t ys) {
  constexpr int K4 = R::kB / 4;
  const int64_t nb = n / R::kB;
  const size_t un = static_cast<size_t>(n), unb = static_cast<size_t>(nb);
  thread_local Buffers rbuf;
  rbuf.rows.resize(kRows * un);
  rbuf.rs.resize(unb);
  rbuf.rm.resize(unb);
  const __m512i index = lane_offsets(n);
  gemm_with<R, A>(n, nr, x, xs, nt, y, ys, [&](int r0, int rows, int32_t* panel, float* sp, float* mp) {
    for (int i = 0; i < kRows; ++i) {
      uint8_t* u = rbuf.rows.data() + static_cast<size_t>(i) * un;
      if (i < rows) {
        R::decode(w + static_cast<size_t>(r0 + i) * ws, n, u, rbuf.rs.data(), rbuf.rm.data());
      } else {  // padding rows: zero values and scales
        std::memset(u, 0, un);
        std::fill(rbuf.rs.begin(), rbuf.rs.end(), 0.f);
        std::fill(rbuf.rm.begin(), rbuf.rm.end(), 0.f);
      }
      const size_t h = static_cast<size_t>(i / kPanelRows), lane = static_cast<size_t>(i % kPanelRows);
      for (size_t b = 0; b < unb; ++b) {
        sp[(b * kHalves + h) * kPanelRows + lane] = rbuf.rs[b];
        mp[(b * kHalves + h) * kPanelRows + lane] = rbuf.rm[b];
      }
    }
    // panel[g][half][lane] = values 4g .. 4g+3 of row 16 half + lane
    for (int64_t g = 0; g < nb * K4; ++g) {
      for (int h = 0; h < kHalves; ++h) {
        const uint8_t* src = rbuf.rows.data() + static_cast<size_t>(h) * kPanelRows * un + 4 * g;
        _mm512_store_si512(panel + (g * kHalves + h) * kPanelRows, _mm512_i32gather_epi32(index, src, 1));
      }
    }
  });
}

// Packed rows (kernels/packed.h): each 16-row half of the panel is a
// packed panel already, its values a load (Q8_0) or a nibble split (Q4_0)
// away; kDwords: the value dwords a block (4: Q4_0's nibbles).
template <class R, int kDwords>
void gemm_packed(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y,
                 size_t ys) {
  constexpr int K4 = R::kB / 4;
  const int64_t nb = n / R::kB;
  gemm_with<R, ActQ8_0>(n, nr, x, xs, nt, y, ys, [&](int r0, int rows, int32_t* panel, float* sp, float*) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int h = 0; h < kHalves; ++h) {
      if (rows <= h * kPanelRows) {  // padding half: zero values and scales
        for (int64_t b = 0; b < nb; ++b) {
          _mm512_store_ps(sp + (b * kHalves + h) * kPanelRows, _mm512_setzero_ps());
          for (int k = 0; k < K4; ++k) _mm512_store_si512(panel + ((b * K4 + k) * kHalves + h) * kPanelRows, _mm512_setzero_si512());
        }
        continue;
      }
      const uint8_t* src = w + static_cast<size_t>(r0 + h * kPanelRows) * ws;
      const uint8_t* qv = src + nb * kPanelRows * 2;
      for (int64_t b = 0; b < nb; ++b) {
        _mm512_store_ps(sp + (b * kHalves + h) * kPanelRows, _mm512_cvtph_ps(load256(src + 32 * b)));
        for (int c = 0; c < kDwords; ++c) {
          const __m512i q = load512(qv + (b * kDwords + c) * 64);
          int32_t* o = panel + ((b * K4 + c) * kHalves + h) * kPanelRows;
          if constexpr (kDwords == K4) {
            _mm512_store_si512(o, q);
          } else {
            _mm512_store_si512(o, _mm512_and_si512(q, m4));
            _mm512_store_si512(o + 4 * kHalves * kPanelRows, _mm512_and_si512(_mm512_srli_epi16(q, 4), m4));
          }
        }
      }
    }
  });
}

// ---- F16 / F32: a float panel, lanes = rows, one FMA per value and token

struct FloatBuffers {
  std::vector<float> panel;  // [value][row], 64-byte aligned view
  std::vector<float> xf;     // F16 activation rows as floats
};

// T tokens from `t` against a float panel of 2 x 16 rows: each broadcast
// activation value serves two FMAs (the loads, not the FMAs, would limit).
template <int T>
FOLIO_INLINE void float_tokens(const float* panel, int64_t n, const float* xf, size_t xfs, int t, float* y, size_t ys,
                               __mmask16 rows0, __mmask16 rows1) {
  __m512 acc0[T], acc1[T];
  for (int i = 0; i < T; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
  const float* xr = xf + static_cast<size_t>(t) * xfs;
  for (int64_t k = 0; k < n; ++k) {
    const __m512 p0 = _mm512_load_ps(panel + k * 2 * kPanelRows);
    const __m512 p1 = _mm512_load_ps(panel + k * 2 * kPanelRows + kPanelRows);
    for (int i = 0; i < T; ++i) {
      const __m512 xv = _mm512_set1_ps(xr[static_cast<size_t>(i) * xfs + k]);
      acc0[i] = _mm512_fmadd_ps(p0, xv, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(p1, xv, acc1[i]);
    }
  }
  for (int i = 0; i < T; ++i) {
    _mm512_mask_storeu_ps(y + static_cast<size_t>(t + i) * ys, rows0, acc0[i]);
    _mm512_mask_storeu_ps(y + static_cast<size_t>(t + i) * ys + kPanelRows, rows1, acc1[i]);
  }
}

// Rows [r, r + 16) of W (mask: those that exist) into panel[k][0..15] for
// every value k, with a stride of 2 x 16 floats between values. F16: a
// gather per pair of values, so no read goes past a row's end.
// kBytes 4: F32; 2: F16, or BF16 when kBrain.
template <int kBytes, bool kBrain = false>
FOLIO_INLINE __m512 pair_low(__m512i pair) {
  if constexpr (kBrain) return _mm512_castsi512_ps(_mm512_slli_epi32(pair, 16));
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(pair));
}
template <int kBytes, bool kBrain = false>
FOLIO_INLINE __m512 pair_high(__m512i pair) {
  if constexpr (kBrain) return _mm512_castsi512_ps(_mm512_and_si512(pair, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(pair, 16)));
}
template <bool kBrain>
FOLIO_INLINE float half_or_brain(const uint8_t* p) {
  if constexpr (kBrain) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    const uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  return half(p);
}

template <int kBytes, bool kBrain = false>
void fill_float_panel(const uint8_t* base, size_t ws, int64_t n, int rows, float* panel) {
  const __m512i rows_at = lane_offsets(ws);
  const __mmask16 mask = rows <= 0 ? 0 : static_cast<__mmask16>((1u << std::min(rows, kPanelRows)) - 1);
  constexpr int64_t kStep = 2 * kPanelRows;
  int64_t k = 0;
  if constexpr (kBytes == 2) {
    for (; k + 2 <= n; k += 2) {
      const __m512i pair = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), mask, rows_at, base + 2 * k, 1);
      _mm512_store_ps(panel + k * kStep, pair_low<kBytes, kBrain>(pair));
      _mm512_store_ps(panel + (k + 1) * kStep, pair_high<kBytes, kBrain>(pair));
    }
    for (; k < n; ++k) {
      alignas(64) float v[kPanelRows] = {};
      for (int i = 0; i < std::min(rows, kPanelRows); ++i) v[i] = half_or_brain<kBrain>(base + static_cast<size_t>(i) * ws + 2 * k);
      _mm512_store_ps(panel + k * kStep, _mm512_load_ps(v));
    }
  } else {
    for (; k < n; ++k) {
      _mm512_store_ps(panel + k * kStep, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, rows_at, base + 4 * k, 1));
    }
  }
}

template <int kBytes, bool kBrain = false>
void gemm_float(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y, size_t ys) {
  thread_local FloatBuffers buf;
  const size_t un = static_cast<size_t>(n);
  buf.panel.resize(un * 2 * kPanelRows + 16);
  float* panel = align64(buf.panel.data());
  const float* xf = reinterpret_cast<const float*>(x);  // F32 activations in place (rows xs bytes apart)
  size_t xfs = xs / 4;
  if (kBytes == 2 || xs % 4 != 0 || reinterpret_cast<uintptr_t>(x) % 4 != 0) {
    buf.xf.resize(un * static_cast<size_t>(nt));
    for (int t = 0; t < nt; ++t) {
      const uint8_t* xr = x + static_cast<size_t>(t) * xs;
      float* o = buf.xf.data() + static_cast<size_t>(t) * un;
      for (int64_t k = 0; k < n; k += 16) {
        const __mmask16 m = n - k >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - k)) - 1);
        __m512 v;
        if constexpr (kBrain) {
          v = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, xr + 2 * k)), 16));
        } else if constexpr (kBytes == 2) {
          v = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, xr + 2 * k));
        } else {
          v = _mm512_maskz_loadu_ps(m, xr + 4 * k);
        }
        _mm512_mask_storeu_ps(o + k, m, v);
      }
    }
    xf = buf.xf.data();
    xfs = un;
  }
  for (int r0 = 0; r0 < nr; r0 += 2 * kPanelRows) {
    const int rows = nr - r0;
    const uint8_t* base = w + static_cast<size_t>(r0) * ws;
    fill_float_panel<kBytes, kBrain>(base, ws, n, rows, panel);
    fill_float_panel<kBytes, kBrain>(base + kPanelRows * ws, ws, n, rows - kPanelRows, panel + kPanelRows);
    const auto mask_of = [](int r) {
      return r <= 0 ? static_cast<__mmask16>(0) : static_cast<__mmask16>((1u << std::min(r, kPanelRows)) - 1);
    };
    const __mmask16 m0 = mask_of(rows), m1 = mask_of(rows - kPanelRows);
    int t = 0;
    for (; t + 6 <= nt; t += 6) float_tokens<6>(panel, n, xf, xfs, t, y + r0, ys, m0, m1);
    for (; t < nt; ++t) float_tokens<1>(panel, n, xf, xfs, t, y + r0, ys, m0, m1);
  }
}

}  // namespace

#define FOLIO_PANEL_DEF(name, ...)                                                                           \
  void name(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y, \
            size_t ys) {                                                                                     \
    __VA_ARGS__(n, w, ws, nr, x, xs, nt, y, ys);                                                             \
  }

FOLIO_PANEL_DEF(panel_q4_0_q8_0, gemm<RowQ4_0, ActQ8_0>)
FOLIO_PANEL_DEF(panel_q5_0_q8_0, gemm<RowQ5_0, ActQ8_0>)
FOLIO_PANEL_DEF(panel_q4_1_q8_1, gemm<RowQ4_1, ActQ8_1>)
FOLIO_PANEL_DEF(panel_q5_1_q8_1, gemm<RowQ5_1, ActQ8_1>)
FOLIO_PANEL_DEF(panel_q8_0_q8_0, gemm<RowQ8_0, ActQ8_0>)
FOLIO_PANEL_DEF(panel_q4_k_q8_k, gemm<RowQ4_K, ActQ8_K<32>>)
FOLIO_PANEL_DEF(panel_q6_k_q8_k, gemm<RowQ6_K, ActQ8_K<16>>)
FOLIO_PANEL_DEF(panel_q5_k_q8_k, gemm<RowQ5_K, ActQ8_K<32>>)
FOLIO_PANEL_DEF(panel_q3_k_q8_k, gemm<RowQ3_K, ActQ8_K<16>>)
FOLIO_PANEL_DEF(panel_q2_k_q8_k, gemm<RowQ2_K, ActQ8_K<16>>)
FOLIO_PANEL_DEF(panel_f16_f16, gemm_float<2>)
FOLIO_PANEL_DEF(panel_bf16_bf16, gemm_float<2, true>)
FOLIO_PANEL_DEF(panel_f32_f32, gemm_float<4>)
FOLIO_PANEL_DEF(panel_packed_q4_0_q8_0, gemm_packed<RowQ4_0, 4>)
FOLIO_PANEL_DEF(panel_packed_q8_0_q8_0, gemm_packed<RowQ8_0, 8>)

#undef FOLIO_PANEL_DEF

}  // namespace folio::avx512

#include "kernels/target_end.h"
