// The tokenization algorithms, one per vocabulary type (internal to
// tokenizer/). Each appends ids for one run of plain text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace folio::tok {

// SentencePiece-style: merges adjacent symbols, highest score first;
// symbols that are not tokens fall back to <0xXX> byte tokens.
// text is already escaped (spaces as U+2581).
void spm_encode(const Vocab& v, std::string_view text, std::vector<int32_t>& out);

// Byte-level BPE on one pre-tokenized, byte-encoded word: lowest merge rank
// first.
void bpe_encode_word(const Vocab& v, std::string_view word, std::vector<int32_t>& out);

// WordPiece: lower-cases, splits on whitespace/punctuation/CJK, greedy
// longest match; [UNK] for a word that cannot be matched.
void wpm_encode(const Vocab& v, std::string_view text, std::vector<int32_t>& out);

}  // namespace folio::tok
