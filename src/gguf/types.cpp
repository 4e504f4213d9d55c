#include "gguf/types.h"

#include <array>

#include "base/check.h"
#include "base/strings.h"

namespace folio {

namespace {

// Block geometry of every GGUF type (ref: ggml-common.h block structs;
// ggml.c type_traits). tensor/blocks.h static_asserts the sizes of the
// types folio computes with against this table's numbers.
constexpr int64_t kQK = 32, kQK_K = 256;
constexpr std::array<TypeTraits, kTensorTypeCount> make_table() {
  std::array<TypeTraits, kTensorTypeCount> t{};
  auto set = [&](TensorType type, TypeTraits tr) { t[static_cast<uint32_t>(type)] = tr; };
  set(TensorType::kF32, {"F32", 1, 4, false, nullptr});
  set(TensorType::kF16, {"F16", 1, 2, false, nullptr});
  set(TensorType::kQ4_0, {"Q4_0", kQK, 18, true, nullptr});
  set(TensorType::kQ4_1, {"Q4_1", kQK, 20, true, nullptr});
  t[4] = {"Q4_2", 0, 0, true, "Q4_2 (removed from GGUF in 2023)"};
  t[5] = {"Q4_3", 0, 0, true, "Q4_3 (removed from GGUF in 2023)"};
  set(TensorType::kQ5_0, {"Q5_0", kQK, 22, true, nullptr});
  set(TensorType::kQ5_1, {"Q5_1", kQK, 24, true, nullptr});
  set(TensorType::kQ8_0, {"Q8_0", kQK, 34, true, nullptr});
  set(TensorType::kQ8_1, {"Q8_1", kQK, 36, true, nullptr});
  set(TensorType::kQ2_K, {"Q2_K", kQK_K, 84, true, nullptr});
  set(TensorType::kQ3_K, {"Q3_K", kQK_K, 110, true, nullptr});
  set(TensorType::kQ4_K, {"Q4_K", kQK_K, 144, true, nullptr});
  set(TensorType::kQ5_K, {"Q5_K", kQK_K, 176, true, nullptr});
  set(TensorType::kQ6_K, {"Q6_K", kQK_K, 210, true, nullptr});
  set(TensorType::kQ8_K, {"Q8_K", kQK_K, 292, true, nullptr});
  set(TensorType::kIQ2_XXS, {"IQ2_XXS", kQK_K, 66, true, nullptr});
  set(TensorType::kIQ2_XS, {"IQ2_XS", kQK_K, 74, true, nullptr});
  set(TensorType::kIQ3_XXS, {"IQ3_XXS", kQK_K, 98, true, nullptr});
  set(TensorType::kIQ1_S, {"IQ1_S", kQK_K, 50, true, nullptr});
  set(TensorType::kIQ4_NL, {"IQ4_NL", kQK, 18, true, nullptr});
  set(TensorType::kIQ3_S, {"IQ3_S", kQK_K, 110, true, nullptr});
  set(TensorType::kIQ2_S, {"IQ2_S", kQK_K, 82, true, nullptr});
  set(TensorType::kIQ4_XS, {"IQ4_XS", kQK_K, 136, true, nullptr});
  set(TensorType::kI8, {"I8", 1, 1, false, nullptr});
  set(TensorType::kI16, {"I16", 1, 2, false, nullptr});
  set(TensorType::kI32, {"I32", 1, 4, false, nullptr});
  set(TensorType::kI64, {"I64", 1, 8, false, nullptr});
  set(TensorType::kF64, {"F64", 1, 8, false, nullptr});
  set(TensorType::kIQ1_M, {"IQ1_M", kQK_K, 56, true, nullptr});
  set(TensorType::kBF16, {"BF16", 1, 2, false, nullptr});
  t[31] = {"Q4_0_4_4", 0, 0, true, "Q4_0_4_4 (removed; use Q4_0, repacked at load time)"};
  t[32] = {"Q4_0_4_8", 0, 0, true, "Q4_0_4_8 (removed; use Q4_0, repacked at load time)"};
  t[33] = {"Q4_0_8_8", 0, 0, true, "Q4_0_8_8 (removed; use Q4_0, repacked at load time)"};
  set(TensorType::kTQ1_0, {"TQ1_0", kQK_K, 54, true, nullptr});
  set(TensorType::kTQ2_0, {"TQ2_0", kQK_K, 66, true, nullptr});
  t[36] = {"IQ4_NL_4_4", 0, 0, true, "IQ4_NL_4_4 (removed; use IQ4_NL)"};
  t[37] = {"IQ4_NL_4_8", 0, 0, true, "IQ4_NL_4_8 (removed; use IQ4_NL)"};
  t[38] = {"IQ4_NL_8_8", 0, 0, true, "IQ4_NL_8_8 (removed; use IQ4_NL)"};
  set(TensorType::kMXFP4, {"MXFP4", kQK, 17, true, nullptr});
  return t;
}

constexpr std::array<TypeTraits, kTensorTypeCount> kTable = make_table();
const TypeTraits kUnknown = {nullptr, 0, 0, false, nullptr};

}  // namespace

const TypeTraits& type_traits(uint32_t raw_type) {
  return raw_type < kTensorTypeCount ? kTable[raw_type] : kUnknown;
}

bool is_known_type(uint32_t raw_type) {
  const TypeTraits& t = type_traits(raw_type);
  return t.name != nullptr && t.removed == nullptr;
}

const char* type_name(TensorType t) {
  const char* n = type_traits(t).name;
  return n ? n : "?";
}

std::optional<TensorType> parse_type_name(std::string_view name) {
  const std::string upper = to_upper(name);
  for (uint32_t i = 0; i < kTensorTypeCount; ++i) {
    if (is_known_type(i) && upper == kTable[i].name) return static_cast<TensorType>(i);
  }
  return std::nullopt;
}

size_t row_bytes(TensorType t, int64_t n) {
  const TypeTraits& tr = type_traits(t);
  FOLIO_CHECK(tr.block_size > 0 && n % tr.block_size == 0);
  return static_cast<size_t>(n / tr.block_size) * tr.block_bytes;
}

}  // namespace folio
