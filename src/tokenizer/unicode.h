// Unicode helpers for the tokenizers: UTF-8 code points, the categories
// and case/decomposition data (from utf8proc), and the byte <-> code point
// map of byte-level BPE.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace folio::unicode {

// Byte length of the UTF-8 sequence a lead byte announces, by its high
// nibble (continuation and invalid bytes count 1), as llama.cpp splits text
// into SPM/BPE symbols.
inline size_t utf8_len(uint8_t lead) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

// Decodes UTF-8; an invalid sequence yields U+FFFD and consumes one byte.
std::vector<uint32_t> to_cpts(std::string_view s);
void append_utf8(uint32_t cpt, std::string& out);
std::string to_utf8(uint32_t cpt);

enum class Category : uint8_t { kOther, kLetter, kNumber, kPunct, kMark, kSymbol, kSeparator, kControl };
Category category(uint32_t cpt);

// Unicode White_Space (the 25 code points Python's regex \s matches).
bool is_whitespace(uint32_t cpt);
uint32_t to_lower(uint32_t cpt);
// The first code point of cpt's canonical decomposition (é -> e).
uint32_t decompose_first(uint32_t cpt);

// Byte-level BPE (ref: OpenAI GPT-2 encoder.py bytes_to_unicode): printable
// bytes map to themselves, the other 68 to U+0100 + n in byte order.
uint32_t byte_to_cpt(uint8_t b);
// Returns -1 for code points no byte maps to.
int cpt_to_byte(uint32_t cpt);
// Replaces each byte of s by the UTF-8 of its mapped code point.
std::string byte_encode(std::string_view s);

}  // namespace folio::unicode
