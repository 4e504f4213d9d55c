#include "template/parse.h"

#include <cerrno>
#include <cmath>

#include <cctype>
#include <cstdlib>
#include <functional>

#include "base/strings.h"

namespace folio::tmpl {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

struct Token {
  enum class Kind { kEnd, kIdent, kField, kVariable, kDot, kString, kNumber, kChar, kLParen, kRParen, kPipe, kComma,
                    kDeclare, kAssign, kEof };
  Kind kind = Kind::kEof;
  std::string text;   // identifier/field/variable name, decoded string, number text
  bool adjacent = false;  // no space before it (a field right after an operand chains)
  int line = 0;
};

NodePtr make(Node::Type t, int line) {
  auto n = std::make_shared<Node>();
  n->type = t;
  n->line = line;
  return n;
}

// Tokens of one action, between {{ and }}.
class Lexer {
 public:
  Lexer(std::string_view src, size_t pos, int line) : s_(src), pos_(pos), line_(line) {}

  Result<Token> next() {
    const size_t before = pos_;
    while (pos_ < s_.size() && is_space(s_[pos_])) {
      if (s_[pos_] == '\n') ++line_;
      ++pos_;
    }
    Token t;
    t.adjacent = pos_ == before;
    t.line = line_;
    if (pos_ >= s_.size()) return make_error("line %d: unclosed action", line_);
    const char c = s_[pos_];
    // " -}}" closes with a trim; "}}" plainly.
    if (c == '-' && pos_ > 0 && is_space(s_[pos_ - 1]) && s_.substr(pos_, 3) == "-}}") {
      pos_ += 3;
      t.kind = Token::Kind::kEnd;
      t.text = "-";
      return t;
    }
    if (s_.substr(pos_, 2) == "}}") {
      pos_ += 2;
      t.kind = Token::Kind::kEnd;
      return t;
    }
    if (is_ident_start(c)) {
      while (pos_ < s_.size() && is_ident_char(s_[pos_])) t.text += s_[pos_++];
      t.kind = Token::Kind::kIdent;
      return t;
    }
    if (c == '.') {
      ++pos_;
      if (pos_ < s_.size() && is_ident_start(s_[pos_])) {
        while (pos_ < s_.size() && is_ident_char(s_[pos_])) t.text += s_[pos_++];
        t.kind = Token::Kind::kField;
      } else if (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
        --pos_;
        return number(t);
      } else {
        t.kind = Token::Kind::kDot;
      }
      return t;
    }
    if (c == '$') {
      t.text = "$";
      ++pos_;
      while (pos_ < s_.size() && is_ident_char(s_[pos_])) t.text += s_[pos_++];
      t.kind = Token::Kind::kVariable;
      return t;
    }
    if (c == '"') return quoted(t);
    if (c == '`') {
      const size_t end = s_.find('`', pos_ + 1);
      if (end == std::string_view::npos) return make_error("line %d: unterminated raw quoted string", line_);
      t.text = std::string(s_.substr(pos_ + 1, end - pos_ - 1));
      for (char x : t.text) line_ += x == '\n';
      pos_ = end + 1;
      t.kind = Token::Kind::kString;
      return t;
    }
    if (c == '\'') return character(t);
    if (std::isdigit(static_cast<unsigned char>(c)) || ((c == '-' || c == '+') && pos_ + 1 < s_.size() &&
                                                         (std::isdigit(static_cast<unsigned char>(s_[pos_ + 1])) ||
                                                          s_[pos_ + 1] == '.'))) {
      return number(t);
    }
    ++pos_;
    switch (c) {
      case '(': t.kind = Token::Kind::kLParen; return t;
      case ')': t.kind = Token::Kind::kRParen; return t;
      case '|': t.kind = Token::Kind::kPipe; return t;
      case ',': t.kind = Token::Kind::kComma; return t;
      case '=': t.kind = Token::Kind::kAssign; return t;
      case ':':
        if (pos_ < s_.size() && s_[pos_] == '=') {
          ++pos_;
          t.kind = Token::Kind::kDeclare;
          return t;
        }
        break;
      default: break;
    }
    return make_error("line %d: unexpected '%s' in action", line_, escape_for_display(std::string(1, c)).c_str());
  }

