#include "store/modelfile.h"

#include <cctype>

#include "base/log.h"
#include "base/strings.h"

namespace folio {

namespace {

const char* const kCommands[] = {"from",  "license",   "template", "system",  "adapter", "renderer",
                                 "parser", "draft", "parameter", "message", "requires"};
constexpr const char* kCommandList =
    "command must be one of \"from\", \"license\", \"template\", \"system\", \"adapter\", \"renderer\", "
    "\"parser\", \"draft\", \"parameter\", \"message\", or \"requires\"";

// Parameters Ollama accepts and ignores (with a warning); use_mlock, which
// Ollama dropped, is a real option here. tfs_z and numa are from older
// Modelfiles.
const char* const kDeprecated[] = {"penalize_newline", "low_vram",     "f16_kv",       "logits_all", "vocab_only",
                                   "mirostat",         "mirostat_tau", "mirostat_eta", "tfs_z",      "numa"};

bool is_space(char c) { return c == ' ' || c == '\t'; }

Error line_error(int line, const std::string& msg) { return make_error("(line %d): %s", line, msg.c_str()); }

bool is_newline(char c) { return c == '\n' || c == '\r'; }

// The quote mark a value at text[pos] opens: """, " or none.
std::string_view quote_mark_at(std::string_view text, size_t pos) {
  const std::string_view rest = text.substr(pos);
  if (rest.substr(0, 3) == "\"\"\"") return "\"\"\"";
  if (rest.substr(0, 1) == "\"") return "\"";
  return "";
}

// A quoted value opened by mark at text[pos]: it ends at the first closing
// mark followed by blanks and the end of a line (or of the text). Returns
// the offset just past the closing mark, npos when the value never ends.
size_t read_quoted(std::string_view text, size_t pos, std::string_view mark, std::string* value) {
  for (size_t search = pos + mark.size();;) {
    const size_t close = text.find(mark, search);
    if (close == std::string_view::npos) return std::string_view::npos;
    size_t k = close + mark.size();
    while (k < text.size() && is_space(text[k])) ++k;
    if (k >= text.size() || is_newline(text[k])) {
      *value = std::string(text.substr(pos + mark.size(), close - pos - mark.size()));
      return close + mark.size();
    }
    search = close + 1;
  }
}

// A value as the parser will read it back: bare when it can be (Ollama's
// Command.String quotes only values with newlines or edge spaces), else
// "..." or """...""", whichever reads back as the value ("""...""" when
// neither does: such a value cannot come from a Modelfile).
std::string quote(const std::string& s) {
  const auto edge = [](char c) { return c == ' ' || c == '\t'; };
  const bool needs = s.find_first_of("\r\n") != std::string::npos || (!s.empty() && (edge(s.front()) || edge(s.back()))) ||
                     (!s.empty() && s.front() == '"');
  if (!needs) return s;
  // Ollama's choice first (""" when the value has a quote), then the other.
  const bool has_quote = s.find('"') != std::string::npos;
  for (std::string_view mark : {has_quote ? "\"\"\"" : "\"", has_quote ? "\"" : "\"\"\""}) {
    const std::string text = std::string(mark) + s + std::string(mark);
    std::string back;
    if (quote_mark_at(text, 0) == mark && read_quoted(text, 0, mark, &back) == text.size() && back == s) return text;
  }
  return "\"\"\"" + s + "\"\"\"";
}

}  // namespace

bool is_instruction_keyword(std::string_view name) {
  const std::string l = to_lower(name);
  for (const char* c : kCommands) {
    if (l == c) return true;
  }
  return false;
}

std::string Modelfile::from() const {
  for (const auto& c : commands) {
    if (c.name == "model") return c.args;
  }
  return "";
}

std::string Modelfile::to_string() const {
  std::string out;
  for (const auto& c : commands) {
    if (c.name == "model") {
      out += "FROM " + quote(c.args);
    } else if (c.name == "license" || c.name == "template" || c.name == "system" || c.name == "adapter" ||
               c.name == "requires" || c.name == "renderer" || c.name == "parser" || c.name == "draft") {
      out += to_upper(c.name) + " " + quote(c.args);
    } else if (c.name == "message") {
      const size_t sep = c.args.find(": ");
      out += "MESSAGE " + c.args.substr(0, sep) + " " + quote(sep == std::string::npos ? "" : c.args.substr(sep + 2));
    } else {
      out += "PARAMETER " + c.name + " " + quote(c.args);
    }
    out += "\n";
  }
  return out;
}

Result<Modelfile> parse_modelfile(std::string_view text) {
  Modelfile mf;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  size_t pos = 0;
  int line = 1;
  auto at_end = [&] { return pos >= text.size(); };
  auto newline = [&](char c) { return c == '\n' || c == '\r'; };
  auto advance = [&] {
    if (text[pos] == '\n') ++line;
    ++pos;
  };
  while (!at_end()) {
    // Skip blank space; '#' starts a comment to the end of the line.
    const char c = text[pos];
    if (is_space(c) || newline(c)) {
      advance();
      continue;
    }
    if (c == '#') {
      while (!at_end() && text[pos] != '\n') advance();
      continue;
    }
    const int start_line = line;
    std::string word;
    while (!at_end() && std::isalpha(static_cast<unsigned char>(text[pos]))) word += text[pos++];
    if (is_instruction_keyword(word) && (at_end() || newline(text[pos]))) {
      return line_error(start_line, "missing value for " + to_upper(word));
    }
    if (word.empty() || at_end() || !is_space(text[pos]) || !is_instruction_keyword(word)) {
      return line_error(start_line, kCommandList);
    }
    ModelfileCommand cmd;
    cmd.line = start_line;
    const std::string kw = to_lower(word);
    while (!at_end() && is_space(text[pos])) ++pos;
    std::string role;
    if (kw == "parameter" || kw == "message") {
      std::string name;
      while (!at_end() && (std::isalnum(static_cast<unsigned char>(text[pos])) || text[pos] == '_')) name += text[pos++];
      if (name.empty() || at_end() || !is_space(text[pos])) {
        return line_error(start_line, kw == "parameter" ? "PARAMETER needs a name and a value" : "MESSAGE needs a role and a message");
      }
      while (!at_end() && is_space(text[pos])) ++pos;
      if (kw == "message") {
        if (name != "system" && name != "user" && name != "assistant") {
          return line_error(start_line, "message role must be one of \"system\", \"user\", or \"assistant\"");
        }
        role = name;
        cmd.name = "message";
      } else {
        cmd.name = to_lower(name);
      }
    } else {
      cmd.name = kw == "from" ? "model" : kw;
    }
    // The value: """...""" or "..." (closing quote followed by the end of
    // the line), else the rest of the line.
    std::string value;
    const std::string_view quote_mark = quote_mark_at(text, pos);
    if (!quote_mark.empty()) {
      const size_t after = read_quoted(text, pos, quote_mark, &value);
      if (after == std::string_view::npos) {
        return line_error(start_line, "the quoted value never ends; close it with " + std::string(quote_mark));
      }
      while (pos < after) advance();
    } else {
      while (!at_end() && !newline(text[pos])) value += text[pos++];
      while (!value.empty() && is_space(value.back())) value.pop_back();
    }
    const bool may_be_empty = cmd.name == "message" || cmd.name == "template" || cmd.name == "system" || cmd.name == "license";
    if (value.empty() && !may_be_empty) return line_error(start_line, "missing value for " + to_upper(kw));
    cmd.args = role.empty() ? value : role + ": " + value;
    if (kw == "parameter") {
      bool deprecated = false;
      for (const char* d : kDeprecated) deprecated |= cmd.name == d;
      if (deprecated) {
        FOLIO_LOG_WARN("Modelfile line %d: parameter %s is deprecated and ignored", start_line, cmd.name.c_str());
        continue;
      }
      Options scratch;
      if (auto r = set_option(scratch, cmd.name, value); !r.ok()) return line_error(start_line, r.error().message);
    }
    mf.commands.push_back(std::move(cmd));
  }
  if (mf.from().empty()) return make_error("no FROM line; a Modelfile starts from a model: FROM llama3.2 or FROM ./model.gguf");
  return mf;
}

Result<void> apply_parameters(const Modelfile& mf, Options& opts) {
  for (const auto& c : mf.commands) {
    if (find_option(c.name) != nullptr) FOLIO_TRY(set_option(opts, c.name, c.args));
  }
  return {};
}

}  // namespace folio
