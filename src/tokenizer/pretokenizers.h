// Pre-tokenizer settings of a byte-level BPE vocabulary.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace folio {

struct PreTokenizer {
  std::vector<std::string> regexes;  // PCRE2 syntax, applied in order
  bool clean_spaces = true;          // detokenize: " ." -> "." etc.
  bool ignore_merges = false;        // a word that is a token is not split
  bool add_bos = false;
};

// Errors name the unknown pre-tokenizer and list the known ones.
Result<PreTokenizer> find_pretokenizer(std::string_view name);

}  // namespace folio
