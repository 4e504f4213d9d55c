// How to convert each tensor type to and from f32: one table indexed by
// TensorType holding the scalar reference functions (tensor/quant_ref.h).
#pragma once

#include <cstdint>

#include "gguf/types.h"

namespace folio {

// Converts n values (a multiple of the block size) from blocks to floats.
using DequantizeFn = void (*)(const void* src, float* dst, int64_t n);
// Converts n floats (a multiple of the block size) to blocks.
using QuantizeFn = void (*)(const float* src, void* dst, int64_t n);

struct ConvertFns {
  DequantizeFn to_float = nullptr;    // nullptr: folio cannot read values of this type yet
  QuantizeFn from_float = nullptr;    // nullptr: folio cannot write this type yet
};

// Never fails; unsupported types have null functions.
const ConvertFns& convert_fns(TensorType t);

// True when folio can both read and write values of type t.
inline bool can_convert(TensorType t) {
  const ConvertFns& f = convert_fns(t);
  return f.to_float != nullptr && f.from_float != nullptr;
}

}  // namespace folio
