// AVX-512 tile kernels on the GGUF blocks in place. Integer products by
// VNNI (vpdpbusd: unsigned x signed bytes, vpdpwssd: 16-bit pairs), so
// block sums are exact; float sums in another order than the reference
// (kernels/ref), against which tests/kernels check every tile shape.
//
// Legacy blocks (32 values, one scale): weights decode to unsigned bytes
// (Q4_0: q in 0..15 for q - 8; Q8_0: q + 128), so one vpdpbusd per 32
// pairs; the offset times the activation block sum starts the integer
// accumulator. Two blocks per 512-bit vector.
// K-quants (256-value super-blocks with integer sub-scales): vpmaddubsw
// then vpdpwssd with the sub-scales keeps the whole super-block in int32;
// the mins (Q4_K) and the -32 offset (Q6_K) come from the activation's
// 16-value sums.
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/avx512/gemm_avx512.h"
#include "tensor/blocks.h"

#define FOLIO_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c"
#include "kernels/target_begin.h"
#include <immintrin.h>

namespace folio::avx512 {

namespace {

#include "kernels/avx512/common.h"
#include "kernels/avx512/columns.h"


// Weights ahead for the next tile of rows (matrix-vector products stream
// from DRAM; the prefetcher alone leaves loads waiting).
FOLIO_INLINE void prefetch(const uint8_t* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }
// Farther ahead into L2: more lines in flight than L1's fill buffers allow
// (measured: Q4_0 matrix-vector 23 -> 26 GB/s with two threads).
FOLIO_INLINE void prefetch_l2(const uint8_t* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T1); }

// Up to this many tokens, the legacy types use their matrix-vector kernel
// (a few sequences decoding together).
constexpr int kGemvTokens = 4;

// Runs K::tile<NR, NT> over nr x nt in tiles of 4 x 4 (tails 2 and 1).
template <class K, int NR>
FOLIO_INLINE void tokens(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, int nt, float* y,
                         size_t ys) {
  int t = 0;
  for (; t + 4 <= nt; t += 4) K::template tile<NR, 4>(n, w, ws, x + t * xs, xs, y + t * ys, ys);
  if (t + 2 <= nt) {
    K::template tile<NR, 2>(n, w, ws, x + t * xs, xs, y + t * ys, ys);
    t += 2;
  }
  if (t < nt) K::template tile<NR, 1>(n, w, ws, x + t * xs, xs, y + t * ys, ys);
}

// Any number of tokens through a matrix-vector kernel G (LegacyGemv,
// KGemv): each token's activations prepared once, then kGemvTokens tokens
// at a time. Past kGemvTokens the rows go in blocks of kGemvRowBlock, so
// the later token groups find the block's weights in L2: at 8 tokens this
// beats the 4 x 4 register tiles (Q4_0 2x, Q8_0 1.3x, Q6_K 1.25x, Q4_K
// 1.1x measured per core).
constexpr int kGemvRowBlock = 16;

template <class G>
void gemv_tokens(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y,
                 size_t ys) {
  using P = typename G::Prepared;
  thread_local std::vector<P> prepared;
  if (prepared.size() < static_cast<size_t>(nt)) prepared.resize(static_cast<size_t>(nt));
  for (int t = 0; t < nt; ++t) G::prepare(x + static_cast<size_t>(t) * xs, n, prepared[static_cast<size_t>(t)]);
  // Per group of up to kGemvTokens tokens: its prepared rows and, for the
  // column kernels (2 tokens or more), its activations interleaved (one
  // pointer in the kernel instead of three per token: the loops had
  // spilled their pointers; 4 sequences, Q4_K_M 98.5-98.8 -> 102-104 t/s,
  // Q4_0 102-103 -> 104-107, in interleaved runs).
  struct Group {
    const P* a[kGemvTokens];
    int count;
    const uint8_t* xc;
  };
  thread_local std::vector<std::vector<uint8_t>> cols;
  const size_t n_groups = static_cast<size_t>((nt + kGemvTokens - 1) / kGemvTokens);
  if (cols.size() < n_groups) cols.resize(n_groups);
  thread_local std::vector<Group> groups;
  groups.resize(n_groups);
  for (size_t g = 0; g < n_groups; ++g) {
    Group& gr = groups[g];
    const int t = static_cast<int>(g) * kGemvTokens;
    gr.count = std::min(kGemvTokens, nt - t);
    for (int i = 0; i < gr.count; ++i) gr.a[i] = &prepared[static_cast<size_t>(t + i)];
    gr.xc = nullptr;
    if constexpr (G::kColumns) {
      if (gr.count >= 2) {
        G::interleave(gr.a, gr.count, n, cols[g]);
        gr.xc = cols[g].data();
      }
    }
  }
  const int block = nt <= kGemvTokens ? nr : kGemvRowBlock;
  for (int r = 0; r < nr; r += block) {
    const int rows = std::min(block, nr - r);
    for (size_t g = 0; g < n_groups; ++g) {
      const Group& gr = groups[g];
      G::dispatch(gr.count, n, w + static_cast<size_t>(r) * ws, ws, rows, gr.a, gr.xc,
                  y + g * kGemvTokens * ys + r, ys);
    }
  }
}

// The column kernel K::columns16 of 2..4 tokens over the rows in passes of
// 16; returns the rows it covered (the rest, fewer than 16, go to the row
// kernels).
template <class K>
int column_passes(int nt, int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* xc, float* y, size_t ys) {
  int r = 0;
  for (; r + 16 <= nr; r += 16) {
    const uint8_t* wr = w + static_cast<size_t>(r) * ws;
    if (nt == 2) K::template columns16<2>(n, wr, ws, xc, y + r, ys);
    else if (nt == 3) K::template columns16<3>(n, wr, ws, xc, y + r, ys);
    else K::template columns16<4>(n, wr, ws, xc, y + r, ys);
  }
  return r;
}

// Register tiles (the types without a matrix-vector kernel: Q2_K, Q3_K and
// the float types).
template <class K>
void tiles(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y, size_t ys) {
  int r = 0;
  for (; r + 4 <= nr; r += 4) tokens<K, 4>(n, w + r * ws, ws, x, xs, nt, y + r, ys);
  for (; r < nr; ++r) tokens<K, 1>(n, w + r * ws, ws, x, xs, nt, y + r, ys);
}

template <int NR, int NT>
FOLIO_INLINE void store(__m512 (&acc)[NR][NT], float* y, size_t ys) {
  for (int t = 0; t < NT; ++t)
    for (int r = 0; r < NR; ++r) y[t * ys + r] = _mm512_reduce_add_ps(acc[r][t]);
}

// ---- legacy blocks with Q8_0 activations -------------------------------

// The rows of the next pass (16 on), asked for line by line, row after row
// (sequential within a row, as the hardware prefetcher likes it), a few
// lines at a time spread over the current pass: into L1 when the 16 rows fit
// beside those in use, else into L2. Asking for a whole super-block's worth
// at once stalled the loop; in the order of the super-blocks (16 rows at a
// time) was slower (Q4_K_M, 4 sequences: 81 -> 96 t/s spread, 99 -> 105 by
// rows).
class NextRows {
 public:
  NextRows(const uint8_t* w, size_t ws) : w_(w + 16 * ws), ws_(ws), lines_(static_cast<int64_t>((ws + 63) / 64)),
                                          l1_(16 * ws <= (24u << 10)) {}
  FOLIO_INLINE void ask(int64_t count) {
    for (int64_t k = 0; k < count && row_ < 16; ++k) {
      const uint8_t* q = w_ + row_ * ws_ + line_ * 64;
      if (l1_) prefetch(q);
      else prefetch_l2(q);
      if (++line_ == lines_) {
        line_ = 0;
        ++row_;
      }
    }
  }

