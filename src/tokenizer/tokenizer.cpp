#include "tokenizer/tokenizer.h"

#include <cctype>
#include <cstdlib>

#include "tokenizer/algorithms.h"
#include "tokenizer/regex_split.h"
#include "tokenizer/unicode.h"

namespace folio {

namespace {

// A run of the input: plain text, or a special token found in it.
struct Fragment {
  int32_t token;           // -1: text
  std::string_view text;
};

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Splits text around the special tokens, longest first (ref: llama.cpp
// tokenizer_st_partition). Without parse_special only user-defined tokens
// are matched.
std::vector<Fragment> partition(const Vocab& v, std::string_view text, bool parse_special) {
  std::vector<Fragment> frags;
  if (!text.empty()) frags.push_back({-1, text});
  for (int32_t id : v.special) {
    const uint32_t attr = v.attr[id];
    if (!parse_special && (attr & (kAttrControl | kAttrUnknown))) continue;
    const std::string& tok = v.text[id];
    std::vector<Fragment> next;
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      std::string_view rest = f.text;
      for (;;) {
        const size_t at = rest.find(tok);
        if (at == std::string_view::npos) break;
        std::string_view left = rest.substr(0, at);
        if (attr & kAttrLstrip) {
          while (!left.empty() && is_space(left.back())) left.remove_suffix(1);
        }
        if (!left.empty()) next.push_back({-1, left});
        next.push_back({id, tok});
        rest = rest.substr(at + tok.size());
        if (attr & kAttrRstrip) {
          while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
        }
      }
      if (!rest.empty()) next.push_back({-1, rest});
    }
    frags = std::move(next);
  }
  return frags;
}

// Replaces invalid UTF-8 by U+FFFD (the regexes need valid text).
std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (uint32_t cp : unicode::to_cpts(s)) unicode::append_utf8(cp, out);
  return out;
}

}  // namespace

Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Result<Tokenizer> Tokenizer::load(const gguf::File& meta) {
  Tokenizer t;
  FOLIO_ASSIGN_OR_RETURN(t.vocab_, load_vocab(meta));
  if (t.vocab_.type == VocabType::kBpe) {
    FOLIO_ASSIGN_OR_RETURN(t.splitter_, RegexSplitter::compile(t.vocab_.regexes));
  }
  return t;
}

void Tokenizer::encode_text(std::string_view text, bool after_special, std::vector<int32_t>& out) const {
  switch (vocab_.type) {
    case VocabType::kSpm: {
      std::string s;
      if (vocab_.add_space_prefix && after_special) s = "\xE2\x96\x81";
      for (char c : text) {
        if (c == ' ') s += "\xE2\x96\x81";  // SentencePiece's visible space, U+2581
        else s += c;
      }
      tok::spm_encode(vocab_, s, out);
      break;
    }
    case VocabType::kBpe: {
      const std::string clean = sanitize(text);
      for (std::string_view word : splitter_->split(clean)) tok::bpe_encode_word(vocab_, unicode::byte_encode(word), out);
      break;
    }
    case VocabType::kWpm:
      tok::wpm_encode(vocab_, text, out);
      break;
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  const Vocab& v = vocab_;
  std::vector<int32_t> out;
  const bool wpm = v.type == VocabType::kWpm;
  if (add_special && (wpm || v.add_bos) && v.bos >= 0) out.push_back(v.bos);
  bool after_special = true;  // SentencePiece prefixes a space to the first run and to runs after special tokens
  for (const Fragment& f : partition(v, text, parse_special)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_special = true;
    } else {
      encode_text(f.text, after_special, out);
      after_special = false;
    }
  }
  if (add_special && wpm && v.sep >= 0) out.push_back(v.sep);
  if (add_special && !wpm && v.add_eos && v.eos >= 0) out.push_back(v.eos);
  return out;
}

std::string Tokenizer::piece(int32_t id, bool special) const {
  const Vocab& v = vocab_;
  if (id < 0 || id >= v.size()) return "";
  const uint32_t attr = v.attr[id];
  const std::string& text = v.text[id];
  if (!special && (attr & (kAttrUnknown | kAttrControl))) return "";
  if (attr & (kAttrUnknown | kAttrControl | kAttrUserDefined)) return text;
  if (v.type == VocabType::kBpe) {
    if (!(attr & kAttrNormal)) return "";
    std::string out;
    for (uint32_t cp : unicode::to_cpts(text)) {
      const int b = unicode::cpt_to_byte(cp);
      if (b >= 0) out += static_cast<char>(b);
      else unicode::append_utf8(cp, out);  // not a byte-level symbol: keep it
    }
    return out;
  }
  if (attr & kAttrNormal) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
        out += ' ';
        i += 2;
      } else {
        out += text[i];
      }
    }
    return out;
  }
  if ((attr & kAttrByte) && text.size() == 6) {  // "<0xAB>"
    return std::string(1, static_cast<char>(std::strtol(text.substr(3, 2).c_str(), nullptr, 16)));
  }
  return "";
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool remove_special, bool unparse_special) const {
  const Vocab& v = vocab_;
  size_t begin = 0, end = ids.size();
  bool remove_space = v.add_space_prefix;
  if (remove_special && v.add_bos && end > 0 && ids[0] == v.bos) {
    remove_space = false;
    begin = 1;
  }
  if (remove_special && v.add_eos && end > begin && ids[end - 1] == v.eos) --end;
  std::string text;
  for (size_t i = begin; i < end; ++i) {
    std::string p = piece(ids[i], unparse_special);
    if (remove_space && !p.empty() && p[0] == ' ') p.erase(0, 1);
    remove_space = false;
    text += p;
  }
  if (!v.clean_spaces) return text;
  // ref: HF clean_up_tokenization: " ." -> ".", " ' " -> "'", " 's" -> "'s" ...
  std::string a;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i + 1 < text.size() && c == ' ' && (text[i + 1] == '?' || text[i + 1] == '!' || text[i + 1] == '.' ||
                                            text[i + 1] == ',')) {
      continue;
    }
    a += c;
  }
  std::string b;
  for (size_t i = 0; i < a.size(); ++i) {
    if (i + 2 < a.size() && a[i] == ' ' && a[i + 1] == '\'' && a[i + 2] == ' ' && i > 0) {
      b += '\'';
      i += 2;
      continue;
    }
    b += a[i];
  }
  std::string out;
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i] == ' ' && i > 0 && i + 2 < b.size() && b[i + 1] == '\'') {
      const char n1 = b[i + 2], n2 = i + 3 < b.size() ? b[i + 3] : '\0';
      const bool drop = n1 == 's' || n1 == 'm' || (n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e');
      if (drop) continue;
    }
    out += b[i];
  }
  return out;
}

}  // namespace folio
