#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "gguf/writer.h"
#include "memory/model_file.h"
#include "test_util.h"

namespace folio {
namespace {

Tokenizer load(const std::string& path) {
  auto f = ModelFile::open(path);
  EXPECT_TRUE(f.ok()) << f.error().message;
  auto t = Tokenizer::load(f->meta());
  EXPECT_TRUE(t.ok()) << t.error().message;
  return std::move(t).value();
}

Tokenizer stories() { return load(std::string(FOLIO_MODELS_DIR) + "/stories260K.gguf"); }

// ../shared/golden/README.md section 3: the stories260K prompts.
TEST(Tokenizer, StoriesPromptsAsReference) {
  const Tokenizer t = stories();
  EXPECT_EQ(t.encode("Once upon a time", true, false), (std::vector<int32_t>{1, 403, 407, 261, 378}));
  EXPECT_EQ(t.encode("Lily and Ben were", true, false), (std::vector<int32_t>{1, 317, 269, 368, 302, 382, 276}));
  EXPECT_EQ(t.encode("The little dog", true, false), (std::vector<int32_t>{1, 291, 376, 400, 428}));
  EXPECT_EQ(t.encode("", true, false), (std::vector<int32_t>{1}));
  EXPECT_TRUE(t.encode("", false, false).empty());
}

TEST(Tokenizer, DecodeAsLlamaDetokenize) {
  const Tokenizer t = stories();
  // The reference's greedy.text and full_text (llama_detokenize with
  // remove_special = unparse_special = false).
  for (const char* name : {"stories260K.prompt1", "stories260K.prompt2", "stories260K.prompt3"}) {
    std::ifstream jf(std::string(FOLIO_TEST_DATA) + "/golden/" + name + ".logits.json");
    const auto j = nlohmann::json::parse(jf);
    const auto greedy = j["greedy"]["tokens"].get<std::vector<int32_t>>();
    EXPECT_EQ(t.decode(greedy, false, false), j["greedy"]["text"].get<std::string>()) << name;
    std::vector<int32_t> all = j["tokens"].get<std::vector<int32_t>>();
    all.insert(all.end(), greedy.begin(), greedy.end());
    EXPECT_EQ(t.decode(all, false, false), j["greedy"]["full_text"].get<std::string>()) << name;
    EXPECT_EQ(t.encode(j["prompt"].get<std::string>(), true, false), j["tokens"].get<std::vector<int32_t>>());
  }
  const std::vector<int32_t> ids = t.encode("Once upon a time, there was", true, false);
  EXPECT_EQ(t.decode(ids, false, false), " Once upon a time, there was");  // BOS renders "", its space stays
  EXPECT_EQ(t.decode(ids, true, false), " Once upon a time, there was");   // removing BOS keeps the space
  EXPECT_EQ(t.decode({ids.begin() + 1, ids.end()}, false, false), "Once upon a time, there was");
  EXPECT_EQ(t.piece(1, false), "");
  EXPECT_EQ(t.piece(1, true), "<s>");
  EXPECT_EQ(t.piece(13, false), "\n");  // <0x0A>
}

TEST(Tokenizer, ByteFallbackRoundTripsAnyUtf8) {
  const Tokenizer t = stories();  // 512 tokens: most characters are not in the vocabulary
  const std::string text = "héllo 🙂 日本";
  const std::vector<int32_t> ids = t.encode(text, false, false);
  std::string joined;
  for (int32_t id : ids) joined += t.piece(id, false);
  EXPECT_EQ(joined, " " + text);
  EXPECT_GT(ids.size(), 10u);
}

TEST(Tokenizer, SpecialTokensOnlyWhenParsed) {
  const Tokenizer t = stories();
  const std::vector<int32_t> parsed = t.encode("a</s>b", false, true);
  EXPECT_NE(std::find(parsed.begin(), parsed.end(), 2), parsed.end());
  const std::vector<int32_t> plain = t.encode("a</s>b", false, false);
  EXPECT_EQ(std::find(plain.begin(), plain.end(), 2), plain.end());
  EXPECT_TRUE(t.is_eog(2));
  EXPECT_FALSE(t.is_eog(1));
}

TEST(Tokenizer, Gpt2ByteLevel) {
  const Tokenizer t = load(std::string(FOLIO_TEST_DATA) + "/tokenizer/ggml-vocab-gpt-2.gguf");
  EXPECT_EQ(t.encode("Hello world", false, false), (std::vector<int32_t>{15496, 995}));
  EXPECT_EQ(t.decode({15496, 995}, false, false), "Hello world");
  EXPECT_TRUE(t.is_eog(50256));
  // clean_spaces, as HF's clean_up_tokenization_spaces
  EXPECT_EQ(t.decode(t.encode("Hi , there !", false, false), false, false), "Hi, there!");
}

Result<Tokenizer> tokenizer_with(const std::function<void(gguf::Writer&)>& edit) {
  testing::TempDir dir;
  gguf::Writer w;
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "gpt-2");
  w.set_array_strings("tokenizer.ggml.tokens", {"a", "b", "ab"});
  w.set_array_strings("tokenizer.ggml.merges", {"a b"});
  edit(w);
  EXPECT_TRUE(w.write(dir.file("v.gguf")).ok());
  auto f = ModelFile::open(dir.file("v.gguf"));
  EXPECT_TRUE(f.ok());
  return Tokenizer::load(f->meta());
}

// Long runs of letters with the lookahead-heavy Tekken regex overflow
// PCRE2's default JIT stack; the split must still be right after them.
TEST(Tokenizer, LongRunsKeepSplitting) {
  auto gpt2 = ModelFile::open(std::string(FOLIO_TEST_DATA) + "/tokenizer/ggml-vocab-gpt-2.gguf");
  ASSERT_TRUE(gpt2.ok());
  testing::TempDir dir;
  gguf::Writer w;
  for (const auto& kv : gpt2->meta().kvs()) w.set_value(kv.key, kv.value);
  w.set_string("tokenizer.ggml.pre", "tekken");
  ASSERT_TRUE(w.write(dir.file("tekken.gguf")).ok());
  const Tokenizer t = load(dir.file("tekken.gguf"));
  const std::vector<int32_t> ids = t.encode(std::string(1200, 'A') + "1234567", false, false);
  ASSERT_GE(ids.size(), 7u);
  EXPECT_EQ(std::vector<int32_t>(ids.end() - 7, ids.end()), (std::vector<int32_t>{16, 17, 18, 19, 20, 21, 22}));
}

TEST(Tokenizer, InvalidUtf8BecomesReplacementCharacters) {
  const Tokenizer t = load(std::string(FOLIO_TEST_DATA) + "/tokenizer/ggml-vocab-gpt-2.gguf");
  // A surrogate, a code point past U+10FFFF, an overlong "/": 9 invalid bytes.
  const std::string bad = "\xED\xA0\x80\xF7\xBF\xBF\xBF\xC0\xAF";
  std::string joined;
  for (int32_t id : t.encode(bad, false, false)) joined += t.piece(id, false);
  std::string fffd;
  for (int i = 0; i < 9; ++i) fffd += "\xEF\xBF\xBD";
  EXPECT_EQ(joined, fffd);
}

TEST(Tokenizer, LoadErrorsNameTheCause) {
  auto ok = tokenizer_with([](gguf::Writer&) {});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->encode("ab", false, false), (std::vector<int32_t>{2}));
  auto t5 = tokenizer_with([](gguf::Writer& w) { w.set_string("tokenizer.ggml.model", "t5"); });
  ASSERT_FALSE(t5.ok());
  EXPECT_NE(t5.error().message.find("tokenizer type 't5' is not supported"), std::string::npos);
  auto pre = tokenizer_with([](gguf::Writer& w) { w.set_string("tokenizer.ggml.pre", "klingon"); });
  ASSERT_FALSE(pre.ok());
  EXPECT_NE(pre.error().message.find("unknown pre-tokenizer 'klingon'"), std::string::npos);
  auto merges = tokenizer_with([](gguf::Writer& w) { w.remove("tokenizer.ggml.merges"); });
  ASSERT_FALSE(merges.ok());
  EXPECT_NE(merges.error().message.find("tokenizer.ggml.merges"), std::string::npos);
  auto dup = tokenizer_with([](gguf::Writer& w) { w.set_array_strings("tokenizer.ggml.tokens", {"a", "b", "a"}); });
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("twice"), std::string::npos);
  auto none = tokenizer_with([](gguf::Writer& w) { w.remove("tokenizer.ggml.model"); });
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no tokenizer"), std::string::npos);
}

}  // namespace
}  // namespace folio