  size_t pos() const { return pos_; }
  int line() const { return line_; }

 private:
  Result<Token> number(Token t) {
    const size_t start = pos_;
    if (s_[pos_] == '+' || s_[pos_] == '-') ++pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.' ||
                                s_[pos_] == '_' || ((s_[pos_] == '+' || s_[pos_] == '-') &&
                                                    (s_[pos_ - 1] == 'e' || s_[pos_ - 1] == 'E')))) {
      ++pos_;
    }
    t.text = std::string(s_.substr(start, pos_ - start));
    t.kind = Token::Kind::kNumber;
    return t;
  }

  Result<Token> character(Token t) {
    ++pos_;
    std::string raw;
    while (pos_ < s_.size() && s_[pos_] != '\'') {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) raw += s_[pos_++];
      raw += s_[pos_++];
    }
    if (pos_ >= s_.size()) return make_error("line %d: unterminated character constant", line_);
    ++pos_;
    std::string decoded;
    FOLIO_TRY(unescape(raw, &decoded));
    uint32_t cp = 0;  // the code point of the (UTF-8) character
    const auto c0 = decoded.empty() ? 0u : static_cast<unsigned char>(decoded[0]);
    cp = c0 < 0x80 ? c0 : c0 < 0xe0 ? (c0 & 0x1f) : c0 < 0xf0 ? (c0 & 0x0f) : (c0 & 0x07);
    for (size_t k = 1; k < decoded.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(decoded[k]) & 0x3f);
    t.kind = Token::Kind::kChar;
    t.text = std::to_string(cp);
    return t;
  }

  Result<Token> quoted(Token t) {
    ++pos_;
    std::string raw;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (s_[pos_] == '\n') return make_error("line %d: unterminated quoted string", line_);
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) raw += s_[pos_++];
      raw += s_[pos_++];
    }
    if (pos_ >= s_.size()) return make_error("line %d: unterminated quoted string", line_);
    ++pos_;
    FOLIO_TRY(unescape(raw, &t.text));
    t.kind = Token::Kind::kString;
    return t;
  }

  static void put_utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xc0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xe0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      *out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      *out += static_cast<char>(0xf0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      *out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  // Go's escapes: \a \b \f \n \r \t \v \\ \" \' \xNN \uNNNN \UNNNNNNNN \NNN.
  Result<void> unescape(const std::string& raw, std::string* out) const {
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\') {
        *out += raw[i];
        continue;
      }
      if (++i >= raw.size()) return make_error("line %d: bad escape in string", line_);
      const char e = raw[i];
      const auto hex = [&](size_t n) -> Result<uint32_t> {
        if (i + n >= raw.size()) return make_error("line %d: bad escape in string", line_);
        const std::string h = raw.substr(i + 1, n);
        char* end = nullptr;
        const unsigned long v = std::strtoul(h.c_str(), &end, 16);
        if (h.size() != n || *end != '\0') return make_error("line %d: bad escape in string", line_);
        i += n;
        return static_cast<uint32_t>(v);
      };
      switch (e) {
        case 'a': *out += '\a'; break;
        case 'b': *out += '\b'; break;
        case 'f': *out += '\f'; break;
        case 'n': *out += '\n'; break;
        case 'r': *out += '\r'; break;
        case 't': *out += '\t'; break;
        case 'v': *out += '\v'; break;
        case '\\': case '"': case '\'': *out += e; break;
        case 'x': { FOLIO_ASSIGN_OR_RETURN(uint32_t v, hex(2)); *out += static_cast<char>(v); break; }
        case 'u': { FOLIO_ASSIGN_OR_RETURN(uint32_t v, hex(4)); put_utf8(v, out); break; }
        case 'U': { FOLIO_ASSIGN_OR_RETURN(uint32_t v, hex(8)); put_utf8(v, out); break; }
        default:
          if (e >= '0' && e <= '7' && i + 2 < raw.size()) {
            *out += static_cast<char>(std::strtoul(raw.substr(i, 3).c_str(), nullptr, 8));
            i += 2;
            break;
          }
          return make_error("line %d: unknown escape sequence \\%c", line_, e);
      }
    }
    return {};
  }

  std::string_view s_;
  size_t pos_;
  int line_;
};