 private:
  const uint8_t* w_;
  size_t ws_;
  int64_t lines_, row_ = 0, line_ = 0;
  bool l1_;
};

// The 16 bytes at p + r * ws of rows r = 0..15 as four vectors of 16
// dwords: v[k] lane r = dword k of row r (loads into 128-bit lanes, then a
// 4 x 4 dword transpose inside the lanes; faster than four gathers).
FOLIO_INLINE void transpose16x4(const uint8_t* p, size_t ws, __m512i (&v)[4]) {
  __m512i z[4];
  for (int m = 0; m < 4; ++m) {  // z[m] = [row m | row 4+m | row 8+m | row 12+m]
    const uint8_t* q = p + m * ws;
    __m512i t = _mm512_castsi128_si512(load128(q));
    t = _mm512_inserti32x4(t, load128(q + 4 * ws), 1);
    t = _mm512_inserti32x4(t, load128(q + 8 * ws), 2);
    z[m] = _mm512_inserti32x4(t, load128(q + 12 * ws), 3);
  }
  const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
  v[0] = _mm512_unpacklo_epi64(t0, t2);
  v[1] = _mm512_unpackhi_epi64(t0, t2);
  v[2] = _mm512_unpacklo_epi64(t1, t3);
  v[3] = _mm512_unpackhi_epi64(t1, t3);
}

struct DecodeQ8_0 {
  static constexpr size_t kBytes = sizeof(BlockQ8_0);
  static constexpr char kOffset = static_cast<char>(0x80);  // q + 128 as unsigned
  static FOLIO_INLINE __m512i two(const uint8_t* p) {
    const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(load256(p + 2)), load256(p + 2 + kBytes), 1);
    return _mm512_xor_si512(z, _mm512_set1_epi8(kOffset));
  }
  static FOLIO_INLINE __m512i one(const uint8_t* p) {
    return _mm512_zextsi256_si512(_mm256_xor_si256(load256(p + 2), _mm256_set1_epi8(kOffset)));
  }
};

// Matrix-vector products (one token, or a few: batched decoding): the
// activation rows are prepared once per call (their values in the order
// the weight decoder yields them, the offset correction, the scales as
// floats), and each row's block scales are gathered 16 at a time. A step
// covers a group of blocks: Q8_0 a pair (one vector: [b0 | b1]), Q4_0 four
// blocks in two vectors, the low nibbles of the four ([b0 | b1 | b2 | b3],
// values 0..15 of each) and the high nibbles, so that one convert and one
// FMA serve four blocks.
// Each group also names its activation layout (Q8_0, or Q8_1 with the
// block sum for the types with a min) and where its min is (-1: none).
struct ActLayoutQ8_0 {
  static constexpr size_t kActBytes = sizeof(BlockQ8_0), kActQs = 2;
  static constexpr int kMinAt = -1;
};
struct ActLayoutQ8_1 {
  static constexpr size_t kActBytes = sizeof(BlockQ8_1), kActQs = 4;
  static constexpr int kMinAt = 2;  // the weight's min (f16) after d; the activation's d * sum after its d
};

struct GroupQ8_0 : ActLayoutQ8_0 {
  static constexpr size_t kBytes = sizeof(BlockQ8_0);
  static constexpr int kGroup = 2, kVecs = 1;
  static constexpr char kOffset = static_cast<char>(0x80);
  static FOLIO_INLINE void decode(const uint8_t* p, int count, __m512i (&w)[kVecs]) {
    w[0] = count == 2 ? DecodeQ8_0::two(p) : DecodeQ8_0::one(p);
  }
  static FOLIO_INLINE void act(const uint8_t* q, size_t stride, int count, __m512i (&x)[kVecs]) {  // q: the first block's qs
    const __m256i c = count == 2 ? load256(q + stride) : _mm256_setzero_si256();
    x[0] = _mm512_inserti64x4(_mm512_castsi256_si512(load256(q)), c, 1);
  }
  static FOLIO_INLINE __m512i scale_index(int j) {  // [j x 8 | j+1 x 8]
    return _mm512_inserti64x4(_mm512_set1_epi32(j), _mm256_set1_epi32(j + 1), 1);
  }
  // Column kernel: value dword k (values 4k..4k+3) of the block at p in 16
  // rows (row stride ws), paired with activation dword k.
  static constexpr bool kColumns = true;
  static FOLIO_INLINE void columns(const uint8_t* p, size_t ws, __m512i (&v)[8]) {
    __m512i a[4], b[4];
    transpose16x4(p + 2, ws, a);
    transpose16x4(p + 18, ws, b);
    for (int k = 0; k < 4; ++k) {
      v[k] = _mm512_xor_si512(a[k], _mm512_set1_epi8(kOffset));
      v[4 + k] = _mm512_xor_si512(b[k], _mm512_set1_epi8(kOffset));
    }
  }
};

// The 16 qs bytes of up to 4 blocks side by side (missing blocks zero).
FOLIO_INLINE __m512i gather_qs(const uint8_t* p, size_t stride, int count) {
  __m512i z = _mm512_castsi128_si512(load128(p));
  z = _mm512_inserti32x4(z, count > 1 ? load128(p + stride) : _mm_setzero_si128(), 1);
  z = _mm512_inserti32x4(z, count > 2 ? load128(p + 2 * stride) : _mm_setzero_si128(), 2);
  return _mm512_inserti32x4(z, count > 3 ? load128(p + 3 * stride) : _mm_setzero_si128(), 3);
}

// The nibble types (Q4_0, Q5_0, Q4_1, Q5_1) in groups of four blocks: the
// low nibbles of the four ([b0 | b1 | b2 | b3], values 0..15 of each) and
// the high nibbles, with the fifth bits from qh (kQhAt >= 0) at bit 4.
// Block layout: f16 d at 0, the min (if any) at 2, qh at kQhAt, qs at kQsAt.
template <class Block, class Act, size_t kQsAt, int kQhAt, char kOff>
struct NibbleGroup : Act {
  static constexpr size_t kBytes = sizeof(Block);
  static constexpr int kGroup = 4, kVecs = 2;
  static constexpr char kOffset = kOff;
  static FOLIO_INLINE void decode(const uint8_t* p, int count, __m512i (&w)[kVecs]) {
    const __m512i q = gather_qs(p + kQsAt, kBytes, count);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    w[0] = _mm512_and_si512(q, m4);
    w[1] = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
    if constexpr (kQhAt >= 0) {
      uint64_t lo = 0, hi = 0;  // fifth bits of values 0..15 / 16..31 of each block, 16 per block
      for (int k = 0; k < count; ++k) {
        const auto qh = static_cast<uint32_t>(i32_at(p + k * kBytes + kQhAt));
        lo |= static_cast<uint64_t>(qh & 0xFFFF) << (16 * k);
        hi |= static_cast<uint64_t>(qh >> 16) << (16 * k);
      }
      const __m512i b4 = _mm512_set1_epi8(0x10);
      w[0] = _mm512_or_si512(w[0], _mm512_and_si512(_mm512_movm_epi8(lo), b4));
      w[1] = _mm512_or_si512(w[1], _mm512_and_si512(_mm512_movm_epi8(hi), b4));
    }
  }
  static FOLIO_INLINE void act(const uint8_t* q, size_t stride, int count, __m512i (&x)[kVecs]) {
    x[0] = gather_qs(q, stride, count);
    x[1] = gather_qs(q + 16, stride, count);
  }
  static FOLIO_INLINE __m512i scale_index(int j) {  // [j x 4 | j+1 x 4 | j+2 x 4 | j+3 x 4]
    return _mm512_add_epi32(_mm512_set1_epi32(j), _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
  }
  // Column kernel (types without fifth bits or min): qs dword k of 16 rows
  // gives values 4k.. (low nibbles, vector k) and 16+4k.. (high, vector
  // 4+k), paired with activation dwords k and 4+k.
  static constexpr bool kColumns = kQhAt < 0 && Act::kMinAt < 0;
  static FOLIO_INLINE void columns(const uint8_t* p, size_t ws, __m512i (&v)[8]) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512i q[4];
    transpose16x4(p + kQsAt, ws, q);
    for (int k = 0; k < 4; ++k) {
      v[k] = _mm512_and_si512(q[k], m4);
      v[4 + k] = _mm512_and_si512(_mm512_srli_epi16(q[k], 4), m4);
    }
  }
};

