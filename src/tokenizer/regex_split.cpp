#include "tokenizer/regex_split.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tokenizer/unicode.h"

namespace folio {

Result<std::unique_ptr<RegexSplitter>> RegexSplitter::compile(const std::vector<std::string>& regexes) {
  std::unique_ptr<RegexSplitter> s(new RegexSplitter());
  for (const std::string& re : regexes) {
    int err = 0;
    PCRE2_SIZE err_at = 0;
    // UCP: \s, \d, \w and POSIX classes follow Unicode properties, as the
    // Python regex module the tokenizers were trained with. DOLLAR_ENDONLY:
    // '$' matches only at the very end, as in ECMAScript.
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re.data()), re.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_NO_UTF_CHECK, &err,
                                     &err_at, nullptr);
    if (code == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      return make_error("pre-tokenizer regex does not compile at %zu: %s", static_cast<size_t>(err_at),
                        reinterpret_cast<const char*>(msg));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // best effort; falls back to the interpreter
    s->codes_.push_back(code);
  }
  return s;
}

RegexSplitter::~RegexSplitter() {
  for (void* c : codes_) pcre2_code_free(static_cast<pcre2_code*>(c));
}

std::vector<std::string_view> RegexSplitter::split(std::string_view text) const {
  std::vector<std::string_view> pieces;
  if (!text.empty()) pieces.push_back(text);
  for (void* c : codes_) {
    auto* code = static_cast<pcre2_code*>(c);
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
    std::vector<std::string_view> next;
    for (std::string_view piece : pieces) {
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
      size_t prev = 0, start = 0;
      while (start <= piece.size()) {
        const int rc = pcre2_match(code, subject, piece.size(), start, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc < 0) break;
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const size_t ms = ov[0], me = ov[1];
        if (ms > prev) next.push_back(piece.substr(prev, ms - prev));
        if (me > ms) next.push_back(piece.substr(ms, me - ms));
        prev = me;
        if (me == ms) {  // empty match: step over one character
          if (me >= piece.size()) break;
          start = me + unicode::utf8_len(static_cast<uint8_t>(piece[me]));
        } else {
          start = me;
        }
      }
      if (prev < piece.size()) next.push_back(piece.substr(prev));
    }
    pcre2_match_data_free(md);
    pieces = std::move(next);
  }
  return pieces;
}

}  // namespace folio
