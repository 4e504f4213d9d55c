#include "quantize/recipe.h"

#include <cstdio>

#include "base/strings.h"
#include "gguf/file_type.h"

namespace folio {

namespace {

using T = TensorType;

// File type id, its base tensor type.
struct FileTypeBase {
  uint32_t file_type;
  const char* name;
  TensorType base;
};
constexpr FileTypeBase kMixes[] = {
    {0, "F32", T::kF32},      {1, "F16", T::kF16},       {32, "BF16", T::kBF16},   {2, "Q4_0", T::kQ4_0},
    {3, "Q4_1", T::kQ4_1},    {8, "Q5_0", T::kQ5_0},     {9, "Q5_1", T::kQ5_1},    {7, "Q8_0", T::kQ8_0},
    {10, "Q2_K", T::kQ2_K},   {21, "Q2_K_S", T::kQ2_K},  {11, "Q3_K_S", T::kQ3_K}, {12, "Q3_K_M", T::kQ3_K},
    {13, "Q3_K_L", T::kQ3_K}, {14, "Q4_K_S", T::kQ4_K},  {15, "Q4_K_M", T::kQ4_K}, {16, "Q5_K_S", T::kQ5_K},
    {17, "Q5_K_M", T::kQ5_K}, {18, "Q6_K", T::kQ6_K},
};

// A pure tensor type's file type id, as llama-quantize --pure labels it
// (Q4_K is written as Q4_K_M's id, 15).
constexpr FileTypeBase kPure[] = {
    {10, "Q2_K", T::kQ2_K}, {12, "Q3_K", T::kQ3_K}, {15, "Q4_K", T::kQ4_K}, {17, "Q5_K", T::kQ5_K},
};

enum class Cat { kTokenEmbd, kOutput, kAttnV, kAttnK, kAttnQkv, kAttnOutput, kFfnDown, kOther };

Cat category(const std::string& n) {
  if (n == "output.weight") return Cat::kOutput;
  if (n == "token_embd.weight") return Cat::kTokenEmbd;
  if (n.find("attn_qkv.weight") != std::string::npos) return Cat::kAttnQkv;
  if (n.find("attn_v.weight") != std::string::npos) return Cat::kAttnV;
  if (n.find("attn_k.weight") != std::string::npos) return Cat::kAttnK;
  if (n.find("attn_output.weight") != std::string::npos) return Cat::kAttnOutput;
  if (n.find("ffn_down") != std::string::npos) return Cat::kFfnDown;
  return Cat::kOther;
}

// Layer index from "blk.N.", -1 when absent.
int layer_of(const std::string& n) {
  int layer = -1;
  if (std::sscanf(n.c_str(), "blk.%d.", &layer) != 1) return -1;
  return layer;
}

// ref: llama-quant.cpp use_more_bits: the first and last eighth of the
// layers, and every third layer in between.
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

T fallback(T t, int64_t row) {
  if (row % type_traits(t).block_size == 0) return t;
  T f;
  switch (t) {
    case T::kQ2_K: case T::kQ3_K: f = T::kQ4_0; break;
    case T::kQ4_K: f = T::kQ5_0; break;
    case T::kQ5_K: f = T::kQ5_1; break;
    case T::kQ6_K: f = T::kQ8_0; break;
    default: f = T::kF16; break;
  }
  return row % type_traits(f).block_size == 0 ? f : T::kF16;
}

T mixed_type(const std::string& ft, T base, const RecipeModel& m, const RecipeTensor& t, bool tied) {
  const Cat cat = category(t.name);
  const int layer = layer_of(t.name);
  const int n_layer = static_cast<int>(m.n_layer);
  const bool falcon = m.arch == "falcon";
  const int64_t gqa = m.n_head_kv > 0 ? m.n_head / m.n_head_kv : 1;
  T nt = base;
  if (cat == Cat::kOutput || (tied && cat == Cat::kTokenEmbd)) {
    if (falcon || t.shape[0] % type_traits(nt).block_size != 0) nt = T::kQ8_0;
    else if (nt != T::kQ8_0) nt = T::kQ6_K;
  } else if (cat == Cat::kAttnV) {
    if (ft == "Q2_K") nt = gqa >= 4 ? T::kQ4_K : T::kQ3_K;
    else if (ft == "Q2_K_S" && gqa >= 4) nt = T::kQ4_K;
    else if (ft == "Q3_K_M") nt = layer < 2 ? T::kQ5_K : T::kQ4_K;
    else if (ft == "Q3_K_L") nt = T::kQ5_K;
    else if ((ft == "Q4_K_M" || ft == "Q5_K_M") && use_more_bits(layer, n_layer)) nt = T::kQ6_K;
    else if (ft == "Q4_K_S" && layer < 4) nt = T::kQ5_K;
    if (m.n_expert == 8) nt = T::kQ8_0;
  } else if (cat == Cat::kAttnK) {
    if (m.n_expert == 8) nt = T::kQ8_0;
  } else if (cat == Cat::kFfnDown) {
    if (ft == "Q2_K") nt = T::kQ3_K;
    else if (ft == "Q2_K_S") { if (layer < n_layer / 8) nt = T::kQ4_K; }
    else if (ft == "Q3_K_M") nt = layer < n_layer / 16 ? T::kQ5_K : (!falcon || use_more_bits(layer, n_layer)) ? T::kQ4_K : T::kQ3_K;
    else if (ft == "Q3_K_L") nt = falcon ? T::kQ4_K : T::kQ5_K;
    else if (ft == "Q4_K_M") {
      if (falcon) nt = layer < n_layer / 16 ? T::kQ6_K : use_more_bits(layer, n_layer) ? T::kQ5_K : T::kQ4_K;
      else if (use_more_bits(layer, n_layer)) nt = T::kQ6_K;
    } else if (ft == "Q5_K_M" && use_more_bits(layer, n_layer)) nt = T::kQ6_K;
    else if (ft == "Q4_K_S" && !falcon && layer < n_layer / 8) nt = T::kQ5_K;
  } else if (cat == Cat::kAttnOutput) {
    if (!falcon) {
      if (m.n_expert == 8) {
        if (ft == "Q2_K" || ft == "Q3_K_S" || ft == "Q3_K_M" || ft == "Q4_K_S" || ft == "Q4_K_M") nt = T::kQ5_K;
      } else {
        if (ft == "Q2_K") nt = T::kQ3_K;
        else if (ft == "Q3_K_M") nt = T::kQ4_K;
        else if (ft == "Q3_K_L") nt = T::kQ5_K;
      }
    } else if (ft == "Q3_K_L") {
      nt = T::kQ4_K;
    }
  } else if (cat == Cat::kAttnQkv) {
    if (ft == "Q3_K_M" || ft == "Q3_K_L") nt = T::kQ4_K;
    else if (ft == "Q4_K_M") nt = T::kQ5_K;
    else if (ft == "Q5_K_M") nt = T::kQ6_K;
  }
  return nt;
}

}  // namespace

Result<Recipe> parse_recipe(std::string_view name) {
  const std::string upper = to_upper(name);
  for (const auto& m : kMixes) {
    if (upper == m.name) {
      const bool is_float = m.base == T::kF32 || m.base == T::kF16 || m.base == T::kBF16;
      return Recipe{upper, m.file_type, m.base, is_float};
    }
  }
  for (const auto& p : kPure) {
    if (upper == p.name) return Recipe{upper, p.file_type, p.base, true};
  }
  return make_error("unknown quantization '%s'; choose one of %s", std::string(name).c_str(), recipe_names().c_str());
}

std::string recipe_names() {
  std::string out;
  for (const auto& m : kMixes) out += std::string(out.empty() ? "" : ", ") + m.name;
  for (const auto& p : kPure) out += std::string(", ") + p.name;
  return out;
}

bool is_quantizable(const RecipeTensor& t) {
  const std::string& n = t.name;
  if (t.shape.size() < 2) return false;
  if (n.size() < 6 || n.compare(n.size() - 6, 6, "weight") != 0) return false;
  if (n.find("_norm.weight") != std::string::npos) return false;
  if (n.find("ffn_gate_inp.weight") != std::string::npos) return false;  // MoE router stays exact
  if (n == "position_embd.weight" || n == "token_types.weight") return false;
  return true;
}

std::vector<TensorType> choose_types(const Recipe& recipe, const RecipeModel& model,
                                     const std::vector<RecipeTensor>& tensors) {
  bool tied = true;
  for (const auto& t : tensors) {
    if (t.name == "output.weight") tied = false;
  }
  const bool quantized = type_traits(recipe.base).quantized;
  std::vector<TensorType> out;
  out.reserve(tensors.size());
  for (const auto& t : tensors) {
    if (!is_quantizable(t)) {
      out.push_back(t.source);
      continue;
    }
    T nt = recipe.base;
    if (quantized) {
      if (!recipe.pure) nt = mixed_type(recipe.name, recipe.base, model, t, tied);
      nt = fallback(nt, t.shape[0]);
    }
    out.push_back(nt);
  }
  return out;
}

}  // namespace folio
