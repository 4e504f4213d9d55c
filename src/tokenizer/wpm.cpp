// WordPiece (ref: Devlin et al. 2018, BERT tokenization.py; llama.cpp
// llm_tokenizer_wpm). GGUF BERT vocabularies mark word-initial pieces with
// a U+2581 prefix instead of marking continuations with "##".
#include <algorithm>

#include "tokenizer/algorithms.h"
#include "tokenizer/unicode.h"

namespace folio::tok {

namespace {

bool is_chinese(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Lower-cased words; punctuation, ASCII symbols and CJK ideographs are
// words of their own; control characters dropped.
std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words(1);
  for (uint32_t cp : unicode::to_cpts(text)) {
    cp = unicode::decompose_first(cp);
    if (unicode::is_whitespace(cp)) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    const unicode::Category cat = unicode::category(cp);
    if (cp == 0 || cp == 0xFFFD || cat == unicode::Category::kControl) continue;
    const std::string s = unicode::to_utf8(unicode::to_lower(cp));
    if (cat == unicode::Category::kPunct || (cp < 0x7F && cat == unicode::Category::kSymbol) || is_chinese(cp)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = s;
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

}  // namespace

void wpm_encode(const Vocab& v, std::string_view text, std::vector<int32_t>& out) {
  for (const std::string& word : split_words(text)) {
    const std::string w = "\xE2\x96\x81" + word;
    const size_t start = out.size();
    size_t i = 0;
    while (i < w.size()) {
      bool matched = false;
      for (size_t j = std::min(w.size(), i + v.max_token_len + 1); j > i; --j) {
        if (const int32_t id = v.find(std::string_view(w).substr(i, j - i)); id >= 0) {
          out.push_back(id);
          i = j;
          matched = true;
          break;
        }
      }
      if (!matched) {
        out.resize(start);
        break;
      }
    }
    if (out.size() == start && v.unk >= 0) out.push_back(v.unk);
  }
}

}  // namespace folio::tok