class Parser {
 public:
  explicit Parser(std::string_view src) : src_(src) {}

  Result<NodePtr> run() {
    FOLIO_ASSIGN_OR_RETURN(NodePtr root, list(nullptr));
    if (stop_ != Stop::kEof) return make_error("line %d: unexpected {{%s}}", stop_line_, stop_word_.c_str());
    return root;
  }

 private:
  enum class Stop { kEof, kEnd, kElse };

  // A list of statements up to {{end}}, {{else ...}} or the end of input.
  // After {{else}}, else_chain holds "if"/"with" for "{{else if ...}}".
  Result<NodePtr> list(std::string* else_chain) {
    NodePtr out = make(Node::Type::kList, line_);
    for (;;) {
      const size_t open = src_.find("{{", pos_);
      std::string text(src_.substr(pos_, open == std::string_view::npos ? std::string_view::npos : open - pos_));
      const bool trim_left = open != std::string_view::npos && src_.substr(open, 4).size() == 4 &&
                             src_[open + 2] == '-' && is_space(src_[open + 3]);
      if (trim_next_) {
        size_t k = 0;
        while (k < text.size() && is_space(text[k])) ++k;
        text.erase(0, k);
      }
      if (trim_left) {
        while (!text.empty() && is_space(text.back())) text.pop_back();
      }
      if (!text.empty()) {
        NodePtr t = make(Node::Type::kText, line_);
        t->text = text;
        out->nodes.push_back(t);
      }
      const std::string_view consumed = src_.substr(pos_, open == std::string_view::npos ? std::string_view::npos : open - pos_);
      for (char c : consumed) line_ += c == '\n';
      if (open == std::string_view::npos) {
        pos_ = src_.size();
        stop_ = Stop::kEof;
        return out;
      }
      pos_ = open + (trim_left ? 4 : 2);
      trim_next_ = false;
      // A comment: {{/* ... */}} with optional trim markers.
      size_t p = pos_;
      while (trim_left && p < src_.size() && is_space(src_[p])) ++p;
      if (src_.substr(p, 2) == "/*") {
        const size_t close = src_.find("*/", p + 2);
        if (close == std::string_view::npos) return make_error("line %d: unclosed comment", line_);
        for (size_t k = pos_; k < close; ++k) line_ += src_[k] == '\n';
        size_t q = close + 2;
        if (src_.substr(q, 4) == " -}}") {
          trim_next_ = true;
          q += 4;
        } else if (src_.substr(q, 2) == "}}") {
          q += 2;
        } else {
          return make_error("line %d: comment ends before closing delimiter", line_);
        }
        pos_ = q;
        continue;
      }
      FOLIO_ASSIGN_OR_RETURN(Token first, token());
      if (first.kind == Token::Kind::kIdent) {
        const std::string& w = first.text;
        if (w == "end" || w == "else") {
          stop_line_ = first.line;
          stop_word_ = w;
          if (w == "end") {
            FOLIO_TRY(expect_end("end"));
            stop_ = Stop::kEnd;
            return out;
          }
          FOLIO_ASSIGN_OR_RETURN(Token after, token());
          if (after.kind == Token::Kind::kIdent && (after.text == "if" || after.text == "with")) {
            if (else_chain == nullptr) return make_error("line %d: unexpected {{else}}", first.line);
            *else_chain = after.text;
          } else {
            if (after.kind != Token::Kind::kEnd) return make_error("line %d: unexpected token after {{else", first.line);
            trim_next_ = after.text == "-";
            if (else_chain != nullptr) else_chain->clear();
          }
          stop_ = Stop::kElse;
          return out;
        }
        if (w == "if" || w == "range" || w == "with") {
          FOLIO_ASSIGN_OR_RETURN(NodePtr n, branch(w, first.line));
          out->nodes.push_back(n);
          continue;
        }
        if (w == "break" || w == "continue") {
          if (range_depth_ == 0) return make_error("line %d: {{%s}} outside {{range}}", first.line, w.c_str());
          FOLIO_TRY(expect_end(w));
          out->nodes.push_back(make(w == "break" ? Node::Type::kBreak : Node::Type::kContinue, first.line));
          continue;
        }
        if (w == "define" || w == "template" || w == "block") {
          return make_error("line %d: {{%s}} is not supported (undefined template specified)", first.line, w.c_str());
        }
      }
      NodePtr action = make(Node::Type::kAction, first.line);
      FOLIO_ASSIGN_OR_RETURN(action->pipe, pipeline(first, Token::Kind::kEnd, true));
      out->nodes.push_back(action);
    }
  }

