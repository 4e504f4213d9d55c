// Quantization recipes: which tensor type each tensor of a model gets for a
// file type such as Q4_K_M (a mix) or a plain tensor type such as Q8_0
// (every weight the same, "pure"). The mixes follow llama.cpp's rules
// (ref: llama-quant.cpp llama_tensor_get_type) so `synth` and
// `create --quantize` produce files laid out like the ones users download.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gguf/types.h"

namespace folio {

struct Recipe {
  std::string name;          // as given, upper-case: "Q4_K_M", "Q8_0"
  uint32_t file_type = 0;    // general.file_type to write
  TensorType base = TensorType::kF32;  // the type most weights get
  bool pure = false;         // no per-tensor mixing
};

// Accepts file type names (Q4_K_M, Q3_K_S, Q8_0, F16, ...) and tensor type
// names (Q4_K, Q6_K, BF16, ...; these mean pure). Errors list the choices.
Result<Recipe> parse_recipe(std::string_view name);

// Comma-separated list of the recipes parse_recipe accepts.
std::string recipe_names();

struct RecipeModel {
  std::string arch;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t n_expert = 0;
};

struct RecipeTensor {
  std::string name;
  std::vector<int64_t> shape;  // ne; shape[0] is the row length
  TensorType source = TensorType::kF32;  // the type it has before quantization
};

// True for tensors a recipe may change (weights of 2+ dimensions, not
// norms or MoE routers); others keep their source type.
bool is_quantizable(const RecipeTensor& t);

// Returns the type for each tensor, in order. Rows whose length does not
// fit the chosen block size fall back as llama.cpp does (Q4_K -> Q5_0,
// Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K/Q3_K -> Q4_0; F16 when nothing fits).
std::vector<TensorType> choose_types(const Recipe& recipe, const RecipeModel& model,
                                     const std::vector<RecipeTensor>& tensors);

}  // namespace folio
