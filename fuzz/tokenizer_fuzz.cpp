// Tokenizers with arbitrary bytes: every vocabulary of tests/data/tokenizer
// (SentencePiece, byte-level BPE with each pre-tokenizer, WordPiece). The
// first byte picks the vocabulary and the flags, the rest is the text.
// Ids must be in range and decode must not fail; the byte-level BPE and
// byte-fallback SentencePiece vocabularies must give valid UTF-8 back
// unchanged (but for U+2581, SentencePiece's space).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_target.h"
#include "memory/model_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace {

struct Loaded {
  std::string name;
  std::unique_ptr<folio::ModelFile> file;
  std::unique_ptr<folio::Tokenizer> tok;
  bool lossless = false;
};

std::vector<Loaded> load_all() {
  std::vector<Loaded> out;
  for (const char* name : {"llama-spm", "phi-3", "gpt-2", "mpt", "falcon", "starcoder", "refact", "deepseek-llm",
                           "deepseek-coder", "bert-bge"}) {
    const std::string path = std::string(FOLIO_TEST_DATA) + "/tokenizer/ggml-vocab-" + name + ".gguf";
    auto file = folio::ModelFile::open(path);
    if (!file.ok()) {
      std::fprintf(stderr, "tokenizer fuzz: %s\n", file.error().message.c_str());
      std::abort();
    }
    Loaded l;
    l.name = name;
    l.file = std::make_unique<folio::ModelFile>(std::move(*file));
    auto tok = folio::Tokenizer::load(l.file->meta());
    FUZZ_CHECK(tok.ok());
    l.tok = std::make_unique<folio::Tokenizer>(std::move(*tok));
    l.lossless = l.name == "gpt-2" || l.name == "llama-spm";
    out.push_back(std::move(l));
  }
  return out;
}

// UTF-8 that decodes and re-encodes to itself (no invalid or overlong
// sequences).
bool valid_utf8(std::string_view s) {
  std::string again;
  for (uint32_t c : folio::unicode::to_cpts(s)) folio::unicode::append_utf8(c, again);
  return again == s;
}

}  // namespace

FOLIO_FUZZ_TARGET(tokenizer) {
  static const std::vector<Loaded> vocabs = load_all();
  if (size == 0) return 0;
  const Loaded& v = vocabs[(data[0] & 15) % vocabs.size()];
  const bool add_special = (data[0] >> 4) & 1;
  const bool parse_special = (data[0] >> 5) & 1;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::vector<int32_t> ids = v.tok->encode(text, add_special, parse_special);
  for (int32_t id : ids) FUZZ_CHECK(id >= 0 && id < v.tok->size());
  (void)v.tok->decode(ids, (data[0] >> 6) & 1, (data[0] >> 7) & 1);
  // (SentencePiece writes spaces as U+2581, so that character itself comes
  // back as a space, as in llama.cpp.)
  const bool spm_space = v.tok->vocab().type == folio::VocabType::kSpm && text.find("\xe2\x96\x81") != std::string_view::npos;
  if (v.lossless && !add_special && !parse_special && valid_utf8(text) && !spm_space) {
    std::string joined;
    for (int32_t id : ids) joined += v.tok->piece(id, false);
    std::string expect(text);
    if (v.tok->vocab().add_space_prefix && !expect.empty()) expect = " " + expect;
    if (joined != expect) {
      std::fprintf(stderr, "%s: pieces do not give the text back: [%s] -> [%s]\n", v.name.c_str(), expect.c_str(),
                   joined.c_str());
    }
    FUZZ_CHECK(joined == expect);
  }
  return 0;
}