// Q4_0 / Q5_0: x = d (q - 8 or 16). Q4_1 / Q5_1: x = d q + m, with Q8_1
// activations: dot = d dx sum(q x) + m s (s: the activation's d * sum).
using GroupQ4_0 = NibbleGroup<BlockQ4_0, ActLayoutQ8_0, 2, -1, 8>;
using GroupQ5_0 = NibbleGroup<BlockQ5_0, ActLayoutQ8_0, 6, 2, 16>;
using GroupQ4_1 = NibbleGroup<BlockQ4_1, ActLayoutQ8_1, 4, -1, 0>;
using GroupQ5_1 = NibbleGroup<BlockQ5_1, ActLayoutQ8_1, 8, 4, 0>;

template <class G>
struct LegacyGemv {
  static constexpr size_t kAct = G::kActBytes;
  static constexpr int kG = G::kGroup, kV = G::kVecs;
  static constexpr bool kMin = G::kMinAt >= 0;

  // One token's activation row, prepared: per group of blocks kV value
  // vectors and the offset correction (-offset * sums of 4 values).
  struct Prepared {
    std::vector<int32_t> xq, init;  // 16 lanes per vector
    std::vector<float> dx;          // per block, padded to 16
    std::vector<float> sum;         // Q8_1: d * sum per block, padded to 16
    const uint8_t* x = nullptr;     // the activation row itself
  };

  static void prepare(const uint8_t* x, int64_t n, Prepared& a) {
    const int64_t nb = n / kQK, ng = (nb + kG - 1) / kG;
    a.xq.resize(16 * static_cast<size_t>(ng * kV));
    a.init.resize(16 * static_cast<size_t>(ng));
    a.dx.assign(static_cast<size_t>(nb + 16), 0.f);
    const __m512i off = _mm512_set1_epi8(G::kOffset);
    for (int64_t s = 0; s < ng; ++s) {
      const int count = static_cast<int>(std::min<int64_t>(kG, nb - s * kG));
      __m512i xv[kV];
      G::act(x + s * kG * kAct + G::kActQs, kAct, count, xv);
      __m512i corr = _mm512_setzero_si512();
      for (int v = 0; v < kV; ++v) {
        _mm512_storeu_si512(a.xq.data() + 16 * (s * kV + v), xv[v]);
        corr = _mm512_dpbusd_epi32(corr, off, xv[v]);
      }
      _mm512_storeu_si512(a.init.data() + 16 * s, _mm512_sub_epi32(_mm512_setzero_si512(), corr));
    }
    for (int64_t b = 0; b < nb; ++b) a.dx[static_cast<size_t>(b)] = half(x + b * kAct);
    a.x = x;
    if (kMin) {
      a.sum.assign(static_cast<size_t>(nb + 16), 0.f);
      for (int64_t b = 0; b < nb; ++b) a.sum[static_cast<size_t>(b)] = half(x + b * kAct + 2);
    }
  }

  // The f16 values at offset `at` of up to 16 blocks from block b of a row
  // (the scales, or the mins).
  static FOLIO_INLINE __m512 row_scales(const uint8_t* row, int64_t b, int64_t nb, int at = 0) {
    const __m512i stride = lane_offsets(G::kBytes);
    const int64_t left = nb - b;
    const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
    const __m512i raw = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, stride, row + b * G::kBytes + at, 1);
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(raw));
  }

  // One group of blocks from block b (count of them; kG but at a row's
  // end) for NR rows x NT tokens. sw/sx: the 16-block scale vectors.
  template <int NR, int NT, bool kFull>
  static FOLIO_INLINE void group(const uint8_t* w, size_t ws, const int32_t* const (&xq)[NT],
                                 const int32_t* const (&init)[NT], int64_t b, int64_t g, int count,
                                 const __m512 (&dw)[NR], const __m512 (&dx)[NT], __m512 (&acc)[NR][NT]) {
    const int64_t s = b / kG;
    const __m512i idx = G::scale_index(static_cast<int>(b - g));
    __m512 sx[NT];
    if (NT > 1) {
      for (int t = 0; t < NT; ++t) sx[t] = _mm512_permutexvar_ps(idx, dx[t]);
    }
    for (int r = 0; r < NR; ++r) {
      const uint8_t* p = w + r * ws + b * G::kBytes;
      prefetch(p + NR * ws);  // the next rows into L1, and farther ones into L2
      prefetch_l2(p + 6 * NR * ws);
      if (kG * G::kBytes > 64) {
        prefetch(p + NR * ws + 64);
        prefetch_l2(p + 6 * NR * ws + 64);
      }
      __m512i wq[kV];
      G::decode(p, kFull ? kG : count, wq);
      const __m512 sw = _mm512_permutexvar_ps(idx, dw[r]);  // one token: dx is in dw already
      for (int t = 0; t < NT; ++t) {
        __m512i dot = _mm512_loadu_si512(init[t] + 16 * s);
        for (int v = 0; v < kV; ++v) dot = _mm512_dpbusd_epi32(dot, wq[v], _mm512_loadu_si512(xq[t] + 16 * (s * kV + v)));
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), NT == 1 ? sw : _mm512_mul_ps(sw, sx[t]), acc[r][t]);
      }
    }
  }

  // NR rows x NT tokens. Per 16 blocks the row and token scales are loaded
  // once; per group each is spread to the group's lanes and multiplied per
  // (row, token).
  template <int NR, int NT>
  static void rows(int64_t n, const uint8_t* w, size_t ws, const Prepared* const* a, float* y, size_t ys) {
    const int64_t nb = n / kQK;
    __m512 acc[NR][NT];
    for (int r = 0; r < NR; ++r)
      for (int t = 0; t < NT; ++t) acc[r][t] = _mm512_setzero_ps();
    __m512 macc[NR][NT];  // Q4_1/Q5_1: sum over blocks of m * s
    for (int r = 0; r < NR; ++r)
      for (int t = 0; t < NT; ++t) macc[r][t] = _mm512_setzero_ps();
    const int32_t* xq[NT];
    const int32_t* init[NT];
    for (int t = 0; t < NT; ++t) {
      xq[t] = a[t]->xq.data();
      init[t] = a[t]->init.data();
    }
    for (int64_t g = 0; g < nb; g += 16) {  // 16 blocks
      __m512 dw[NR], dx[NT];
      for (int t = 0; t < NT; ++t) dx[t] = _mm512_loadu_ps(a[t]->dx.data() + g);
      if constexpr (kMin) {
        for (int r = 0; r < NR; ++r) {
          const __m512 mw = row_scales(w + r * ws, g, nb, G::kMinAt);
          for (int t = 0; t < NT; ++t) macc[r][t] = _mm512_fmadd_ps(mw, _mm512_loadu_ps(a[t]->sum.data() + g), macc[r][t]);
        }
      }
      for (int r = 0; r < NR; ++r) {
        dw[r] = row_scales(w + r * ws, g, nb);
        if (NT == 1) dw[r] = _mm512_mul_ps(dw[r], dx[0]);
      }
      const int64_t end = g + 16 < nb ? g + 16 : nb;
      int64_t b = g;
      for (; b + kG <= end; b += kG) group<NR, NT, true>(w, ws, xq, init, b, g, kG, dw, dx, acc);
      if (b < end) group<NR, NT, false>(w, ws, xq, init, b, g, static_cast<int>(end - b), dw, dx, acc);
    }
    for (int t = 0; t < NT; ++t)
      for (int r = 0; r < NR; ++r) {
        y[t * ys + r] = _mm512_reduce_add_ps(kMin ? _mm512_add_ps(acc[r][t], macc[r][t]) : acc[r][t]);
      }
  }

  template <int NR, int NT>
  static void all_rows(int64_t n, const uint8_t* w, size_t ws, int nr, const Prepared* const* a, float* y, size_t ys) {
    int r = 0;
    for (; r + NR <= nr; r += NR) rows<NR, NT>(n, w + r * ws, ws, a, y + r, ys);
    for (; r < nr; ++r) rows<1, NT>(n, w + r * ws, ws, a, y + r, ys);
  }

  // Column kernel: 16 rows x NT tokens a pass. A block's value dwords of
  // the 16 rows are transposed into vectors (lane = row), so one vpdpbusd
  // covers 16 rows x 4 values of a token and one convert + FMA per block
  // serves 16 rows: no horizontal sums, no per-row scale spreading; the 16
  // scales come by one gather. Per core with the weights from DRAM (2
  // processes), Q4_0 x 4 tokens: 67 -> 91 GMAC/s, x 2: 48 -> 53; at one
  // token the row kernel stays ahead (it streams each row).
  static constexpr bool kColumns = G::kColumns;
  // Its activations, interleaved per block so that one pointer walks them
  // all (with a pointer per token and per array the loop ran out of
  // registers): corr[nt] (int32: -offset x the block's value sum, the
  // dot's start), dx[nt] (float), then the nt tokens' 32 values. Built only
  // for 2 tokens or more: the one-token path does none of it.
  static constexpr size_t kColToken = 8 + kQK;
  static void interleave(const Prepared* const* a, int nt, int64_t n, std::vector<uint8_t>& out) {
    static_assert(kAct == sizeof(BlockQ8_0) && G::kActQs == 2, "column kernels take Q8_0 activations");
    const int64_t nb = n / kQK;
    out.resize(static_cast<size_t>(nb) * kColToken * static_cast<size_t>(nt));
    const uint8_t* rows[kGemvTokens];
    for (int t = 0; t < nt; ++t) rows[t] = a[t]->x;
    interleave_q8_0(rows, nt, nb, static_cast<uint8_t>(G::kOffset), out.data());
  }


  template <int NT>
  static void columns16(int64_t n, const uint8_t* w, size_t ws, const uint8_t* xc, float* y, size_t ys) {
    const int64_t nb = n / kQK;
    const __m512i idx = lane_offsets(ws);
    // The next 16 rows while these are computed: per block as many lines as
    // a block of 16 rows takes (one more per block measured 5-7% slower:
    // the requests compete with the rows in use).
    NextRows next(w, ws);
    constexpr int64_t kPf = (16 * G::kBytes + 63) / 64;
    constexpr size_t kStride = kColToken * NT;
    __m512 acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t j = 0; j < nb; ++j, xc += kStride) {
      const uint8_t* p = w + j * G::kBytes;
      next.ask(kPf);
      const __m512 dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_i32gather_epi32(idx, p, 1)));
      __m512i v[8];
      G::columns(p, ws, v);
      for (int t = 0; t < NT; ++t) {
        const uint8_t* xq = xc + 8 * NT + kQK * t;
        __m512i dot = _mm512_set1_epi32(i32_at(xc + 4 * t));
        for (int k = 0; k < 8; ++k) dot = _mm512_dpbusd_epi32(dot, v[k], _mm512_set1_epi32(i32_at(xq + 4 * k)));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(dw, _mm512_set1_ps(f32_at(xc + 4 * (NT + t)))),
                                 acc[t]);
      }
    }
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * ys, acc[t]);
  }

  // 1..kGemvTokens prepared tokens.
  static void dispatch(int nt, int64_t n, const uint8_t* w, size_t ws, int nr, const Prepared* const* a,
                       const uint8_t* xc, float* y, size_t ys) {
    if constexpr (G::kColumns) {
      if (nt >= 2) {
        const int r = column_passes<LegacyGemv>(nt, n, w, ws, nr, xc, y, ys);
        w += static_cast<size_t>(r) * ws;
        y += r;
        nr -= r;
        if (nr == 0) return;
      }
    }
    switch (nt) {
      case 1: return all_rows<4, 1>(n, w, ws, nr, a, y, ys);
      case 2: return all_rows<2, 2>(n, w, ws, nr, a, y, ys);
      case 3: return all_rows<2, 3>(n, w, ws, nr, a, y, ys);
      default: return all_rows<2, 4>(n, w, ws, nr, a, y, ys);  // 4 x 4 spills accumulators: 20% slower
    }
  }
};

