// Saturating arithmetic for sizes computed from untrusted numbers (model
// metadata, options): a product that would overflow becomes UINT64_MAX, which
// every "does it fit" comparison then refuses.
#pragma once

#include <cstdint>

namespace folio {

inline uint64_t sat_mul(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

inline uint64_t sat_add(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

}  // namespace folio
