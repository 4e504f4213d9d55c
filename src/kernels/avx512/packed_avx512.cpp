// Column kernels on packed weights (kernels/packed.h): per panel of 16
// rows and block, the 16 scales are one load and convert, the value
// vectors plain loads (Q4_0: and a nibble split), so a block of 16 rows x
// 4 tokens is 32 vpdpbusd and little else (the GGUF layout needed a gather
// and 4x4 transposes per block). A block's integer dot starts at -offset x
// the activation block's sum (Q4_0: 8, Q8_0: 128), so it is exact, as in
// the reference; one convert and FMA per block and token.
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/avx512/packed_avx512.h"
#include "kernels/avx512/panel_avx512.h"
#include "kernels/dot.h"
#include "tensor/blocks.h"

#define FOLIO_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c"
#include "kernels/target_begin.h"
#include <immintrin.h>

namespace folio::avx512 {

namespace {

#include "kernels/avx512/common.h"
#include "kernels/avx512/columns.h"

constexpr int kRows = 16;
// Every line of the panel stream this far ahead into L1 and, with 2
// tokens or more (more compute per line: the loads fall behind), also far
// ahead into L2. Measured in the model (2 threads, interleaved runs):
// Q4_0 x 4 sequences one line per block 94-95 t/s, every line 2048 ahead
// 117, 4096 115, 1024 110; plus 12288 into L2 124-125 (8192: 123, 16384:
// 125); Q8_0 x 4 71 -> 86-88; one token: the L2 request changed nothing
// for Q4_0 and cost Q8_0 4% (25.6 -> 24.6-25.0). The order counts: with
// the scales' requests between the L1 and the L2 lines Q8_0 x 4 ran 73 t/s,
// with both L2 requests before the scales' 83-85. With two panels a pass
// (two streams) the L2 requests go farther: Q4_0 x 4 at 12288 131-136,
// 16384 136, 24576 137-142, 32768 136, 49152 140 (Q8_0 the same within
// noise).
constexpr int kAhead = 2048, kFarAhead = 24576;
constexpr int kMaxTokens = 4;  // tokens a pass
// Per block and token of a pass: the integer dot's start, dx, the 32
// values (interleave_q8_0).
constexpr size_t kTokenBytes = 8 + kQK;

// Q4_0: 4 value dwords a block, nibbles 0..15 (offset 8); Q8_0: 8, bytes
// stored plus 128 (offset 128).
struct PackedQ4_0 {
  static constexpr int kDwords = 4, kOffset = 8;
  static FOLIO_INLINE void values(const uint8_t* q, __m512i (&v)[8]) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int c = 0; c < 4; ++c) {
      const __m512i b = load512(q + 64 * c);
      v[c] = _mm512_and_si512(b, m4);
      v[4 + c] = _mm512_and_si512(_mm512_srli_epi16(b, 4), m4);
    }
  }
};
struct PackedQ8_0 {
  static constexpr int kDwords = 8, kOffset = 128;
  static FOLIO_INLINE void values(const uint8_t* q, __m512i (&v)[8]) {
    for (int c = 0; c < 8; ++c) v[c] = load512(q + 64 * c);
  }
};

// NP panels (16 rows each, nb blocks, panel_bytes apart) x NT tokens:
// y[t * ys + 0 .. 16 NP). Two panels a pass share each broadcast
// activation dword between two vpdpbusd and are two streams in flight:
// per core hot, Q4_0 x 4 tokens 166 -> 179 GMAC/s; in the model (2
// threads, interleaved runs) Q4_0 4 sequences 121-124 -> 130-132 t/s, one
// 39.5 -> 43 (Q8_0: 82-84 -> 88, 24.6-24.9 -> 24.9-25.4).
template <class P, int NT, int NP>
FOLIO_INLINE void panel_columns(int64_t nb, const uint8_t* panel, size_t panel_bytes, const uint8_t* xc, float* y,
                                size_t ys) {
  constexpr size_t kStride = kTokenBytes * NT;
  constexpr size_t kBlockValues = 64 * P::kDwords;
  const uint8_t* scales[NP];
  const uint8_t* q[NP];
  for (int p = 0; p < NP; ++p) {
    scales[p] = panel + p * panel_bytes;
    q[p] = scales[p] + nb * 2 * kRows;
  }
  __m512 acc[NP][NT];
  for (int p = 0; p < NP; ++p)
    for (int t = 0; t < NT; ++t) acc[p][t] = _mm512_setzero_ps();
  for (int64_t j = 0; j < nb; ++j, xc += kStride) {
    __m512 dw[NP];
    __m512i v[NP][8];
    for (int p = 0; p < NP; ++p) {
      const char* qc = reinterpret_cast<const char*>(q[p]);
      const char* sc = reinterpret_cast<const char*>(scales[p]);  // 32 bytes a block against 64 x kDwords
      for (int l = 0; l < P::kDwords; ++l) _mm_prefetch(qc + kAhead + 64 * l, _MM_HINT_T0);
      if constexpr (NT >= 2) {
        for (int l = 0; l < P::kDwords; ++l) _mm_prefetch(qc + kFarAhead + 64 * l, _MM_HINT_T1);
      }
      if ((j & 1) == 0) {
        _mm_prefetch(sc + kAhead / (2 * P::kDwords), _MM_HINT_T0);
        if constexpr (NT >= 2) _mm_prefetch(sc + kFarAhead / (2 * P::kDwords), _MM_HINT_T1);
      }
      dw[p] = _mm512_cvtph_ps(load256(scales[p]));
      P::values(q[p], v[p]);
      q[p] += kBlockValues;
      scales[p] += 2 * kRows;
    }
    for (int t = 0; t < NT; ++t) {
      const uint8_t* xq = xc + 8 * NT + kQK * t;
      __m512i dot[NP];
      for (int p = 0; p < NP; ++p) dot[p] = _mm512_set1_epi32(i32_at(xc + 4 * t));
      for (int k = 0; k < 8; ++k) {
        const __m512i xb = _mm512_set1_epi32(i32_at(xq + 4 * k));
        for (int p = 0; p < NP; ++p) dot[p] = _mm512_dpbusd_epi32(dot[p], v[p][k], xb);
      }
      const __m512 dx = _mm512_set1_ps(f32_at(xc + 4 * (NT + t)));
      for (int p = 0; p < NP; ++p) acc[p][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[p]), _mm512_mul_ps(dw[p], dx), acc[p][t]);
    }
  }
  for (int p = 0; p < NP; ++p)
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + static_cast<size_t>(t) * ys + 16 * p, acc[p][t]);
}