// ---- K-quants with Q8_K activations -----------------------------------

constexpr size_t kQ8K = sizeof(BlockQ8_K);
constexpr size_t kQ8KQs = offsetof(BlockQ8_K, qs);
constexpr size_t kQ8KSums = offsetof(BlockQ8_K, bsums);

// Word indices selecting, for 64 values (32 maddubs words), scale `a` for
// words 0..15 and `b` for 16..31 (Q4_K: one scale per 32 values).
FOLIO_INLINE __m512i index_halves(int a, int b) {
  return _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(a)), _mm256_set1_epi16(static_cast<short>(b)), 1);
}

// Register tiles for Q2_K and Q3_K. A K-quant decoder gives, per
// super-block of a row: begin() (scales), chunk(c) (64 unsigned values and
// the 16-bit scale of each maddubs word; Q2_K/Q3_K only: the matrix-vector
// layouts below decode Q4_K/Q5_K/Q6_K themselves), finish() (the float
// contribution from the int32 sum, the activation's scale and its 16-value
// sums).
template <class D>
struct KQuant {
  template <int NR, int NT>
  static void tile(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, size_t ys) {
    __m512 acc[NR][NT];
    for (int r = 0; r < NR; ++r)
      for (int t = 0; t < NT; ++t) acc[r][t] = _mm512_setzero_ps();
    const int64_t nb = n / kQK_K;
    for (int64_t i = 0; i < nb; ++i) {
      typename D::Row row[NR];
      for (int r = 0; r < NR; ++r) {
        const uint8_t* p = w + r * ws + i * D::kBytes;
        {  // the next tile of rows (weights stream from memory once)
          for (size_t off = 0; off < D::kBytes; off += 64) {
            prefetch(p + NR * ws + off);
            prefetch_l2(p + 6 * NR * ws + off);
          }
        }
        D::begin(p, row[r]);
      }
      __m512i isum[NR][NT];
      for (int r = 0; r < NR; ++r)
        for (int t = 0; t < NT; ++t) isum[r][t] = _mm512_setzero_si512();
      for (int c = 0; c < 4; ++c) {
        __m512i q[NR], sc[NR];
        for (int r = 0; r < NR; ++r) D::chunk(w + r * ws + i * D::kBytes, row[r], c, q[r], sc[r]);
        for (int t = 0; t < NT; ++t) {
          const __m512i xv = load512(x + t * xs + i * kQ8K + kQ8KQs + 64 * c);
          for (int r = 0; r < NR; ++r) isum[r][t] = _mm512_dpwssd_epi32(isum[r][t], _mm512_maddubs_epi16(q[r], xv), sc[r]);
        }
      }
      for (int t = 0; t < NT; ++t) {
        const uint8_t* xb = x + t * xs + i * kQ8K;
        const float dx = f32_at(xb);
        const __m256i bsums = load256(xb + kQ8KSums);
        for (int r = 0; r < NR; ++r) acc[r][t] = D::finish(row[r], isum[r][t], dx, bsums, acc[r][t]);
      }
    }
    store(acc, y, ys);
  }
};

// Q4_K: x = d*sc*q - dmin*m per 32 values.
struct Q4KDecode {
  static constexpr size_t kBytes = sizeof(BlockQ4_K);
  struct Row {
    __m512i sc;    // 8 sub-scales as int16 in words 0..7
    __m256i mins;  // min j in words 2j, 2j+1 (pairs with the 16-value sums)
    float d, dmin;
  };
  static FOLIO_INLINE void begin(const uint8_t* p, Row& row) {
    row.d = half(p);
    row.dmin = half(p + 2);
    uint32_t u[4];
    std::memcpy(u, p + 4, 12);
    constexpr uint32_t k1 = 0x3f3f3f3f, k2 = 0x0f0f0f0f, k3 = 0x03030303;
    u[3] = ((u[2] >> 4) & k2) | (((u[1] >> 6) & k3) << 4);  // mins 4..7
    const uint32_t m03 = u[1] & k1;                          // mins 0..3
    u[1] = (u[2] & k2) | (((u[0] >> 6) & k3) << 4);          // scales 4..7
    u[2] = m03;
    u[0] &= k1;                                               // scales 0..3
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(u));  // scales 0..7, mins 0..7
    row.sc = _mm512_castsi128_si512(_mm_cvtepu8_epi16(b));
    row.mins = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(b, b));
  }
  // acc += dx * (d * isum - dmin * sum_j min_j * sum_j(x))
  static FOLIO_INLINE __m512 finish(const Row& row, __m512i isum, float dx, __m256i bsums, __m512 acc) {
    const __m512 mterm = _mm512_zextps256_ps512(_mm256_cvtepi32_ps(_mm256_madd_epi16(bsums, row.mins)));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(dx * row.d), acc);
    return _mm512_fnmadd_ps(mterm, _mm512_set1_ps(dx * row.dmin), acc);
  }
};

