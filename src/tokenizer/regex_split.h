// Splits text into pre-tokenizer words with a list of PCRE2 regexes, each
// refining the pieces of the previous one; text between matches is kept as
// pieces of its own (ref: llama.cpp unicode_regex_split). Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace folio {

class RegexSplitter {
 public:
  static Result<std::unique_ptr<RegexSplitter>> compile(const std::vector<std::string>& regexes);
  ~RegexSplitter();

  // text must be valid UTF-8. Returns the pieces in order.
  std::vector<std::string_view> split(std::string_view text) const;

 private:
  RegexSplitter() = default;
  std::vector<void*> codes_;  // pcre2_code_8*
};

}  // namespace folio