// panel_columns for 1..kMaxTokens tokens.
template <class P, int NP>
void pass(int nt, int64_t nb, const uint8_t* panel, size_t panel_bytes, const uint8_t* xc, float* y, size_t ys) {
  switch (nt) {
    case 1: return panel_columns<P, 1, NP>(nb, panel, panel_bytes, xc, y, ys);
    case 2: return panel_columns<P, 2, NP>(nb, panel, panel_bytes, xc, y, ys);
    case 3: return panel_columns<P, 3, NP>(nb, panel, panel_bytes, xc, y, ys);
    default: return panel_columns<P, 4, NP>(nb, panel, panel_bytes, xc, y, ys);
  }
}

template <class P>
void columns(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y, size_t ys) {
  const int64_t nb = n / kQK;
  const int groups = (nt + kMaxTokens - 1) / kMaxTokens;
  thread_local std::vector<uint8_t> act;
  const size_t group_bytes = static_cast<size_t>(nb) * kTokenBytes * kMaxTokens;
  act.resize(group_bytes * static_cast<size_t>(groups));
  for (int g = 0; g < groups; ++g) {
    const uint8_t* rows[kMaxTokens];
    const int count = std::min(kMaxTokens, nt - g * kMaxTokens);
    for (int i = 0; i < count; ++i) rows[i] = x + static_cast<size_t>(g * kMaxTokens + i) * xs;
    interleave_q8_0(rows, count, nb, P::kOffset, act.data() + static_cast<size_t>(g) * group_bytes);
  }
  const size_t panel_bytes = kRows * ws;
  for (int r = 0; r < nr;) {  // two panels a pass; one for an odd last panel
    const uint8_t* panel = w + static_cast<size_t>(r / kRows) * panel_bytes;
    const bool two = nr - r >= 2 * kRows;
    for (int g = 0; g < groups; ++g) {  // the panels stay in L1/L2 for the later groups
      const int t = g * kMaxTokens;
      const uint8_t* xc = act.data() + static_cast<size_t>(g) * group_bytes;
      float* yo = y + static_cast<size_t>(t) * ys + static_cast<size_t>(r);
      if (two) pass<P, 2>(std::min(kMaxTokens, nt - t), nb, panel, panel_bytes, xc, yo, ys);
      else pass<P, 1>(std::min(kMaxTokens, nt - t), nb, panel, panel_bytes, xc, yo, ys);
    }
    r += two ? 2 * kRows : kRows;
  }
}

}  // namespace

void packed_q4_0_q8_0(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y,
                      size_t ys) {
  if (nt >= kGemmMinTokens) return panel_packed_q4_0_q8_0(n, w, ws, nr, x, xs, nt, y, ys);
  columns<PackedQ4_0>(n, w, ws, nr, x, xs, nt, y, ys);
}

void packed_q8_0_q8_0(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y,
                      size_t ys) {
  if (nt >= kGemmMinTokens) return panel_packed_q8_0_q8_0(n, w, ws, nr, x, xs, nt, y, ys);
  columns<PackedQ8_0>(n, w, ws, nr, x, xs, nt, y, ys);
}

}  // namespace folio::avx512

#include "kernels/target_end.h"