// Q5_K: Q4_K's scales and nibbles plus a fifth bit per value: bit j of
// qh[l] belongs to sub-block j, value l.
struct Q5KDecode : Q4KDecode {
  static constexpr size_t kBytes = sizeof(BlockQ5_K);
  // The fifth bits of sub-blocks a (bytes 0..31) and b (32..63), as 16.
  static FOLIO_INLINE __m512i high_bits(const uint8_t* p, int a, int b) {
    const __m256i h = load256(p + offsetof(BlockQ5_K, qh));
    const __m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(h), h, 1);
    const __m512i shift = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(a)), _mm256_set1_epi16(static_cast<short>(b)), 1);
    return _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(hz, shift), _mm512_set1_epi8(1)), 4);
  }
};

// Word k of a maddubs result over values 64c.. covers values 2k, 2k+1:
// Q6_K group 4c + k / 8.
FOLIO_INLINE __m512i q6_index(int c) {
  alignas(64) static const int16_t table[4][32] = {
      {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3},
      {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7},
      {8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11},
      {12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13,
       14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15}};
  return _mm512_load_si512(table[c]);
}

// Q6_K: x = d*sc*(q - 32) per 16 values.
struct Q6KDecode {
  static constexpr size_t kBytes = sizeof(BlockQ6_K);
  struct Row {
    __m512i sc;  // 16 group scales as int16
    float d;
  };
  static FOLIO_INLINE void begin(const uint8_t* p, Row& row) {
    row.d = half(p + offsetof(BlockQ6_K, d));
    row.sc = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(load128(p + offsetof(BlockQ6_K, scales))));
  }
  // sum of (q - 32) x = sum q x - 32 * sum_g scale_g * sum_g(x), in int32
  static FOLIO_INLINE __m512 finish(const Row& row, __m512i isum, float dx, __m256i bsums, __m512 acc) {
    const __m256i bias = _mm256_slli_epi32(_mm256_madd_epi16(bsums, _mm512_castsi512_si256(row.sc)), 5);
    const __m512i v = _mm512_sub_epi32(isum, _mm512_zextsi256_si512(bias));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), _mm512_set1_ps(dx * row.d), acc);
  }
};

// K-quants for one to four tokens (generation, batched decoding): a
// super-block decodes with whole 64-byte loads into four 64-value chunks
// whose order the layout L chooses, and the activations are prepared once
// per call in that order (with their 16-value sums and scales).
template <class L>
struct KGemv {
  using D = typename L::Decode;

  struct Prepared {
    std::vector<int8_t> x;        // 256 values per super-block, chunk order
    std::vector<int16_t> bsums;   // 16 per super-block
    std::vector<float> d;         // per super-block
    const uint8_t* raw = nullptr; // the activation row itself (Q8_K blocks)
  };

  static void prepare(const uint8_t* x, int64_t n, Prepared& a) {
    const int64_t nb = n / kQK_K;
    a.x.resize(static_cast<size_t>(n));
    a.bsums.resize(static_cast<size_t>(16 * nb));
    a.d.resize(static_cast<size_t>(nb));
    for (int64_t i = 0; i < nb; ++i) {
      const uint8_t* b = x + i * kQ8K;
      for (int k = 0; k < 8; ++k) {  // 32-value slots: slot k holds values 32 * kOrder[k] ..
        std::memcpy(a.x.data() + i * kQK_K + 32 * k, b + kQ8KQs + 32 * L::kOrder[k], 32);
      }
      std::memcpy(a.bsums.data() + 16 * i, b + kQ8KSums, 32);
      a.d[static_cast<size_t>(i)] = f32_at(b);
    }
    a.raw = x;
  }

  template <int NR, int NT>
  static void rows(int64_t n, const uint8_t* w, size_t ws, const Prepared* const* a, float* y, size_t ys) {
    const int64_t nb = n / kQK_K;
    __m512i idx[4];
    for (int c = 0; c < 4; ++c) idx[c] = L::scale_index(c);
    __m512 acc[NR][NT];
    for (int r = 0; r < NR; ++r)
      for (int t = 0; t < NT; ++t) acc[r][t] = _mm512_setzero_ps();
    for (int64_t i = 0; i < nb; ++i) {
      typename D::Row row[NR];
      __m512i q[NR][4];
      for (int r = 0; r < NR; ++r) {
        const uint8_t* p = w + r * ws + i * D::kBytes;
        for (size_t off = 0; off < D::kBytes; off += 64) {
          prefetch(p + NR * ws + off);
          prefetch_l2(p + 6 * NR * ws + off);
        }
        D::begin(p, row[r]);
        L::decode(p, q[r]);
      }
      for (int t = 0; t < NT; ++t) {
        const int8_t* xv = a[t]->x.data() + i * kQK_K;
        const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[t]->bsums.data() + 16 * i));
        const float dx = a[t]->d[static_cast<size_t>(i)];
        for (int r = 0; r < NR; ++r) {
          __m512i isum = _mm512_setzero_si512();
          for (int c = 0; c < 4; ++c) {
            const __m512i xs = _mm512_loadu_si512(xv + 64 * c);
            isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(q[r][c], xs), _mm512_permutexvar_epi16(idx[c], row[r].sc));
          }
          acc[r][t] = D::finish(row[r], isum, dx, bsums, acc[r][t]);
        }
      }
    }
    for (int t = 0; t < NT; ++t)
      for (int r = 0; r < NR; ++r) {
        y[t * ys + r] = _mm512_reduce_add_ps(acc[r][t]);
      }
  }

  template <int NR, int NT>
  static void all_rows(int64_t n, const uint8_t* w, size_t ws, int nr, const Prepared* const* a, float* y, size_t ys) {
    int r = 0;
    for (; r + NR <= nr; r += NR) rows<NR, NT>(n, w + r * ws, ws, a, y + r, ys);
    for (; r < nr; ++r) rows<1, NT>(n, w + r * ws, ws, a, y + r, ys);
  }

  // The column kernels' activations, interleaved per super-block (one
  // pointer walks them): d[nt] (float), then per token the Q4_K mins'
  // sums (8 floats: the sums of each 32 values) or the Q6_K offset's
  // corrections (16 int32: -32 x the sums of each 16 values, the group
  // dots' start), then the nt tokens' 256 values (Q8_K order).
  static constexpr bool kColumns = L::kColumns;
  static void interleave(const Prepared* const* a, int nt, int64_t n, std::vector<uint8_t>& out) {
    const int64_t nb = n / kQK_K;
    constexpr size_t kColExtra = L::kColExtra;
    const size_t stride = (4 + kColExtra + kQK_K) * static_cast<size_t>(nt);
    out.resize(static_cast<size_t>(nb) * stride);
    for (int64_t i = 0; i < nb; ++i) {
      uint8_t* o = out.data() + static_cast<size_t>(i) * stride;
      for (int t = 0; t < nt; ++t) {
        std::memcpy(o + 4 * t, &a[t]->d[static_cast<size_t>(i)], 4);
        const int16_t* bs = a[t]->bsums.data() + 16 * i;
        uint8_t* e = o + 4 * nt + kColExtra * t;
        for (int k = 0; k < static_cast<int>(kColExtra / 4); ++k) {
          if constexpr (L::kCorr != 0) {
            const int32_t c = -L::kCorr * bs[k];
            std::memcpy(e + 4 * k, &c, 4);
          } else {
            const auto sum = static_cast<float>(bs[2 * k] + bs[2 * k + 1]);
            std::memcpy(e + 4 * k, &sum, 4);
          }
        }
        std::memcpy(o + (4 + kColExtra) * nt + kQK_K * t, a[t]->raw + i * kQ8K + kQ8KQs, kQK_K);
      }
    }
  }

  static void dispatch(int nt, int64_t n, const uint8_t* w, size_t ws, int nr, const Prepared* const* a,
                       const uint8_t* xc, float* y, size_t ys) {
    if constexpr (L::kColumns) {
      if (nt >= 2) {
        const int r = column_passes<L>(nt, n, w, ws, nr, xc, y, ys);
        w += static_cast<size_t>(r) * ws;
        y += r;
        nr -= r;
        if (nr == 0) return;
      }
    }
    switch (nt) {
      case 1: return all_rows<3, 1>(n, w, ws, nr, a, y, ys);
      case 2: return all_rows<2, 2>(n, w, ws, nr, a, y, ys);
      case 3: return all_rows<2, 3>(n, w, ws, nr, a, y, ys);
      default: return all_rows<2, 4>(n, w, ws, nr, a, y, ys);  // 4 x 4 spills accumulators: 20% slower
    }
  }
};

