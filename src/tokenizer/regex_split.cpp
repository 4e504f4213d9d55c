#include "tokenizer/regex_split.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "base/log.h"
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

namespace {

// Per-call match resources: a JIT stack that can grow to kJitStackMax (the
// default 32 KB overflows on long runs of letters with lookahead-heavy
// patterns such as Tekken's), and a match context that uses it.
constexpr size_t kJitStackMax = 8u << 20;

struct MatchResources {
  pcre2_jit_stack* stack = pcre2_jit_stack_create(32 * 1024, kJitStackMax, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  MatchResources() {
    if (stack && context) pcre2_jit_stack_assign(context, nullptr, stack);
  }
  ~MatchResources() {
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(stack);
  }
};

// A match from start; on a resource error (JIT stack) retries with the
// interpreter, whose backtracking lives on the heap.
int match(pcre2_code* code, std::string_view piece, size_t start, pcre2_match_data* md, pcre2_match_context* mc) {
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
  int rc = pcre2_match(code, subject, piece.size(), start, PCRE2_NO_UTF_CHECK, md, mc);
  if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
    rc = pcre2_match(code, subject, piece.size(), start, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, mc);
  }
  return rc;
}

}  // namespace

std::vector<std::string_view> RegexSplitter::split(std::string_view text) const {
  std::vector<std::string_view> pieces;
  if (!text.empty()) pieces.push_back(text);
  MatchResources res;
  for (void* c : codes_) {
    auto* code = static_cast<pcre2_code*>(c);
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
    std::vector<std::string_view> next;
    for (std::string_view piece : pieces) {
      size_t prev = 0, start = 0;
      while (start <= piece.size()) {
        const int rc = match(code, piece, start, md, res.context);
        if (rc < 0) {
          // No more matches; a limit hit even by the interpreter leaves the
          // rest as one piece (logged: it tokenizes, but not as the model
          // was trained).
          if (rc != PCRE2_ERROR_NOMATCH) {
            FOLIO_LOG_WARN("pre-tokenizer regex failed (PCRE2 error %d) on a %zu-byte piece", rc, piece.size() - start);
          }
          break;
        }
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
