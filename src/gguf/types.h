// Tensor element types, numbered as GGUF (ggml_type) numbers them, and the
// format facts about each: name and block geometry. How to convert a type
// (dequantize/quantize) lives one layer up, in tensor/convert.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace folio {

enum class TensorType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  // 4, 5: Q4_2, Q4_3, removed from the format
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  // 31-33: Q4_0_4_4, Q4_0_4_8, Q4_0_8_8, removed (repacking happens at load)
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  // 36-38: IQ4_NL_4_4, IQ4_NL_4_8, IQ4_NL_8_8, removed
  kMXFP4 = 39,
};

inline constexpr uint32_t kTensorTypeCount = 40;

struct TypeTraits {
  const char* name;         // "Q4_K", as `folio show` and Ollama print it; nullptr: no such type
  int64_t block_size;       // values per block (1 for plain types)
  size_t block_bytes;       // bytes per block
  bool quantized;           // block-quantized (not F32/F16/BF16/integers)
  const char* removed;      // non-null: the type was removed from GGUF; says what it was
};

// Returns the traits of a raw GGUF type id (a "no such type" entry when the
// id is out of range). Never fails.
const TypeTraits& type_traits(uint32_t raw_type);
inline const TypeTraits& type_traits(TensorType t) { return type_traits(static_cast<uint32_t>(t)); }

// True for an id that names a type of the current format (not removed).
bool is_known_type(uint32_t raw_type);

const char* type_name(TensorType t);

// Parses a type name case-insensitively ("q4_k", "Q4_K", "f16", "bf16").
std::optional<TensorType> parse_type_name(std::string_view name);

// Bytes of a row of n values; n must be a multiple of the block size.
size_t row_bytes(TensorType t, int64_t n);

}  // namespace folio
