// The kernel table in use: the reference, with SIMD versions swapped in
// once, at first use, for what the CPU supports.
#include <array>

#include "base/cpu.h"
#include "kernels/avx2/dot_avx2.h"
#include "kernels/avx512/gemm_avx512.h"
#include "kernels/avx512/panel_avx512.h"
#include "kernels/avx512/quant_act_avx512.h"
#include "kernels/dot.h"

namespace folio {

namespace {

std::array<DotKernel, kTensorTypeCount> make_table() {
  std::array<DotKernel, kTensorTypeCount> t{};
  for (uint32_t i = 0; i < kTensorTypeCount; ++i) t[i] = dot_kernel_ref(static_cast<TensorType>(i));
  const CpuFeatures& f = cpu_features();
  if (f.avx2 && f.fma && f.f16c) {
    auto set = [&](TensorType type, VecDotFn dot) { t[static_cast<uint32_t>(type)].vec_dot = dot; };
    set(TensorType::kF32, avx2::dot_f32);
    set(TensorType::kF16, avx2::dot_f16);
    set(TensorType::kQ4_0, avx2::dot_q4_0_q8_0);
    set(TensorType::kQ8_0, avx2::dot_q8_0_q8_0);
    set(TensorType::kQ4_K, avx2::dot_q4_k_q8_k);
    set(TensorType::kQ6_K, avx2::dot_q6_k_q8_k);
    set(TensorType::kBF16, avx2::dot_bf16);
    set(TensorType::kQ5_0, avx2::dot_q5_0_q8_0);
    set(TensorType::kQ4_1, avx2::dot_q4_1_q8_1);
    set(TensorType::kQ5_1, avx2::dot_q5_1_q8_1);
    set(TensorType::kQ5_K, avx2::dot_q5_k_q8_k);
    set(TensorType::kQ2_K, avx2::dot_q2_k_q8_k);
    set(TensorType::kQ3_K, avx2::dot_q3_k_q8_k);
    for (TensorType q : {TensorType::kQ4_0, TensorType::kQ5_0, TensorType::kQ8_0}) {
      t[static_cast<uint32_t>(q)].quantize_act = avx2::quantize_act_q8_0;
    }
    t[static_cast<uint32_t>(TensorType::kF16)].quantize_act = avx2::quantize_act_f16;
  }
  if (f.avx512_kernels()) {
    auto set = [&](TensorType type, TileFn tile) { t[static_cast<uint32_t>(type)].tile = tile; };
    set(TensorType::kF32, avx512::tile_f32_f32);
    set(TensorType::kF16, avx512::tile_f16_f16);
    set(TensorType::kBF16, avx512::tile_bf16_bf16);
    set(TensorType::kQ4_0, avx512::tile_q4_0_q8_0);
    set(TensorType::kQ8_0, avx512::tile_q8_0_q8_0);
    set(TensorType::kQ5_0, avx512::tile_q5_0_q8_0);
    set(TensorType::kQ4_1, avx512::tile_q4_1_q8_1);
    set(TensorType::kQ5_1, avx512::tile_q5_1_q8_1);
    set(TensorType::kQ4_K, avx512::tile_q4_k_q8_k);
    set(TensorType::kQ6_K, avx512::tile_q6_k_q8_k);
    set(TensorType::kQ5_K, avx512::tile_q5_k_q8_k);
    set(TensorType::kQ3_K, avx512::tile_q3_k_q8_k);
    set(TensorType::kQ2_K, avx512::tile_q2_k_q8_k);
    for (uint32_t i = 0; i < kTensorTypeCount; ++i) {
      if (t[i].act_type == TensorType::kQ8_K) t[i].quantize_act = avx512::quantize_act_q8_k;
    }
    auto gemm = [&](TensorType type, TileFn fn) { t[static_cast<uint32_t>(type)].gemm = fn; };
    gemm(TensorType::kQ4_0, avx512::panel_q4_0_q8_0);
    gemm(TensorType::kQ8_0, avx512::panel_q8_0_q8_0);
    gemm(TensorType::kQ5_0, avx512::panel_q5_0_q8_0);
    gemm(TensorType::kQ4_1, avx512::panel_q4_1_q8_1);
    gemm(TensorType::kQ5_1, avx512::panel_q5_1_q8_1);
    gemm(TensorType::kQ4_K, avx512::panel_q4_k_q8_k);
    gemm(TensorType::kQ6_K, avx512::panel_q6_k_q8_k);
    gemm(TensorType::kQ5_K, avx512::panel_q5_k_q8_k);
    gemm(TensorType::kQ3_K, avx512::panel_q3_k_q8_k);
    gemm(TensorType::kQ2_K, avx512::panel_q2_k_q8_k);
    gemm(TensorType::kF16, avx512::panel_f16_f16);
    gemm(TensorType::kBF16, avx512::panel_bf16_bf16);
    gemm(TensorType::kF32, avx512::panel_f32_f32);
  }
  return t;
}

}  // namespace

const DotKernel& dot_kernel(TensorType t) {
  static const std::array<DotKernel, kTensorTypeCount> table = make_table();
  static const DotKernel none{};
  const auto i = static_cast<uint32_t>(t);
  return i < kTensorTypeCount ? table[i] : none;
}

}  // namespace folio
