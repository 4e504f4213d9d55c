#include "quantize/recipe.h"

#include <gtest/gtest.h>

#include <map>

#include "memory/model_file.h"

namespace folio {
namespace {

// Rebuilds the per-tensor types llama-quantize chose for a golden file from
// its own shapes and hyperparameters.
void expect_same_types_as(const char* file, const char* recipe_name) {
  auto m = ModelFile::open(std::string(FOLIO_TEST_DATA) + "/" + file);
  ASSERT_TRUE(m.ok()) << m.error().message;
  const gguf::File& f = m->meta();
  const std::string arch(*f.get_string("general.architecture"));
  RecipeModel model{arch, *f.get_int(arch + ".block_count"), *f.get_int(arch + ".attention.head_count"),
                    *f.get_int(arch + ".attention.head_count_kv"), f.get_int(arch + ".expert_count").value_or(0)};
  std::vector<RecipeTensor> tensors;
  for (const auto& t : m->tensors()) {
    RecipeTensor rt{std::string(t.name), std::vector<int64_t>(t.ne, t.ne + t.n_dims), TensorType::kF32};
    tensors.push_back(rt);
  }
  auto recipe = parse_recipe(recipe_name);
  ASSERT_TRUE(recipe.ok());
  const std::vector<TensorType> types = choose_types(*recipe, model, tensors);
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(type_name(types[i]), std::string(type_name(m->tensors()[i].type))) << file << ": " << tensors[i].name;
  }
}

TEST(Recipe, Q4_K_MMatchesLlamaQuantizeOnGoldenLlama) { expect_same_types_as("synth-llama-q4_k_m.gguf", "Q4_K_M"); }

TEST(Recipe, Q4_K_MMatchesLlamaQuantizeOnGoldenDeepSeek) {
  expect_same_types_as("synth-deepseek2-q4_k_m.gguf", "Q4_K_M");
}

TEST(Recipe, ParsesNamesCaseInsensitively) {
  auto r = parse_recipe("q4_k_m");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->file_type, 15u);
  EXPECT_EQ(r->base, TensorType::kQ4_K);
  EXPECT_FALSE(r->pure);
  auto pure = parse_recipe("Q4_K");  // a tensor type means every weight that type
  ASSERT_TRUE(pure.ok());
  EXPECT_TRUE(pure->pure);
  EXPECT_EQ(pure->file_type, 15u);  // labelled as llama-quantize --pure labels it
  EXPECT_EQ(parse_recipe("Q3_K")->file_type, 12u);
  auto bad = parse_recipe("Q9_K");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("Q4_K_M"), std::string::npos);  // lists the choices
}

// Llama 3.1 8B at Q4_K_M: llama.cpp's loader reports 66 F32, 193 Q4_K and
// 33 Q6_K tensors for the files users download.
TEST(Recipe, Llama31_8BQ4_K_MCounts) {
  std::vector<RecipeTensor> t;
  auto add = [&](std::string n, std::vector<int64_t> s) { t.push_back({std::move(n), std::move(s), TensorType::kF32}); };
  add("token_embd.weight", {4096, 128256});
  add("rope_freqs.weight", {64});
  for (int l = 0; l < 32; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    add(b + "attn_norm.weight", {4096});
    add(b + "attn_q.weight", {4096, 4096});
    add(b + "attn_k.weight", {4096, 1024});
    add(b + "attn_v.weight", {4096, 1024});
    add(b + "attn_output.weight", {4096, 4096});
    add(b + "ffn_norm.weight", {4096});
    add(b + "ffn_gate.weight", {4096, 14336});
    add(b + "ffn_up.weight", {4096, 14336});
    add(b + "ffn_down.weight", {14336, 4096});
  }
  add("output_norm.weight", {4096});
  add("output.weight", {4096, 128256});
  const auto types = choose_types(*parse_recipe("Q4_K_M"), {"llama", 32, 32, 8, 0}, t);
  std::map<TensorType, int> count;
  for (TensorType ty : types) ++count[ty];
  EXPECT_EQ(count[TensorType::kF32], 66);
  EXPECT_EQ(count[TensorType::kQ4_K], 193);
  EXPECT_EQ(count[TensorType::kQ6_K], 33);
  EXPECT_EQ(types[0], TensorType::kQ4_K);       // untied token_embd keeps the base type
  EXPECT_EQ(types.back(), TensorType::kQ6_K);   // output
}

TEST(Recipe, FallbacksForRowsThatDoNotFitTheBlock) {
  const RecipeModel model{"llama", 1, 1, 1, 0};
  auto one = [&](const char* recipe, int64_t row) {
    return choose_types(*parse_recipe(recipe), model, {{"blk.0.attn_q.weight", {row, 8}, TensorType::kF32}})[0];
  };
  EXPECT_EQ(one("Q4_K", 96), TensorType::kQ5_0);
  EXPECT_EQ(one("Q5_K", 96), TensorType::kQ5_1);
  EXPECT_EQ(one("Q6_K", 96), TensorType::kQ8_0);
  EXPECT_EQ(one("Q2_K", 96), TensorType::kQ4_0);
  EXPECT_EQ(one("Q4_K", 100), TensorType::kF16);
  EXPECT_EQ(one("Q4_K", 512), TensorType::kQ4_K);
}

TEST(Recipe, NormsRoutersAndVectorsKeepTheirType) {
  const std::vector<RecipeTensor> t = {{"blk.0.attn_norm.weight", {256}, TensorType::kF32},
                                       {"blk.0.ffn_gate_inp.weight", {256, 8}, TensorType::kF32},
                                       {"blk.0.attn_q.bias", {256}, TensorType::kF32},
                                       {"blk.0.attn_q.weight", {256, 256}, TensorType::kF16}};
  const auto types = choose_types(*parse_recipe("Q8_0"), {"llama", 1, 1, 1, 8}, t);
  EXPECT_EQ(types[0], TensorType::kF32);
  EXPECT_EQ(types[1], TensorType::kF32);
  EXPECT_EQ(types[2], TensorType::kF32);
  EXPECT_EQ(types[3], TensorType::kQ8_0);
}

}  // namespace
}  // namespace folio