// Q4_K: two loads of 64 nibble bytes; low and high nibbles give sub-blocks
// [0 | 2], [1 | 3], [4 | 6], [5 | 7].
struct Q4KLayout {
  using Decode = Q4KDecode;
  static constexpr int kOrder[8] = {0, 2, 1, 3, 4, 6, 5, 7};
  static constexpr bool kColumns = true;
  static constexpr int kCorr = 0;
  static constexpr size_t kColExtra = 32;  // the column kernel's activations: the mins' 8 sums per token
  template <int NT>
  static void columns16(int64_t n, const uint8_t* w, size_t ws, const uint8_t* xc, float* y, size_t ys);
  static FOLIO_INLINE void decode(const uint8_t* p, __m512i (&q)[4]) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i z0 = load512(p + offsetof(BlockQ4_K, qs)), z1 = load512(p + offsetof(BlockQ4_K, qs) + 64);
    q[0] = _mm512_and_si512(z0, m4);
    q[1] = _mm512_and_si512(_mm512_srli_epi16(z0, 4), m4);
    q[2] = _mm512_and_si512(z1, m4);
    q[3] = _mm512_and_si512(_mm512_srli_epi16(z1, 4), m4);
  }
  static __m512i scale_index(int c) {
    static constexpr int kA[4] = {0, 1, 4, 5}, kB[4] = {2, 3, 6, 7};
    return index_halves(kA[c], kB[c]);
  }
};

// Q5_K: Q4_K's layout plus the fifth bits.
struct Q5KLayout {
  using Decode = Q5KDecode;
  static constexpr int kOrder[8] = {0, 2, 1, 3, 4, 6, 5, 7};
  static constexpr bool kColumns = false;
  static FOLIO_INLINE void decode(const uint8_t* p, __m512i (&q)[4]) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i z0 = load512(p + offsetof(BlockQ5_K, qs)), z1 = load512(p + offsetof(BlockQ5_K, qs) + 64);
    q[0] = _mm512_or_si512(_mm512_and_si512(z0, m4), Q5KDecode::high_bits(p, 0, 2));
    q[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(z0, 4), m4), Q5KDecode::high_bits(p, 1, 3));
    q[2] = _mm512_or_si512(_mm512_and_si512(z1, m4), Q5KDecode::high_bits(p, 4, 6));
    q[3] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(z1, 4), m4), Q5KDecode::high_bits(p, 5, 7));
  }
  static __m512i scale_index(int c) { return Q4KLayout::scale_index(c); }
};

// Q6_K: chunk k holds values [32k .. 32k+31 | 128+32k .. 128+32k+31]: the
// low (k < 2) or high nibbles of ql[32(k%2)..] and ql[64+32(k%2)..], and the
// bit pair k of all 64 qh bytes, so three loads and two lane shuffles
// decode the super-block.
struct Q6KLayout {
  using Decode = Q6KDecode;
  static constexpr int kOrder[8] = {0, 4, 1, 5, 2, 6, 3, 7};
  static constexpr bool kColumns = true;
  static constexpr int kCorr = 32;  // the offset, folded into each group's integer dot
  static constexpr size_t kColExtra = 64;  // the column kernel's activations: 16 corrections per token
  template <int NT>
  static void columns16(int64_t n, const uint8_t* w, size_t ws, const uint8_t* xc, float* y, size_t ys);
  static FOLIO_INLINE void decode(const uint8_t* p, __m512i (&q)[4]) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
    const __m512i za = load512(p + offsetof(BlockQ6_K, ql)), zb = load512(p + offsetof(BlockQ6_K, ql) + 64);
    const __m512i l0 = _mm512_shuffle_i64x2(za, zb, _MM_SHUFFLE(1, 0, 1, 0));  // ql[0..31], ql[64..95]
    const __m512i l1 = _mm512_shuffle_i64x2(za, zb, _MM_SHUFFLE(3, 2, 3, 2));  // ql[32..63], ql[96..127]
    const __m512i h = load512(p + offsetof(BlockQ6_K, qh));
    q[0] = _mm512_or_si512(_mm512_and_si512(l0, m4), _mm512_and_si512(_mm512_slli_epi16(h, 4), m30));
    q[1] = _mm512_or_si512(_mm512_and_si512(l1, m4), _mm512_and_si512(_mm512_slli_epi16(h, 2), m30));
    q[2] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l0, 4), m4), _mm512_and_si512(h, m30));
    q[3] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l1, 4), m4), _mm512_and_si512(_mm512_srli_epi16(h, 2), m30));
  }
  // Word w of chunk k's maddubs result covers values 2w, 2w+1 of the chunk:
  // groups 2k, 2k+1 (words 0..15), then 8+2k, 9+2k.
  static __m512i scale_index(int c) {
    alignas(64) int16_t t[32];
    for (int w = 0; w < 32; ++w) t[w] = static_cast<int16_t>((w < 16 ? 2 * c : 8 + 2 * c) + (w % 16) / 8);
    return _mm512_load_si512(t);
  }
};

