// Every vocabulary of llama.cpp's tokenizer tests (tests/data/tokenizer,
// copied from ../shared/golden/tokenizer): each .inp case must give exactly
// the .out ids (add_special = false, parse_special = false, as
// test-tokenizer-0), and decoding must give the text back where the
// tokenizer is lossless.
#include <gtest/gtest.h>

#include <sstream>

#include "memory/model_file.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace folio {
namespace {

struct Case {
  std::string input;
  std::vector<int32_t> ids;
};

std::vector<Case> load_cases(const std::string& base) {
  const std::vector<uint8_t> inp = testing::read_file(base + ".inp");
  const std::vector<uint8_t> out = testing::read_file(base + ".out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::string all(inp.begin(), inp.end());
  std::vector<std::string> inputs;
  for (size_t pos = 0;;) {
    const size_t at = all.find(sep, pos);
    if (at == std::string::npos) break;
    inputs.push_back(all.substr(pos, at - pos));
    pos = at + sep.size();
  }
  std::vector<Case> cases;
  std::istringstream lines(std::string(out.begin(), out.end()));
  std::string line;
  for (const std::string& in : inputs) {
    std::getline(lines, line);
    Case c{in, {}};
    std::istringstream ids(line);
    int32_t id;
    while (ids >> id) c.ids.push_back(id);
    cases.push_back(std::move(c));
  }
  return cases;
}

std::string show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += std::to_string(id) + " ";
  return s;
}

class TokenizerGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerGolden, EveryCaseGivesTheReferenceIds) {
  const std::string base = std::string(FOLIO_TEST_DATA) + "/tokenizer/ggml-vocab-" + GetParam() + ".gguf";
  auto file = ModelFile::open(base);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto tok = Tokenizer::load(file->meta());
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  const std::vector<Case> cases = load_cases(base);
  ASSERT_EQ(cases.size(), 46u);
  int ok = 0;
  for (const Case& c : cases) {
    const std::vector<int32_t> ids = tok->encode(c.input, false, false);
    if (ids == c.ids) ++ok;
    EXPECT_EQ(show(ids), show(c.ids)) << GetParam() << " input \"" << c.input << "\"";
    if (tok->vocab().type == VocabType::kWpm) continue;  // WordPiece lower-cases and drops accents
    std::string joined;
    for (int32_t id : ids) joined += tok->piece(id, false);
    std::string expect = c.input;
    if (tok->vocab().add_space_prefix && !expect.empty()) expect = " " + expect;  // SentencePiece's prefixed space
    EXPECT_EQ(joined, expect) << GetParam() << ": pieces do not give the text back";
  }
  std::printf("  [ tokenize ] %-16s %d/%zu cases\n", GetParam().c_str(), ok, cases.size());
}

INSTANTIATE_TEST_SUITE_P(Vocabs, TokenizerGolden,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "mpt", "falcon", "starcoder", "refact",
                                           "deepseek-llm", "deepseek-coder", "bert-bge"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

}  // namespace
}  // namespace folio
