#include "tensor/convert.h"

#include <array>

#include "tensor/quant_ref.h"

namespace folio {

namespace {

using namespace folio::ref;

std::array<ConvertFns, kTensorTypeCount> make_table() {
  std::array<ConvertFns, kTensorTypeCount> t{};
  auto set = [&](TensorType type, DequantizeFn d, QuantizeFn q) { t[static_cast<uint32_t>(type)] = {d, q}; };
  set(TensorType::kF32, dequantize_f32, quantize_f32);
  set(TensorType::kF16, dequantize_f16, quantize_f16);
  set(TensorType::kBF16, dequantize_bf16, quantize_bf16);
  set(TensorType::kQ4_0, dequantize_q4_0, quantize_q4_0);
  set(TensorType::kQ4_1, dequantize_q4_1, quantize_q4_1);
  set(TensorType::kQ5_0, dequantize_q5_0, quantize_q5_0);
  set(TensorType::kQ5_1, dequantize_q5_1, quantize_q5_1);
  set(TensorType::kQ8_0, dequantize_q8_0, quantize_q8_0);
  set(TensorType::kQ8_1, dequantize_q8_1, quantize_q8_1);
  set(TensorType::kQ2_K, dequantize_q2_k, quantize_q2_k);
  set(TensorType::kQ3_K, dequantize_q3_k, quantize_q3_k);
  set(TensorType::kQ4_K, dequantize_q4_k, quantize_q4_k);
  set(TensorType::kQ5_K, dequantize_q5_k, quantize_q5_k);
  set(TensorType::kQ6_K, dequantize_q6_k, quantize_q6_k);
  set(TensorType::kQ8_K, dequantize_q8_k, quantize_q8_k);
  return t;
}

}  // namespace

const ConvertFns& convert_fns(TensorType t) {
  // Function-local: safe to use from other translation units' static initializers.
  static const std::array<ConvertFns, kTensorTypeCount> table = make_table();
  static const ConvertFns none{};
  const auto i = static_cast<uint32_t>(t);
  return i < kTensorTypeCount ? table[i] : none;
}

}  // namespace folio