  // Nesting is bounded (a request may carry its own template, and parsing
  // and execution recurse): as Go's max expression depth, smaller.
  static constexpr int kMaxDepth = 100;
  struct Nest {
    int& depth;
    explicit Nest(int& d) : depth(++d) {}
    ~Nest() { --depth; }
  };

  // if / range / with: pipeline, list, optional else list (or else-if chain).
  Result<NodePtr> branch(const std::string& word, int line) {
    Nest nest(depth_);
    if (depth_ > kMaxDepth) return make_error("line %d: blocks nest deeper than %d levels", line, kMaxDepth);
    const Node::Type type = word == "if" ? Node::Type::kIf : word == "range" ? Node::Type::kRange : Node::Type::kWith;
    NodePtr n = make(type, line);
    FOLIO_ASSIGN_OR_RETURN(Token first, token());
    FOLIO_ASSIGN_OR_RETURN(n->pipe, pipeline(first, Token::Kind::kEnd, true, type == Node::Type::kRange));
    if (type == Node::Type::kRange) ++range_depth_;
    std::string chain;
    FOLIO_ASSIGN_OR_RETURN(n->list, list(&chain));
    if (type == Node::Type::kRange) --range_depth_;
    if (stop_ == Stop::kEof) return make_error("line %d: unexpected EOF: {{%s}} has no {{end}}", line, word.c_str());
    if (stop_ == Stop::kElse) {
      if (!chain.empty()) {
        if (chain != word) return make_error("line %d: {{else %s}} inside {{%s}}", stop_line_, chain.c_str(), word.c_str());
        // {{else if x}} ... {{end}}: an else list holding one nested branch
        // that ends with the same {{end}}.
        NodePtr nested_list = make(Node::Type::kList, stop_line_);
        FOLIO_ASSIGN_OR_RETURN(NodePtr nested, branch(chain, stop_line_));
        nested_list->nodes.push_back(nested);
        n->else_list = nested_list;
        return n;
      }
      FOLIO_ASSIGN_OR_RETURN(n->else_list, list(nullptr));
      if (stop_ != Stop::kEnd) return make_error("line %d: expected {{end}} for {{%s}}", line, word.c_str());
    }
    return n;
  }

  Result<void> expect_end(const std::string& word) {
    Result<Token> t = token();
    if (!t.ok()) return t.take_error();
    if (t->kind != Token::Kind::kEnd) return make_error("line %d: unexpected token in {{%s}}", t->line, word.c_str());
    trim_next_ = t->text == "-";
    return {};
  }

