// Text <-> token ids for a model, from its GGUF vocabulary: SentencePiece
// ("llama"), byte-level BPE ("gpt2", with the pre-tokenizer named by
// tokenizer.ggml.pre) and WordPiece ("bert"), matching llama.cpp's
// llama_tokenize / llama_token_to_piece / llama_detokenize.
// Immutable after load; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gguf/reader.h"
#include "tokenizer/vocab.h"

namespace folio {

class RegexSplitter;

class Tokenizer {
 public:
  static Result<Tokenizer> load(const gguf::File& meta);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // add_special: BOS/EOS as the vocabulary asks (CLS/SEP for WordPiece).
  // parse_special: control tokens written in the text ("<|eot_id|>") become
  // those tokens; otherwise they are tokenized as plain text.
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  // The bytes of one token. Control and unknown tokens render as "" unless
  // special. A piece may hold part of a UTF-8 character.
  std::string piece(int32_t id, bool special) const;

  // Joins pieces as llama_detokenize does (one leading space dropped for
  // SentencePiece, clean-up of spaces before punctuation where the
  // vocabulary asks for it).
  std::string decode(const std::vector<int32_t>& ids, bool remove_special, bool unparse_special) const;

  bool is_eog(int32_t id) const { return vocab_.eog.count(id) != 0; }
  int64_t size() const { return vocab_.size(); }
  const Vocab& vocab() const { return vocab_; }

 private:
  Tokenizer() = default;
  void encode_text(std::string_view text, bool first_or_after_special, std::vector<int32_t>& out) const;

  Vocab vocab_;
  std::unique_ptr<RegexSplitter> splitter_;
};

}  // namespace folio
