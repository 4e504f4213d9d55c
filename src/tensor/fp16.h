// IEEE half (F16) and bfloat16 (BF16) conversions, scalar reference.
// Both round to nearest even, as ggml's converters do, so F16/BF16 files we
// write are bit-identical to llama.cpp's for the same input.
#pragma once

#include <cstdint>
#include <cstring>

namespace folio {

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline float fp16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  const uint32_t mant = h & 0x3FF;
  if (exp == 0) {
    // zero or subnormal: mant * 2^-24, exact in f32
    const float v = static_cast<float>(mant) * 0x1.0p-24f;
    return sign ? -v : v;
  }
  if (exp == 31) return f32_from_bits(sign | 0x7F800000u | (mant << 13));  // inf / NaN
  return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));          // rebias 15 -> 127
}

inline uint16_t f32_to_fp16(float f) {
  const uint32_t x = f32_bits(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7FFFFFFF;
  if (ax >= 0x7F800000u) return sign | (ax > 0x7F800000u ? 0x7E00 : 0x7C00);  // NaN stays NaN
  if (ax >= 0x477FF000u) return sign | 0x7C00;  // >= 65520 rounds to infinity
  if (ax < 0x38800000u) {                       // below 2^-14: half subnormal or zero
    const uint32_t e = ax >> 23;
    if (e < 102) return sign;  // below 2^-25: rounds to zero
    const uint32_t m = (ax & 0x7FFFFF) | 0x800000;  // value = m * 2^(e-150)
    const uint32_t shift = 126 - e;                 // to units of 2^-24
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) ++q;
    return sign | static_cast<uint16_t>(q);
  }
  uint32_t h = (ax >> 13) - (112u << 10);  // exponent rebias 127 -> 15, top 10 mantissa bits
  const uint32_t rem = ax & 0x1FFF;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;  // a carry may bump the exponent: correct
  return sign | static_cast<uint16_t>(h);
}

inline float bf16_to_f32(uint16_t b) { return f32_from_bits(static_cast<uint32_t>(b) << 16); }

inline uint16_t f32_to_bf16(float f) {
  const uint32_t x = f32_bits(f);
  if ((x & 0x7FFFFFFF) > 0x7F800000u) return static_cast<uint16_t>((x >> 16) | 0x40);  // quiet NaN
  return static_cast<uint16_t>((x + 0x7FFF + ((x >> 16) & 1)) >> 16);
}

}  // namespace folio