  // pipeline: [$x :=|= | $i, $v :=] command (| command)*, up to `end`.
  Result<NodePtr> pipeline(Token first, Token::Kind end, bool top, bool range = false) {
    NodePtr pipe = make(Node::Type::kPipe, first.line);
    if (first.kind == Token::Kind::kVariable) {
      const size_t save_pos = lexer_pos_;
      const int save_line = line_;
      FOLIO_ASSIGN_OR_RETURN(Token t, token());
      if (t.kind == Token::Kind::kDeclare || t.kind == Token::Kind::kAssign) {
        pipe->decl.push_back(first.text);
        pipe->is_assign = t.kind == Token::Kind::kAssign;
        FOLIO_ASSIGN_OR_RETURN(first, token());
      } else if (t.kind == Token::Kind::kComma && range) {
        FOLIO_ASSIGN_OR_RETURN(Token second, token());
        FOLIO_ASSIGN_OR_RETURN(Token op, token());
        if (second.kind != Token::Kind::kVariable || (op.kind != Token::Kind::kDeclare && op.kind != Token::Kind::kAssign)) {
          return make_error("line %d: range can only initialize variables", t.line);
        }
        pipe->decl = {first.text, second.text};
        pipe->is_assign = op.kind == Token::Kind::kAssign;
        FOLIO_ASSIGN_OR_RETURN(first, token());
      } else {
        lexer_pos_ = save_pos;
        line_ = save_line;
      }
      for (const std::string& v : pipe->decl) {
        if (pipe->is_assign && !declared(v)) return make_error("line %d: undefined variable \"%s\"", first.line, v.c_str());
        if (!pipe->is_assign) vars_.push_back(v);
      }
    }
    Token t = first;
    for (;;) {
      if (t.kind == end) {
        if (end == Token::Kind::kEnd) trim_next_ = t.text == "-";
        break;
      }
      FOLIO_ASSIGN_OR_RETURN(NodePtr cmd, command(&t, end));
      pipe->nodes.push_back(cmd);
      if (t.kind == Token::Kind::kPipe) {
        FOLIO_ASSIGN_OR_RETURN(t, token());
        continue;
      }
      if (t.kind != end) return make_error("line %d: unexpected token in operand", t.line);
    }
    if (pipe->nodes.empty()) return make_error("line %d: missing value for %s", first.line, top ? "command" : "parenthesized pipeline");
    (void)top;
    return pipe;
  }

  // Operands up to | or the end; *t is the first token and, after, the stop.
  Result<NodePtr> command(Token* t, Token::Kind end) {
    NodePtr cmd = make(Node::Type::kCommand, t->line);
    for (;;) {
      if (t->kind == Token::Kind::kPipe || t->kind == end) break;
      FOLIO_ASSIGN_OR_RETURN(NodePtr op, operand(t));
      cmd->nodes.push_back(op);
    }
    if (cmd->nodes.empty()) return make_error("line %d: empty command", t->line);
    return cmd;
  }