// Q4_K column kernel (2 to 4 tokens): 16 rows a pass, lane = row. Per
// super-block the rows' scales and mins are unpacked 16 at a time (their 12
// bytes transposed like the values), and per 32-value sub-block eight
// vpdpbusd (16 rows x 4 values each, the activation dword broadcast) give
// the 16 rows' integer sums, then one convert + FMA by the sub-scales: about
// 9 multiply-port operations per 512 products, where the row kernel needs 16
// (vpmaddubsw + vpdpwssd per 64). The mins: one FMA per sub-block with the
// activation's 32-value sum.
template <int NT>
void Q4KLayout::columns16(int64_t n, const uint8_t* w, size_t ws, const uint8_t* xc, float* y, size_t ys) {
  const int64_t nb = n / kQK_K;
  constexpr size_t kB = sizeof(BlockQ4_K);
  const __m512i idx = lane_offsets(ws);
  NextRows next(w, ws);  // a quarter of a super-block's lines per 64-value chunk
  constexpr int kAsk = ((16 * kB + 63) / 64 + 3) / 4;
  constexpr size_t kExtra = 4 * NT, kQs = (4 + kColExtra) * NT, kStride = kQs + kQK_K * NT;
  const __m512i m4 = _mm512_set1_epi8(0x0F), k1 = _mm512_set1_epi32(0x3f3f3f3f), k2 = _mm512_set1_epi32(0x0f0f0f0f),
                k3 = _mm512_set1_epi32(0x03030303), low8 = _mm512_set1_epi32(0xFF);
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t i = 0; i < nb; ++i, xc += kStride) {
    const uint8_t* p = w + i * kB;
    // d and dmin of the 16 rows.
    const __m512i dd = _mm512_i32gather_epi32(idx, p, 1);
    const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dd));
    const __m512 dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dd, 16)));
    // Scales and mins, four bytes (sub-blocks) per lane, as Q4KDecode::begin.
    __m512i v[4];
    transpose16x4(p + offsetof(BlockQ4_K, scales), ws, v);
    const __m512i sc03 = _mm512_and_si512(v[0], k1), m03 = _mm512_and_si512(v[1], k1);
    const __m512i sc47 = _mm512_or_si512(_mm512_and_si512(v[2], k2),
                                         _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(v[0], 6), k3), 4));
    const __m512i m47 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(v[2], 4), k2),
                                        _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(v[1], 6), k3), 4));
    __m512 sb[NT], mn[NT];
    for (int t = 0; t < NT; ++t) {
      sb[t] = _mm512_setzero_ps();
      mn[t] = _mm512_setzero_ps();
    }
    for (int j = 0; j < 4; ++j) {  // 64 values: sub-blocks 2j (low nibbles) and 2j+1 (high)
      next.ask(kAsk);
      __m512i lo[8], hi[8];
      transpose16x4(p + offsetof(BlockQ4_K, qs) + 32 * j, ws, v);
      for (int k = 0; k < 4; ++k) {
        lo[k] = _mm512_and_si512(v[k], m4);
        hi[k] = _mm512_and_si512(_mm512_srli_epi16(v[k], 4), m4);
      }
      transpose16x4(p + offsetof(BlockQ4_K, qs) + 32 * j + 16, ws, v);
      for (int k = 0; k < 4; ++k) {
        lo[4 + k] = _mm512_and_si512(v[k], m4);
        hi[4 + k] = _mm512_and_si512(_mm512_srli_epi16(v[k], 4), m4);
      }
      const int s0 = 2 * j, s1 = 2 * j + 1;
      const __m512i scw = s0 < 4 ? sc03 : sc47, mw = s0 < 4 ? m03 : m47;
      const int sh0 = 8 * (s0 % 4), sh1 = 8 * (s1 % 4);
      const __m512 sc0 = _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(scw, sh0), low8));
      const __m512 sc1 = _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(scw, sh1), low8));
      const __m512 mm0 = _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(mw, sh0), low8));
      const __m512 mm1 = _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(mw, sh1), low8));
      for (int t = 0; t < NT; ++t) {
        const uint8_t* xq = xc + kQs + kQK_K * t + 64 * j;
        __m512i dot0 = _mm512_setzero_si512(), dot1 = _mm512_setzero_si512();
        for (int k = 0; k < 8; ++k) {
          dot0 = _mm512_dpbusd_epi32(dot0, lo[k], _mm512_set1_epi32(i32_at(xq + 4 * k)));
          dot1 = _mm512_dpbusd_epi32(dot1, hi[k], _mm512_set1_epi32(i32_at(xq + 32 + 4 * k)));
        }
        sb[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot0), sc0, sb[t]);
        sb[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot1), sc1, sb[t]);
        const uint8_t* s32 = xc + kExtra + kColExtra * t;
        mn[t] = _mm512_fmadd_ps(mm0, _mm512_set1_ps(f32_at(s32 + 4 * s0)), mn[t]);
        mn[t] = _mm512_fmadd_ps(mm1, _mm512_set1_ps(f32_at(s32 + 4 * s1)), mn[t]);
      }
    }
    for (int t = 0; t < NT; ++t) {
      const __m512 sbt = _mm512_fmsub_ps(d, sb[t], _mm512_mul_ps(dmin, mn[t]));
      acc[t] = _mm512_fmadd_ps(sbt, _mm512_set1_ps(f32_at(xc + 4 * t)), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * ys, acc[t]);
}

// Q6_K column kernel (2 to 4 tokens), as Q4_K's: per 16-value group four
// vpdpbusd (16 rows x 4 values) and one convert + FMA by the group scales;
// the -32 offset starts each group's integer dot (-32 x the activation's
// 16-value sum). Per core hot, 4 tokens: 70 -> 74-81 GMAC/s (more decoding
// than Q4_K's for 6-bit values), 76-78 -> 90-91 with the activations
// interleaved and the offset in the integer dot; Q4_K_M, 4 sequences:
// +2-5% (output and ffn_down).
// Values of half h, dword k (values 4k..4k+3 of each 32): the low nibbles
// of ql[64h + 4k..] and ql[64h + 32 + 4k..] and the bit pairs of
// qh[32h + 4k..] give values 128h + {0, 32, 64, 96} + 4k.
template <int NT>
void Q6KLayout::columns16(int64_t n, const uint8_t* w, size_t ws, const uint8_t* xc, float* y, size_t ys) {
  const int64_t nb = n / kQK_K;
  constexpr size_t kB = sizeof(BlockQ6_K);
  const __m512i idx = lane_offsets(ws);
  NextRows next(w, ws);  // a quarter of a super-block's lines per (half, k range)
  constexpr int kAsk = ((16 * kB + 63) / 64 + 3) / 4;
  constexpr size_t kExtra = 4 * NT, kQs = (4 + kColExtra) * NT, kStride = kQs + kQK_K * NT;
  const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t i = 0; i < nb; ++i, xc += kStride) {
    const uint8_t* p = w + i * kB;
    // d of the 16 rows (the dword ending with it: the block's last bytes).
    const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(
        _mm512_srli_epi32(_mm512_i32gather_epi32(idx, p + offsetof(BlockQ6_K, d) - 2, 1), 16)));
    __m512i scv[4];  // group scales 4c..4c+3 of each row in lane bytes
    transpose16x4(p + offsetof(BlockQ6_K, scales), ws, scv);
    __m512 sb[NT];
    for (int t = 0; t < NT; ++t) sb[t] = _mm512_setzero_ps();
    #pragma GCC unroll 4
    for (int h = 0; h < 2; ++h) {
      #pragma GCC unroll 4
      for (int half = 0; half < 2; ++half) {  // dwords k = 4 half .. 4 half + 3: one group of each quarter
        next.ask(kAsk);
        __m512i A[4], B[4], H[4], v[4][4];  // v[quarter][k]
        transpose16x4(p + offsetof(BlockQ6_K, ql) + 64 * h + 16 * half, ws, A);
        transpose16x4(p + offsetof(BlockQ6_K, ql) + 64 * h + 32 + 16 * half, ws, B);
        transpose16x4(p + offsetof(BlockQ6_K, qh) + 32 * h + 16 * half, ws, H);
        #pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {
          v[0][k] = _mm512_or_si512(_mm512_and_si512(A[k], m4), _mm512_and_si512(_mm512_slli_epi16(H[k], 4), m30));
          v[1][k] = _mm512_or_si512(_mm512_and_si512(B[k], m4), _mm512_and_si512(_mm512_slli_epi16(H[k], 2), m30));
          v[2][k] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(A[k], 4), m4), _mm512_and_si512(H[k], m30));
          v[3][k] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(B[k], 4), m4),
                                    _mm512_and_si512(_mm512_srli_epi16(H[k], 2), m30));
        }
        #pragma GCC unroll 4
        for (int m = 0; m < 4; ++m) {  // quarter m: values 128h + 32m + 16 half .., group 8h + 2m + half
          const int g = 8 * h + 2 * m + half;
          const __m512 sc =
              _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(scv[g / 4], 24 - 8 * (g % 4)), 24));
          #pragma GCC unroll 4
          for (int t = 0; t < NT; ++t) {
            const uint8_t* xq = xc + kQs + kQK_K * t + 128 * h + 32 * m + 16 * half;
            __m512i dot = _mm512_set1_epi32(i32_at(xc + kExtra + kColExtra * t + 4 * g));
            #pragma GCC unroll 4
            for (int k = 0; k < 4; ++k) dot = _mm512_dpbusd_epi32(dot, v[m][k], _mm512_set1_epi32(i32_at(xq + 4 * k)));
            sb[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), sc, sb[t]);
          }
        }
      }
    }
    for (int t = 0; t < NT; ++t) {
      acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(d, sb[t]), _mm512_set1_ps(f32_at(xc + 4 * t)), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * ys, acc[t]);
}

