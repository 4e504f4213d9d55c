// The reader on real files: llama.cpp's outputs and the bundled model.
#include "gguf/reader.h"

#include <gtest/gtest.h>

#include <cstring>

#include "gguf/summary.h"
#include "memory/model_file.h"

namespace folio::gguf {
namespace {

std::string data(const char* name) { return std::string(FOLIO_TEST_DATA) + "/" + name; }
std::string bundled() { return std::string(FOLIO_MODELS_DIR) + "/stories260K.gguf"; }

TEST(GgufReader, Stories260K) {
  auto m = ModelFile::open(bundled());
  ASSERT_TRUE(m.ok()) << m.error().message;
  const File& f = m->meta();
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("llama.context_length"), 2048);
  EXPECT_EQ(f.get_int("llama.embedding_length"), 64);
  EXPECT_EQ(f.get_int("llama.block_count"), 5);
  EXPECT_EQ(f.get_int("llama.feed_forward_length"), 172);
  EXPECT_EQ(f.get_int("llama.attention.head_count"), 8);
  EXPECT_EQ(f.get_int("llama.attention.head_count_kv"), 4);
  EXPECT_FLOAT_EQ(static_cast<float>(*f.get_number("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
  EXPECT_EQ(f.get_int("tokenizer.ggml.padding_token_id"), 4294967295ll);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "llama");
  const Array* tokens = f.find("tokenizer.ggml.tokens")->as_array();
  ASSERT_NE(tokens, nullptr);
  ASSERT_EQ(tokens->size, 512u);
  EXPECT_EQ(tokens->strings[1], "<s>");
  EXPECT_EQ(tokens->strings[3], "<0x00>");
  const Array* types = f.find("tokenizer.ggml.token_type")->as_array();
  EXPECT_EQ(types->type, ValueType::kI32);
  EXPECT_EQ(types->int_at(0), 2);  // unknown
  EXPECT_EQ(types->int_at(3), 6);  // byte
  EXPECT_EQ(f.find("tokenizer.ggml.scores")->as_array()->type, ValueType::kF32);

  ASSERT_EQ(m->tensors().size(), 48u);
  const TensorInfo* embd = m->find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->type, TensorType::kF32);
  EXPECT_EQ(embd->n_dims, 2u);
  EXPECT_EQ(embd->ne[0], 64);
  EXPECT_EQ(embd->ne[1], 512);
  EXPECT_EQ(embd->nbytes, 64u * 512 * 4);
  // Zero-copy: the view points into the mapping at data_offset + offset.
  EXPECT_EQ(embd->data, m->mapping(0).data() + f.data_offset() + embd->offset);
  // The last tensor's data ends at the end of the file.
  uint64_t end = 0;
  for (const auto& t : m->tensors()) end = std::max(end, f.data_offset() + t.offset + t.nbytes);
  EXPECT_EQ(end, m->file_bytes());
  EXPECT_EQ(m->n_params(), 292800u);
}

TEST(GgufReader, LlamaTinyRandomF16) {
  auto m = ModelFile::open(data("llama-2-tiny-random.gguf"));
  ASSERT_TRUE(m.ok()) << m.error().message;
  const ModelSummary s = summarize(m->meta(), m->tensors(), m->file_bytes());
  EXPECT_EQ(s.architecture, "llama");
  EXPECT_EQ(s.file_type, "F16");
  EXPECT_FALSE(s.file_type_guessed);
  EXPECT_EQ(s.n_params, 513048u);
  EXPECT_EQ(s.context_length, 4096);
  EXPECT_EQ(s.embedding_length, 8);
  EXPECT_EQ(s.vocab_size, 32000u);
  EXPECT_EQ(s.by_type.at(TensorType::kF16).tensors, 9u);
  EXPECT_EQ(s.by_type.at(TensorType::kF32).tensors, 3u);
  EXPECT_EQ(s.file_bytes, 1750560u);
}

TEST(GgufReader, VocabOnlyFileHasNoTensors) {
  auto m = ModelFile::open(data("tokenizer/ggml-vocab-gpt-2.gguf"));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->tensors().empty());
  EXPECT_EQ(m->meta().get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(m->meta().get_string("tokenizer.ggml.pre"), "gpt-2");
  EXPECT_EQ(m->meta().find("tokenizer.ggml.tokens")->as_array()->size, 50257u);
  EXPECT_EQ(m->meta().find("tokenizer.ggml.merges")->as_array()->size, 50000u);
}

TEST(GgufReader, MixedQuantTypesPerTensor) {
  auto m = ModelFile::open(data("synth-llama-q4_k_m.gguf"));
  ASSERT_TRUE(m.ok()) << m.error().message;
  const ModelSummary s = summarize(m->meta(), m->tensors(), m->file_bytes());
  EXPECT_EQ(s.file_type, "Q4_K_M");
  EXPECT_EQ(s.n_params, 1312000u);
  EXPECT_EQ(m->find_tensor("token_embd.weight")->type, TensorType::kQ6_K);
  EXPECT_EQ(m->find_tensor("blk.1.attn_v.weight")->type, TensorType::kQ6_K);
  EXPECT_EQ(m->find_tensor("blk.1.ffn_down.weight")->type, TensorType::kQ6_K);
  EXPECT_EQ(m->find_tensor("blk.0.attn_v.weight")->type, TensorType::kQ4_K);
  EXPECT_EQ(m->find_tensor("output_norm.weight")->type, TensorType::kF32);
  EXPECT_EQ(m->meta().get_int("general.quantization_version"), 2);
}

TEST(GgufReader, DeepSeekMetadataTypesAndExpertTensors) {
  auto m = ModelFile::open(data("synth-deepseek2-q4_k_m.gguf"));
  ASSERT_TRUE(m.ok()) << m.error().message;
  const File& f = m->meta();
  EXPECT_EQ(f.get_bool("deepseek2.expert_weights_norm"), true);
  EXPECT_FLOAT_EQ(static_cast<float>(*f.get_number("deepseek2.expert_weights_scale")), 2.5f);
  EXPECT_EQ(f.find("deepseek2.expert_gating_func")->type, ValueType::kU32);
  EXPECT_EQ(f.get_int("deepseek2.expert_gating_func"), 2);
  EXPECT_EQ(f.get_string("deepseek2.rope.scaling.type"), "yarn");
  EXPECT_FALSE(f.get_int("deepseek2.rope.scaling.type").has_value());  // a string is not an int
  EXPECT_FALSE(f.get_string("deepseek2.block_count").has_value());
  const TensorInfo* exps = m->find_tensor("blk.1.ffn_down_exps.weight");
  ASSERT_NE(exps, nullptr);
  EXPECT_EQ(exps->n_dims, 3u);
  EXPECT_EQ(exps->ne[2], 4);
  EXPECT_EQ(exps->type, TensorType::kQ6_K);
  EXPECT_EQ(exps->shape_string(), "[256, 256, 4]");
  const ModelSummary s = summarize(f, m->tensors(), m->file_bytes());
  EXPECT_EQ(s.n_params, 2510084u);
  EXPECT_EQ(s.expert_count, 4);
  EXPECT_EQ(s.by_type.at(TensorType::kQ6_K).tensors, 3u);
  EXPECT_EQ(s.by_type.at(TensorType::kQ4_K).tensors, 18u);
}

TEST(GgufReader, ValueAccessorsConvertOnlyCompatibleTypes) {
  Value v;
  v.type = ValueType::kU64;
  v.u = ~0ull;
  EXPECT_FALSE(v.as_int().has_value());  // does not fit int64
  EXPECT_DOUBLE_EQ(*v.as_number(), 18446744073709551615.0);
  v.type = ValueType::kI8;
  v.i = -5;
  EXPECT_EQ(v.as_int(), -5);
  EXPECT_FALSE(v.as_bool().has_value());
  EXPECT_EQ(v.to_display(), "-5");
}

TEST(GgufReader, FileTypeGuessedWhenAbsent) {
  auto m = ModelFile::open(bundled());
  ASSERT_TRUE(m.ok());
  const ModelSummary s = summarize(m->meta(), m->tensors(), m->file_bytes());
  EXPECT_EQ(s.file_type, "F32");
  EXPECT_TRUE(s.file_type_guessed);
}

}  // namespace
}  // namespace folio::gguf