  // One operand; *t is its first token and, after, the token following it.
  Result<NodePtr> operand(Token* t) {
    NodePtr n;
    switch (t->kind) {
      case Token::Kind::kField:
        n = make(Node::Type::kField, t->line);
        n->ident.push_back(t->text);
        break;
      case Token::Kind::kVariable:
        if (!declared(t->text)) return make_error("line %d: undefined variable \"%s\"", t->line, t->text.c_str());
        n = make(Node::Type::kVariable, t->line);
        n->ident.push_back(t->text);
        break;
      case Token::Kind::kDot: n = make(Node::Type::kDot, t->line); break;
      case Token::Kind::kString:
        n = make(Node::Type::kString, t->line);
        n->text = t->text;
        break;
      case Token::Kind::kNumber:
      case Token::Kind::kChar: {
        FOLIO_ASSIGN_OR_RETURN(n, number(*t));
        break;
      }
      case Token::Kind::kLParen: {
        Nest nest(depth_);
        if (depth_ > kMaxDepth) return make_error("line %d: max expression depth exceeded (%d)", t->line, kMaxDepth);
        FOLIO_ASSIGN_OR_RETURN(Token first, token());
        FOLIO_ASSIGN_OR_RETURN(n, pipeline(first, Token::Kind::kRParen, false));
        break;
      }
      case Token::Kind::kIdent:
        if (t->text == "true" || t->text == "false") {
          n = make(Node::Type::kBool, t->line);
          n->b = t->text == "true";
        } else if (t->text == "nil") {
          n = make(Node::Type::kNil, t->line);
        } else if (is_function(t->text)) {
          n = make(Node::Type::kIdentifier, t->line);
          n->text = t->text;
        } else {
          return make_error("line %d: function \"%s\" not defined", t->line, t->text.c_str());
        }
        break;
      default: return make_error("line %d: unexpected token in operand", t->line);
    }
    // Fields written right after an operand: .A.B, $x.A, (pipe).A.
    FOLIO_ASSIGN_OR_RETURN(*t, token());
    while (t->kind == Token::Kind::kField && t->adjacent) {
      if (n->type == Node::Type::kField || n->type == Node::Type::kVariable) {
        n->ident.push_back(t->text);
      } else if (n->type == Node::Type::kChain) {
        n->ident.push_back(t->text);
      } else {
        NodePtr chain = make(Node::Type::kChain, t->line);
        chain->pipe = n;
        chain->ident.push_back(t->text);
        n = chain;
      }
      FOLIO_ASSIGN_OR_RETURN(*t, token());
    }
    return n;
  }

  Result<NodePtr> number(const Token& t) {
    NodePtr n = make(Node::Type::kNumber, t.line);
    n->text = t.text;
    if (t.kind == Token::Kind::kChar) {
      n->is_int = true;
      n->i = std::strtoll(t.text.c_str(), nullptr, 10);
      n->f = static_cast<double>(n->i);
      return n;
    }
    std::string s;
    for (char c : t.text) {
      if (c != '_') s += c;
    }
    char* end = nullptr;
    errno = 0;
    const long long i = std::strtoll(s.c_str(), &end, 0);
    if (*end == '\0' && !s.empty() && errno != ERANGE) {
      n->is_int = true;
      n->i = i;
      n->f = static_cast<double>(i);
      return n;
    }
    const double f = std::strtod(s.c_str(), &end);
    if (*end != '\0' || s.empty()) return make_error("line %d: bad number syntax: %s", t.line, t.text.c_str());
    if (!std::isfinite(f)) return make_error("line %d: number out of range: %s", t.line, t.text.c_str());
    n->f = f;
    return n;
  }

  static bool is_function(const std::string& name) {
    static const char* const kFuncs[] = {"and", "or", "not", "len", "index", "slice", "print", "printf", "println",
                                         "eq", "ne", "lt", "le", "gt", "ge", "json", "currentDate", "yesterdayDate",
                                         "toTypeScriptType", "html", "js", "urlquery", "call"};
    for (const char* f : kFuncs) {
      if (name == f) return true;
    }
    return false;
  }

  bool declared(const std::string& v) const {
    if (v == "$") return true;
    for (const std::string& x : vars_) {
      if (x == v) return true;
    }
    return false;
  }

  Result<Token> token() {
    Lexer lx(src_, lexer_pos_ ? lexer_pos_ : pos_, line_);
    auto t = lx.next();
    if (!t.ok()) return t;
    line_ = lx.line();
    lexer_pos_ = lx.pos();
    if (t->kind == Token::Kind::kEnd) {
      pos_ = lexer_pos_;
      lexer_pos_ = 0;
    }
    return t;
  }

