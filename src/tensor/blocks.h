// Quantized block layouts, bit-compatible with GGUF (ref: ggml-common.h block
// definitions; GGUF spec). Fields are little-endian; F16 fields are stored
// as raw uint16_t half bits. Blocks in a file may sit at any 2-byte
// alignment, so reference code copies a block out with memcpy before use.
#pragma once

#include <cstdint>

namespace folio {

inline constexpr int kQK = 32;         // values per legacy block
inline constexpr int kQK_K = 256;      // values per K-quant super-block
inline constexpr int kKScaleBytes = 12;  // 8 six-bit scales + 8 six-bit mins

struct BlockQ4_0 {
  uint16_t d;            // scale (f16)
  uint8_t qs[kQK / 2];   // value j in the low nibble of qs[j], value j+16 in the high nibble
};
static_assert(sizeof(BlockQ4_0) == 18);

struct BlockQ4_1 {
  uint16_t d, m;         // scale and min (f16)
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];         // bit j: 5th bit of value j (little-endian uint32)
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_0) == 34);

struct BlockQ8_1 {
  uint16_t d;            // scale (f16)
  uint16_t s;            // d * sum(qs) (f16)
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_1) == 36);

// x = d*(sc&15)*q - dmin*(sc>>4), 16 groups of 16, q in 0..3
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];  // low nibble: scale, high nibble: min
  uint8_t qs[kQK_K / 4];
  uint16_t d, dmin;
};
static_assert(sizeof(BlockQ2_K) == 84);

// x = d*(sc-32)*(q-4), 16 groups of 16, q in 0..7, sc 6-bit
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];  // high bit of value v: hmask[v%32] bit v/32
  uint8_t qs[kQK_K / 4];     // low 2 bits
  uint8_t scales[12];        // 16 six-bit scales
  uint16_t d;
};
static_assert(sizeof(BlockQ3_K) == 110);

// x = d*sc*q - dmin*m, 8 groups of 32, q in 0..15, sc/m 6-bit
struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// x = d*sc*q - dmin*m, 8 groups of 32, q in 0..31
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// x = d*sc*(q-32), 16 groups of 16, q in 0..63, sc int8
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// Activation type for K-quant dot products: x = d*q.
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];  // sums of qs in groups of 16
};
static_assert(sizeof(BlockQ8_K) == 292);

// Unpacks scale and min j (0..7) of a Q4_K/Q5_K 12-byte scale field: the
// first four pairs sit in the low 6 bits of bytes 0..7; the last four keep
// their low 4 bits in bytes 8..11 and their top 2 bits in the spare top bits
// of bytes 0..7.
inline void unpack_scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Unpacks the 16 six-bit Q3_K scales (biased by 32) into signed values.
inline void unpack_scales_q3_k(const uint8_t* s, int8_t* out) {
  for (int j = 0; j < 16; ++j) {
    const int lo = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
    const int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    out[j] = static_cast<int8_t>((lo | (hi << 4)) - 32);
  }
}

}  // namespace folio
