#include "synth/synth.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "memory/model_file.h"
#include "test_util.h"

namespace folio::synth {
namespace {

using folio::testing::TempDir;

std::string bundled() { return std::string(FOLIO_MODELS_DIR) + "/stories260K.gguf"; }

SynthOptions options(const char* preset, const char* quant) {
  SynthOptions o;
  o.shape = *find_preset(preset);
  o.quant = quant;
  o.vocab_path = bundled();
  return o;
}

// Every tensor in the file equals what its source generates again, and the
// metadata matches the shape.
void expect_reads_back(const SynthOptions& o, const ModelFile& m) {
  auto w = build_writer(o);
  ASSERT_TRUE(w.ok()) << w.error().message;
  ASSERT_EQ(m.tensors().size(), w->tensors().size());
  for (const gguf::TensorSpec& spec : w->tensors()) {
    const gguf::TensorInfo* t = m.find_tensor(spec.name);
    ASSERT_NE(t, nullptr) << spec.name;
    EXPECT_EQ(t->type, spec.type) << spec.name;
    ASSERT_EQ(t->n_dims, spec.shape.size());
    for (size_t d = 0; d < spec.shape.size(); ++d) EXPECT_EQ(t->ne[d], spec.shape[d]);
    std::vector<uint8_t> want(spec.nbytes());
    ASSERT_TRUE(spec.source(0, spec.n_rows(), want.data()).ok());
    EXPECT_EQ(0, std::memcmp(t->data, want.data(), want.size())) << spec.name;
  }
  const gguf::File& f = m.meta();
  const std::string a = o.shape.arch + ".";
  EXPECT_EQ(f.get_string("general.architecture"), o.shape.arch);
  EXPECT_EQ(f.get_int(a + "block_count"), o.shape.n_layer);
  EXPECT_EQ(f.get_int(a + "embedding_length"), o.shape.n_embd);
  EXPECT_EQ(f.get_int(a + "attention.head_count_kv"), o.shape.n_head_kv);
  EXPECT_EQ(f.get_int(a + "context_length"), o.shape.n_ctx);
}

TEST(Synth, TinyReadsBackIdentically) {
  TempDir dir;
  const SynthOptions o = options("tiny", "Q4_K_M");
  auto r = synthesize(o, dir.file("t.gguf"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto m = ModelFile::open(dir.file("t.gguf"));
  ASSERT_TRUE(m.ok()) << m.error().message;
  expect_reads_back(o, *m);
  EXPECT_EQ(m->meta().get_int("general.file_type"), 15);
  // Same tensor types as llama-quantize gave the golden model of this shape.
  EXPECT_EQ(m->find_tensor("token_embd.weight")->type, TensorType::kQ6_K);
  EXPECT_EQ(m->find_tensor("blk.1.ffn_down.weight")->type, TensorType::kQ6_K);
  EXPECT_EQ(m->find_tensor("blk.0.ffn_down.weight")->type, TensorType::kQ4_K);
  EXPECT_EQ(r->n_params, 1312000u);
}

TEST(Synth, MoeAndQwenLayouts) {
  TempDir dir;
  for (const char* preset : {"tiny-moe", "qwen2.5-0.5b"}) {
    SynthOptions o = options(preset, "Q8_0");
    if (std::string(preset) == "qwen2.5-0.5b") o.shape.n_layer = 1;  // keep the test small
    const std::string path = dir.file(std::string(preset) + ".gguf");
    ASSERT_TRUE(synthesize(o, path).ok());
    auto m = ModelFile::open(path);
    ASSERT_TRUE(m.ok()) << m.error().message;
    expect_reads_back(o, *m);
  }
  auto moe = ModelFile::open(dir.file("tiny-moe.gguf"));
  EXPECT_EQ(moe->find_tensor("blk.0.ffn_gate_exps.weight")->ne[2], 4);
  EXPECT_EQ(moe->find_tensor("blk.0.ffn_gate_inp.weight")->type, TensorType::kF32);
  EXPECT_EQ(moe->meta().get_int("llama.expert_used_count"), 2);
  auto qwen = ModelFile::open(dir.file("qwen2.5-0.5b.gguf"));
  EXPECT_NE(qwen->find_tensor("blk.0.attn_q.bias"), nullptr);
  EXPECT_EQ(qwen->find_tensor("token_embd.weight")->ne[1], 151936);  // padded vocabulary
}

TEST(Synth, SameSeedSameBytesWhateverTheThreads) {
  TempDir dir;
  SynthOptions o = options("tiny", "Q4_K_M");
  o.threads = 1;
  ASSERT_TRUE(synthesize(o, dir.file("a.gguf")).ok());
  o.threads = 2;
  ASSERT_TRUE(synthesize(o, dir.file("b.gguf")).ok());
  EXPECT_EQ(testing::read_file(dir.file("a.gguf")), testing::read_file(dir.file("b.gguf")));
  o.seed = 43;
  ASSERT_TRUE(synthesize(o, dir.file("c.gguf")).ok());
  EXPECT_NE(testing::read_file(dir.file("a.gguf")), testing::read_file(dir.file("c.gguf")));
}

TEST(Synth, VocabularyIsCopiedAndPadded) {
  TempDir dir;
  SynthOptions o = options("tiny", "F16");
  o.shape.n_vocab = 600;
  ASSERT_TRUE(synthesize(o, dir.file("v.gguf")).ok());
  auto m = ModelFile::open(dir.file("v.gguf"));
  auto src = ModelFile::open(bundled());
  ASSERT_TRUE(m.ok() && src.ok());
  const gguf::Array* tokens = m->meta().find("tokenizer.ggml.tokens")->as_array();
  const gguf::Array* src_tokens = src->meta().find("tokenizer.ggml.tokens")->as_array();
  ASSERT_EQ(tokens->size, 600u);
  for (size_t i = 0; i < 512; ++i) ASSERT_EQ(tokens->strings[i], src_tokens->strings[i]);
  EXPECT_EQ(tokens->strings[599], "<|synth_unused_87|>");
  EXPECT_EQ(m->meta().find("tokenizer.ggml.token_type")->as_array()->int_at(599), 5);
  EXPECT_EQ(m->meta().find("tokenizer.ggml.scores")->as_array()->size, 600u);
  EXPECT_EQ(m->meta().get_int("tokenizer.ggml.bos_token_id"), 1);
  EXPECT_EQ(m->find_tensor("token_embd.weight")->ne[1], 600);
}

TEST(Synth, SplitWritesParts) {
  TempDir dir;
  SynthOptions o = options("tiny", "Q8_0");
  o.split_max_bytes = 400000;
  auto r = synthesize(o, dir.file("s.gguf"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_GT(r->paths.size(), 1u);
  auto m = ModelFile::open(r->paths[0]);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->n_shards(), r->paths.size());
  expect_reads_back(o, *m);
}

TEST(Synth, Errors) {
  TempDir dir;
  EXPECT_FALSE(find_preset("llama-9000").ok());
  SynthOptions o = options("tiny", "Q4_K_M");
  o.vocab_path = dir.file("missing.gguf");
  auto r = synthesize(o, dir.file("x.gguf"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no such file"), std::string::npos) << r.error().message;
  o = options("tiny", "Q4_K_M");
  o.shape.n_vocab = 100;  // smaller than the vocabulary's 512 tokens
  r = synthesize(o, dir.file("x.gguf"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("512 tokens"), std::string::npos) << r.error().message;
  o = options("tiny", "Q4_K_M");
  o.shape.n_head_kv = 3;
  EXPECT_FALSE(synthesize(o, dir.file("x.gguf")).ok());
  o = options("tiny", "Q7");
  EXPECT_FALSE(synthesize(o, dir.file("x.gguf")).ok());
  EXPECT_TRUE(dir.list().empty());
}

}  // namespace
}  // namespace folio::synth