  std::string_view src_;
  size_t pos_ = 0;
  size_t lexer_pos_ = 0;  // inside an action: where the next token starts
  int line_ = 1;
  bool trim_next_ = false;
  Stop stop_ = Stop::kEof;
  int stop_line_ = 0;
  std::string stop_word_;
  int range_depth_ = 0;
  int depth_ = 0;  // blocks and parentheses open (bounded: the parser and executor recurse)
  std::vector<std::string> vars_;  // declared variables (Go checks at parse time)
};

}  // namespace

NodePtr Node::clone() const {
  auto n = std::make_shared<Node>(*this);
  for (NodePtr& c : n->nodes) c = c ? c->clone() : nullptr;
  if (pipe) n->pipe = pipe->clone();
  if (list) n->list = list->clone();
  if (else_list) n->else_list = else_list->clone();
  return n;
}

Result<NodePtr> parse_template(std::string_view text) { return Parser(text).run(); }

std::vector<std::string> identifiers(const Node& n) {
  std::vector<std::string> out;
  const auto add = [&](const std::vector<std::string>& v) { out.insert(out.end(), v.begin(), v.end()); };
  switch (n.type) {
    case Node::Type::kList:
      for (const NodePtr& c : n.nodes) add(identifiers(*c));
      break;
    case Node::Type::kAction: add(identifiers(*n.pipe)); break;
    case Node::Type::kIf:
    case Node::Type::kRange:
    case Node::Type::kWith:
      add(identifiers(*n.pipe));
      if (n.list) add(identifiers(*n.list));
      if (n.else_list) add(identifiers(*n.else_list));
      break;
    case Node::Type::kPipe:
      for (const NodePtr& cmd : n.nodes) {
        for (const NodePtr& a : cmd->nodes) add(identifiers(*a));
      }
      break;
    case Node::Type::kField:
    case Node::Type::kVariable: add(n.ident); break;
    default: break;
  }
  return out;
}

NodePtr cut_after_response(const Node& root) {
  NodePtr copy = root.clone();
  bool cut = false;
  const auto fn = [&](const Node& n) {
    if (n.type == Node::Type::kField) {
      for (const std::string& id : n.ident) {
        if (id == "Response") {
          cut = true;
          return false;
        }
      }
    }
    return cut;
  };
  std::function<NodePtr(NodePtr)> walk = [&](NodePtr n) -> NodePtr {
    if (fn(*n)) return nullptr;
    switch (n->type) {
      case Node::Type::kList: {
        std::vector<NodePtr> kept;
        for (NodePtr& c : n->nodes) {
          if (NodePtr k = walk(c)) kept.push_back(k);
        }
        n->nodes = std::move(kept);
        return n;
      }
      case Node::Type::kIf:
      case Node::Type::kRange:
      case Node::Type::kWith: {
        // Go walks the branch node (a second predicate call) and its lists,
        // not its pipeline.
        if (fn(*n)) return nullptr;
        n->list = walk(n->list);
        if (!n->list) n->list = make(Node::Type::kList, n->line);
        if (n->else_list) n->else_list = walk(n->else_list);
        return n;
      }
      case Node::Type::kAction: {
        NodePtr p = walk(n->pipe);
        if (!p) return nullptr;
        n->pipe = p;
        return n;
      }
      case Node::Type::kPipe: {
        std::vector<NodePtr> cmds;
        for (NodePtr& c : n->nodes) {
          std::vector<NodePtr> args;
          for (NodePtr& a : c->nodes) {
            if (NodePtr k = walk(a)) args.push_back(k);
          }
          if (args.empty()) return nullptr;
          c->nodes = std::move(args);
          cmds.push_back(c);
        }
        if (cmds.empty()) return nullptr;
        n->nodes = std::move(cmds);
        return n;
      }
      default: return n;
    }
  };
  NodePtr out = walk(copy);
  return out ? out : make(Node::Type::kList, root.line);
}

}  // namespace folio::tmpl
