// folio run / logits / tokenize / detokenize end to end.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "gguf/writer.h"
#include "memory/model_file.h"
#include "test_util.h"

namespace folio {
namespace {

using testing::run_folio;

std::string bundled() { return std::string(FOLIO_MODELS_DIR) + "/stories260K.gguf"; }

std::string golden_text(const char* name) {
  std::ifstream jf(std::string(FOLIO_TEST_DATA) + "/golden/" + name + ".logits.json");
  return nlohmann::json::parse(jf)["greedy"]["text"].get<std::string>();
}

const std::vector<std::string> kGreedy = {"-p", "temperature=0", "-p", "repeat_penalty=1", "-p", "num_predict=64"};

std::vector<std::string> args(std::vector<std::string> a, const std::vector<std::string>& more = {}) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

TEST(CliRun, GreedyCompletionIsTheReference) {
  const auto r = run_folio(args({"run", bundled(), "Once upon a time"}, kGreedy));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, golden_text("stories260K.prompt1") + "\n");
  // The prompt can come from stdin.
  const auto s = run_folio(args({"run", bundled()}, kGreedy), "The little dog");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out, " " + golden_text("stories260K.prompt3") + "\n");  // the first piece keeps its space here
}

TEST(CliRun, SeedsAreReproducible) {
  const std::vector<std::string> sample = {"-p", "temperature=1", "-p", "num_predict=24", "-p", "top_k=0"};
  const auto a = run_folio(args({"run", bundled(), "Once upon a time", "-p", "seed=7"}, sample));
  const auto b = run_folio(args({"run", bundled(), "Once upon a time", "-p", "seed=7"}, sample));
  const auto c = run_folio(args({"run", bundled(), "Once upon a time", "-p", "seed=8"}, sample));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
}

TEST(CliRun, StopStringIsNeverPrinted) {
  const auto r = run_folio(args({"run", bundled(), "Once upon a time", "-p", "stop=Lily"}, kGreedy));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ", there was a little girl named \n");
}

TEST(CliRun, VerboseTimings) {
  const auto r = run_folio(args({"run", bundled(), "Once upon a time", "--verbose", "-p", "num_predict=8"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* k : {"total duration:", "load duration:", "prompt eval count:    5 token(s)", "prompt eval rate:",
                        "eval count:           8 token(s)", "eval rate:"}) {
    EXPECT_NE(r.err.find(k), std::string::npos) << k << " in " << r.err;
  }
}

TEST(CliRun, ErrorsAreOneLineAndNonZero) {
  testing::TempDir dir;
  auto expect_error = [](const testing::RunResult& r, const std::string& what) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.err.rfind("Error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  };
  expect_error(run_folio({"run", bundled(), "Once upon a time there was a dog", "-p", "num_ctx=4"}),
               "more than the context of 4 (num_ctx)");
  expect_error(run_folio({"run", dir.file("none.gguf"), "hi"}), "no such file");
  expect_error(run_folio({"run", dir.path(), "hi"}), "not a regular file");
  expect_error(run_folio({"run", bundled(), "hi", "-p", "temprature=0"}), "unknown option 'temprature'");
  expect_error(run_folio({"run", std::string(FOLIO_TEST_DATA) + "/tokenizer/ggml-vocab-gpt-2.gguf", "hi"}),
               "unsupported architecture 'gpt2'");
  // A model whose tokenizer folio does not know.
  auto src = ModelFile::open(bundled());
  ASSERT_TRUE(src.ok());
  gguf::Writer w;
  for (const auto& kv : src->meta().kvs()) w.set_value(kv.key, kv.value);
  w.set_string("tokenizer.ggml.model", "t5");
  for (const auto& t : src->tensors()) {
    const gguf::TensorInfo info = t;
    ASSERT_TRUE(w.add_tensor({std::string(t.name), t.type, std::vector<int64_t>(t.ne, t.ne + t.n_dims),
                              [info](int64_t first, int64_t n, uint8_t* dst) -> Result<void> {
                                const size_t rb = info.nbytes / static_cast<size_t>(info.n_rows());
                                std::memcpy(dst, info.data + first * rb, static_cast<size_t>(n) * rb);
                                return {};
                              }})
                    .ok());
  }
  ASSERT_TRUE(w.write(dir.file("t5.gguf")).ok());
  expect_error(run_folio({"run", dir.file("t5.gguf"), "hi"}), "tokenizer type 't5' is not supported");
  w.set_string("general.architecture", "gemma7");
  ASSERT_TRUE(w.write(dir.file("gemma7.gguf")).ok());
  expect_error(run_folio({"run", dir.file("gemma7.gguf"), "hi"}), "unsupported architecture 'gemma7'; folio runs: llama, qwen2, phi3, gemma2, deepseek2, qwen3, qwen3moe, qwen2moe, gemma3");
  // Absurd hyperparameters are refused before anything is sized by them.
  w.set_string("general.architecture", "llama");
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_u64("llama.block_count", 1000000000000ull);
  ASSERT_TRUE(w.write(dir.file("layers.gguf")).ok());
  expect_error(run_folio({"run", dir.file("layers.gguf"), "hi"}), "llama.block_count is 1000000000000, more than any model has");
  w.set_u32("llama.block_count", 50);
  ASSERT_TRUE(w.write(dir.file("layers50.gguf")).ok());
  expect_error(run_folio({"run", dir.file("layers50.gguf"), "hi"}), "block_count is 50 but the file holds only 48 tensors");
}

TEST(CliTokenize, TokenizeDetokenizeLogits) {
  auto r = run_folio({"tokenize", bundled(), "Once upon a time"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[1,403,407,261,378]\n");
  r = run_folio({"tokenize", bundled(), "Once upon a time", "--no-bos"});
  EXPECT_EQ(r.out, "[403,407,261,378]\n");
  r = run_folio({"detokenize", bundled(), "403,407,261,378"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Once upon a time\n");
  r = run_folio({"detokenize", bundled(), "403,99999"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("'99999' is not a token id"), std::string::npos) << r.err;
  // A vocabulary-only file tokenizes too.
  r = run_folio({"tokenize", std::string(FOLIO_TEST_DATA) + "/tokenizer/ggml-vocab-gpt-2.gguf", "Hello world"});
  EXPECT_EQ(r.out, "[15496,995]\n");
  r = run_folio({"logits", bundled(), "--tokens", "1,403"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["tokens"], nlohmann::json::array({1, 403}));
  ASSERT_EQ(j["logits"].size(), 2u);
  EXPECT_EQ(j["logits"][0].size(), 512u);
  r = run_folio({"logits", bundled(), "--tokens", "1,512"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("token id 512 is out of range"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace folio