// Q2_K and Q3_K chunks: values 64c .. 64c+63 are bit pairs 2(2k) and
// 2(2k+1) (k = c % 2) of qs[32(c/2) ..]; Q3_K's third bit of value v is bit
// v / 32 of hmask[v % 32]. Groups of 16 as Q6_K's.
FOLIO_INLINE __m512i two_bits(const uint8_t* qs, int c) {
  const __m256i v = load256(qs + 32 * (c / 2));
  const int k = c % 2;
  return _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(_mm256_srli_epi16(v, 4 * k)), _mm256_srli_epi16(v, 4 * k + 2), 1),
                          _mm512_set1_epi8(0x03));
}

// Q2_K: x = d*sc*q - dmin*m per 16 values, sc and m 4-bit.
struct Q2KDecode {
  static constexpr size_t kBytes = sizeof(BlockQ2_K);
  struct Row {
    __m512i sc;    // 16 scales as int16
    __m256i mins;  // 16 mins as int16
    float d, dmin;
  };
  static FOLIO_INLINE void begin(const uint8_t* p, Row& row) {
    row.d = half(p + offsetof(BlockQ2_K, d));
    row.dmin = half(p + offsetof(BlockQ2_K, dmin));
    const __m256i b = _mm256_cvtepu8_epi16(load128(p + offsetof(BlockQ2_K, scales)));
    row.sc = _mm512_castsi256_si512(_mm256_and_si256(b, _mm256_set1_epi16(0x0F)));
    row.mins = _mm256_srli_epi16(b, 4);
  }
  static FOLIO_INLINE void chunk(const uint8_t* p, const Row& row, int c, __m512i& q, __m512i& sc) {
    q = two_bits(p + offsetof(BlockQ2_K, qs), c);
    sc = _mm512_permutexvar_epi16(q6_index(c), row.sc);
  }
  static FOLIO_INLINE __m512 finish(const Row& row, __m512i isum, float dx, __m256i bsums, __m512 acc) {
    const __m512 mterm = _mm512_zextps256_ps512(_mm256_cvtepi32_ps(_mm256_madd_epi16(bsums, row.mins)));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(dx * row.d), acc);
    return _mm512_fnmadd_ps(mterm, _mm512_set1_ps(dx * row.dmin), acc);
  }
};

// Q3_K: x = d*sc*(q - 4) per 16 values, q in 0..7, sc signed 6-bit.
struct Q3KDecode {
  static constexpr size_t kBytes = sizeof(BlockQ3_K);
  struct Row {
    __m512i sc;  // 16 scales as int16
    float d;
  };
  static FOLIO_INLINE void begin(const uint8_t* p, Row& row) {
    row.d = half(p + offsetof(BlockQ3_K, d));
    alignas(16) int8_t sc[16];
    unpack_scales_q3_k(p + offsetof(BlockQ3_K, scales), sc);
    row.sc = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(sc))));
  }
  static FOLIO_INLINE void chunk(const uint8_t* p, const Row& row, int c, __m512i& q, __m512i& sc) {
    const __m256i h = load256(p + offsetof(BlockQ3_K, hmask));
    const __m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(h), h, 1);
    const __m512i shift = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(2 * c)), _mm256_set1_epi16(static_cast<short>(2 * c + 1)), 1);
    const __m512i hb = _mm512_and_si512(_mm512_srlv_epi16(hz, shift), _mm512_set1_epi8(1));
    q = _mm512_or_si512(two_bits(p + offsetof(BlockQ3_K, qs), c), _mm512_slli_epi16(hb, 2));
    sc = _mm512_permutexvar_epi16(q6_index(c), row.sc);
  }
  // sum of sc (q - 4) x = sum sc q x - 4 * sum_g sc_g * sum_g(x), in int32
  static FOLIO_INLINE __m512 finish(const Row& row, __m512i isum, float dx, __m256i bsums, __m512 acc) {
    const __m256i bias = _mm256_slli_epi32(_mm256_madd_epi16(bsums, _mm512_castsi512_si256(row.sc)), 2);
    const __m512i v = _mm512_sub_epi32(isum, _mm512_zextsi256_si512(bias));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), _mm512_set1_ps(dx * row.d), acc);
  }
};

// ---- float weights ------------------------------------------------------

// F32, F16 or BF16 weights and activations of the same type, 16 values a
// step, the tail under a mask.
enum class FloatFmt { kF32, kF16, kBF16 };

template <FloatFmt kFmt>
struct FloatTile {
  static constexpr int kBytes = kFmt == FloatFmt::kF32 ? 4 : 2;
  static FOLIO_INLINE __m512 load(const uint8_t* p, __mmask16 m) {
    if constexpr (kFmt == FloatFmt::kF16) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
    if constexpr (kFmt == FloatFmt::kBF16) {
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
    }
    return _mm512_maskz_loadu_ps(m, p);
  }

  template <int NR, int NT>
  static FOLIO_INLINE void step(const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, int64_t i, __mmask16 m,
                                __m512 (&acc)[NR][NT]) {
    __m512 wv[NR];
    for (int r = 0; r < NR; ++r) {
      const uint8_t* p = w + r * ws + kBytes * i;
      if ((i * kBytes) % 64 == 0) prefetch(p + NR * ws);
      wv[r] = load(p, m);
    }
    for (int t = 0; t < NT; ++t) {
      const __m512 xv = load(x + t * xs + kBytes * i, m);
      for (int r = 0; r < NR; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }

  template <int NR, int NT>
  static void tile(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, size_t ys) {
    __m512 acc[NR][NT];
    for (int r = 0; r < NR; ++r)
      for (int t = 0; t < NT; ++t) acc[r][t] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) step<NR, NT>(w, ws, x, xs, i, static_cast<__mmask16>(0xFFFF), acc);
    if (i < n) step<NR, NT>(w, ws, x, xs, i, static_cast<__mmask16>((1u << (n - i)) - 1), acc);
    store(acc, y, ys);
  }
};

}  // namespace

#define FOLIO_TILE_DEF(name, K)                                                                              \
  void name(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y, \
            size_t ys) {                                                                                     \
    tiles<K>(n, w, ws, nr, x, xs, nt, y, ys);                                                                \
  }

#define FOLIO_GEMV_DEF(name, G)                                                                              \
  void name(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y, \
            size_t ys) {                                                                                     \
    gemv_tokens<G>(n, w, ws, nr, x, xs, nt, y, ys);                                                          \
  }

FOLIO_GEMV_DEF(tile_q4_0_q8_0, LegacyGemv<GroupQ4_0>)
FOLIO_GEMV_DEF(tile_q8_0_q8_0, LegacyGemv<GroupQ8_0>)
FOLIO_GEMV_DEF(tile_q5_0_q8_0, LegacyGemv<GroupQ5_0>)
FOLIO_GEMV_DEF(tile_q4_1_q8_1, LegacyGemv<GroupQ4_1>)
FOLIO_GEMV_DEF(tile_q5_1_q8_1, LegacyGemv<GroupQ5_1>)
FOLIO_GEMV_DEF(tile_q4_k_q8_k, KGemv<Q4KLayout>)
FOLIO_GEMV_DEF(tile_q6_k_q8_k, KGemv<Q6KLayout>)
FOLIO_GEMV_DEF(tile_q5_k_q8_k, KGemv<Q5KLayout>)
FOLIO_TILE_DEF(tile_q3_k_q8_k, KQuant<Q3KDecode>)
FOLIO_TILE_DEF(tile_q2_k_q8_k, KQuant<Q2KDecode>)
FOLIO_TILE_DEF(tile_f16_f16, FloatTile<FloatFmt::kF16>)
FOLIO_TILE_DEF(tile_bf16_bf16, FloatTile<FloatFmt::kBF16>)
FOLIO_TILE_DEF(tile_f32_f32, FloatTile<FloatFmt::kF32>)

}  // namespace folio::avx512

#include "kernels/target_end.h"
