#include "template/exec.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "base/strings.h"

namespace folio::tmpl {

namespace {

using Kind = Value::Kind;

constexpr size_t kMaxOutput = 64u << 20;
// Nodes walked (range iterations included): a template from a request
// cannot keep the server busy ({{range 1000000000}}{{end}}).
constexpr uint64_t kMaxSteps = 10'000'000;

enum class Flow { kNormal, kBreak, kContinue };

bool is_number(const Value& v) { return v.kind() == Kind::kInt || v.kind() == Kind::kFloat; }
double num(const Value& v) { return v.kind() == Kind::kInt ? static_cast<double>(v.as_int()) : v.as_float(); }

const char* kind_name(const Value& v) {
  switch (v.kind()) {
    case Kind::kNil: return "nil";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float64";
    case Kind::kString: return "string";
    case Kind::kList: return "slice";
    case Kind::kMap: return "map";
    case Kind::kStruct: return "struct";
  }
  return "?";
}

Result<bool> equal(const Value& a, const Value& b) {
  if (a.kind() == Kind::kNil || b.kind() == Kind::kNil) return a.is_nil() && b.is_nil();
  if (is_number(a) && is_number(b)) return num(a) == num(b);
  if (a.kind() != b.kind()) return make_error("incompatible types for comparison");
  switch (a.kind()) {
    case Kind::kBool: return a.as_bool() == b.as_bool();
    case Kind::kString: return a.as_string() == b.as_string();
    default: return make_error("non-comparable type %s", kind_name(a));
  }
}

Result<int> compare(const Value& a, const Value& b) {
  if (is_number(a) && is_number(b)) return num(a) < num(b) ? -1 : num(a) > num(b) ? 1 : 0;
  if (a.kind() == Kind::kString && b.kind() == Kind::kString) {
    return a.as_string() < b.as_string() ? -1 : a.as_string() > b.as_string() ? 1 : 0;
  }
  if (a.kind() != b.kind()) return make_error("incompatible types for comparison");
  return make_error("invalid type for comparison");
}

Result<int64_t> to_index(const Value& v) {
  if (v.kind() == Kind::kInt) return v.as_int();
  if (v.kind() == Kind::kFloat && v.as_float() == std::floor(v.as_float())) return static_cast<int64_t>(v.as_float());
  return make_error("cannot index slice/array with type %s", kind_name(v));
}

std::string ts_type(const Value& prop) {
  bool found = false;
  const Value any_of = prop.field("AnyOf", &found);
  if (found && any_of.length() > 0) {
    std::string out;
    for (const Value& x : any_of.items()) out += (out.empty() ? "" : " | ") + ts_type(x);
    return out;
  }
  const Value type = prop.field("Type", &found);
  std::vector<std::string> types;
  if (type.kind() == Kind::kString) types.push_back(type.as_string());
  for (const Value& t : type.items()) types.push_back(t.as_string());
  if (types.empty()) return "any";
  std::string out;
  for (const std::string& t : types) {
    const char* ts = t == "string" ? "string" : (t == "number" || t == "integer") ? "number" : t == "boolean" ? "boolean"
                     : t == "array" ? "any[]" : t == "object" ? "Record<string, any>" : t == "null" ? "null" : "any";
    out += (out.empty() ? "" : " | ") + std::string(ts);
  }
  return out;
}

std::string date(int days_back) {
  std::time_t t = std::time(nullptr) - days_back * 86400;
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '\'': out += "&#39;"; break;
      case '"': out += "&#34;"; break;
      case '\0': out += "\xEF\xBF\xBD"; break;
      default: out += c;
    }
  }
  return out;
}

std::string url_escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string js_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '"': out += "\\\""; break;
      case '<': out += "\\u003C"; break;
      case '>': out += "\\u003E"; break;
      case '&': out += "\\u0026"; break;
      case '=': out += "\\u003D"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += strfmt("\\u%04X", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

// fmt.Sprint: a space between operands when neither is a string.
std::string sprint(const std::vector<Value>& args, bool ln) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool space = ln ? i > 0 : (i > 0 && args[i].kind() != Kind::kString && args[i - 1].kind() != Kind::kString);
    if (space) out += ' ';
    out += args[i].kind() == Kind::kNil ? "<nil>" : args[i].print();
  }
  if (ln) out += '\n';
  return out;
}

class Executor {
 public:
  explicit Executor(const Value& root) : root_(root) {}

  Result<std::string> run(const Node& n) {
    FOLIO_TRY(walk(root_, n));
    return std::move(out_);
  }

 private:
  Result<Flow> walk(const Value& dot, const Node& n) {
    if (++steps_ > kMaxSteps) {
      return make_error("line %d: template takes more than %llu steps to render", n.line,
                        static_cast<unsigned long long>(kMaxSteps));
    }
    switch (n.type) {
      case Node::Type::kList:
        for (const NodePtr& c : n.nodes) {
          FOLIO_ASSIGN_OR_RETURN(Flow f, walk(dot, *c));
          if (f != Flow::kNormal) return f;
        }
        return Flow::kNormal;
      case Node::Type::kText:
        FOLIO_TRY(emit(n.text, n.line));
        return Flow::kNormal;
      case Node::Type::kAction: {
        FOLIO_ASSIGN_OR_RETURN(Value v, pipeline(dot, *n.pipe));
        if (n.pipe->decl.empty()) FOLIO_TRY(emit(v.print(), n.line));
        return Flow::kNormal;
      }
      case Node::Type::kIf:
      case Node::Type::kWith: {
        const size_t mark = vars_.size();
        FOLIO_ASSIGN_OR_RETURN(Value v, pipeline(dot, *n.pipe));
        Result<Flow> r = Flow::kNormal;
        if (v.truthy()) r = walk(n.type == Node::Type::kWith ? v : dot, *n.list);
        else if (n.else_list) r = walk(dot, *n.else_list);
        vars_.resize(mark);
        return r;
      }
      case Node::Type::kRange: return range(dot, n);
      case Node::Type::kBreak: return Flow::kBreak;
      case Node::Type::kContinue: return Flow::kContinue;
      default: return make_error("line %d: unexpected node", n.line);
    }
  }

  Result<void> emit(const std::string& s, int line) {
    if (out_.size() + s.size() > kMaxOutput) return make_error("line %d: output larger than %zu bytes", line, kMaxOutput);
    out_ += s;
    return {};
  }

  Result<Flow> range(const Value& dot, const Node& n) {
    const size_t mark = vars_.size();
    const Node& pipe = *n.pipe;
    // The pipeline is evaluated without its declarations, which are set per
    // element below.
    Node bare = pipe;
    bare.decl.clear();
    FOLIO_ASSIGN_OR_RETURN(Value v, pipeline(dot, bare));
    const auto each = [&](const Value& key, const Value& elem) -> Result<Flow> {
      vars_.resize(mark);
      if (pipe.decl.size() == 1) set_or_push(pipe.decl[0], elem, pipe.is_assign);
      if (pipe.decl.size() == 2) {
        set_or_push(pipe.decl[0], key, pipe.is_assign);
        set_or_push(pipe.decl[1], elem, pipe.is_assign);
      }
      return walk(elem, *n.list);
    };
    bool any = false;
    Result<void> status;
    const auto step = [&](const Value& key, const Value& elem) -> Result<bool> {
      any = true;
      FOLIO_ASSIGN_OR_RETURN(Flow f, each(key, elem));
      return f != Flow::kBreak;
    };
    switch (v.kind()) {
      case Kind::kList:
        for (size_t i = 0; i < v.items().size(); ++i) {
          FOLIO_ASSIGN_OR_RETURN(bool go_on, step(Value::integer(static_cast<int64_t>(i)), v.items()[i]));
          if (!go_on) break;
        }
        break;
      case Kind::kMap:
        for (const Entry& e : v.entries()) {
          FOLIO_ASSIGN_OR_RETURN(bool go_on, step(Value::string(e.name), e.value));
          if (!go_on) break;
        }
        break;
      case Kind::kInt:
        for (int64_t i = 0; i < v.as_int(); ++i) {
          FOLIO_ASSIGN_OR_RETURN(bool go_on, step(Value::integer(i), Value::integer(i)));
          if (!go_on) break;
        }
        break;
      case Kind::kNil: break;
      default: return make_error("line %d: range can't iterate over %s", n.line, v.print().c_str());
    }
    vars_.resize(mark);
    if (!any && n.else_list) {
      FOLIO_ASSIGN_OR_RETURN(Flow f, walk(dot, *n.else_list));
      vars_.resize(mark);
      return f;
    }
    return Flow::kNormal;
  }

  void set_or_push(const std::string& name, const Value& v, bool assign) {
    if (assign) {
      for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
        if (it->first == name) {
          it->second = v;
          return;
        }
      }
    }
    vars_.emplace_back(name, v);
  }

  Result<Value> variable(const std::string& name, int line) const {
    if (name == "$") return root_;
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      if (it->first == name) return it->second;
    }
    return make_error("line %d: undefined variable: %s", line, name.c_str());
  }

  Result<Value> pipeline(const Value& dot, const Node& pipe) {
    Value v;
    bool have = false;
    for (const NodePtr& cmd : pipe.nodes) {
      FOLIO_ASSIGN_OR_RETURN(v, command(dot, *cmd, have ? &v : nullptr));
      have = true;
    }
    for (const std::string& name : pipe.decl) set_or_push(name, v, pipe.is_assign);
    return v;
  }

  Result<Value> fields(Value v, const std::vector<std::string>& idents, size_t from, int line) const {
    for (size_t i = from; i < idents.size(); ++i) {
      if (v.kind() == Kind::kNil) {
        return make_error("line %d: nil pointer evaluating interface {}.%s", line, idents[i].c_str());
      }
      if (v.kind() != Kind::kMap && v.kind() != Kind::kStruct) {
        return make_error("line %d: can't evaluate field %s in type %s", line, idents[i].c_str(), kind_name(v));
      }
      bool found = false;
      Value next = v.field(idents[i], &found);
      if (!found) return make_error("line %d: can't evaluate field %s in type struct", line, idents[i].c_str());
      v = next;
    }
    return v;
  }

  Result<Value> command(const Value& dot, const Node& cmd, const Value* final) {
    const Node& first = *cmd.nodes[0];
    if (first.type == Node::Type::kIdentifier) return call(dot, first, cmd, final);
    if (cmd.nodes.size() > 1 || final != nullptr) {
      if (first.type == Node::Type::kField) {
        return make_error("line %d: %s is not a method but has arguments", first.line, first.ident.back().c_str());
      }
      return make_error("line %d: can't give argument to non-function %s", first.line, describe(first).c_str());
    }
    return arg(dot, first);
  }

  static std::string describe(const Node& n) {
    switch (n.type) {
      case Node::Type::kString: return "\"" + n.text + "\"";
      case Node::Type::kNumber: return n.text;
      case Node::Type::kBool: return n.b ? "true" : "false";
      case Node::Type::kDot: return ".";
      case Node::Type::kNil: return "nil";
      case Node::Type::kVariable: return n.ident[0];
      default: return "value";
    }
  }

  Result<Value> arg(const Value& dot, const Node& n) {
    switch (n.type) {
      case Node::Type::kDot: return dot;
      case Node::Type::kNil: return Value();
      case Node::Type::kBool: return Value::boolean(n.b);
      case Node::Type::kString: return Value::string(n.text);
      case Node::Type::kNumber: return n.is_int ? Value::integer(n.i) : Value::number(n.f);
      case Node::Type::kField: return fields(dot, n.ident, 0, n.line);
      case Node::Type::kVariable: {
        FOLIO_ASSIGN_OR_RETURN(Value v, variable(n.ident[0], n.line));
        return fields(v, n.ident, 1, n.line);
      }
      case Node::Type::kPipe: return pipeline(dot, n);
      case Node::Type::kChain: {
        FOLIO_ASSIGN_OR_RETURN(Value v, arg(dot, *n.pipe));
        return fields(v, n.ident, 0, n.line);
      }
      case Node::Type::kIdentifier: {
        Node cmd;
        cmd.type = Node::Type::kCommand;
        cmd.line = n.line;
        cmd.nodes.push_back(std::make_shared<Node>(n));
        return call(dot, n, cmd, nullptr);
      }
      default: return make_error("line %d: can't evaluate this operand", n.line);
    }
  }

  Result<Value> call(const Value& dot, const Node& fn, const Node& cmd, const Value* final) {
    const std::string& name = fn.text;
    const size_t n_args = cmd.nodes.size() - 1 + (final ? 1 : 0);
    // and/or evaluate lazily, left to right, and return an operand.
    if (name == "and" || name == "or") {
      if (n_args < 1) return make_error("line %d: wrong number of args for %s: want at least 1 got 0", fn.line, name.c_str());
      Value v;
      for (size_t i = 1; i <= n_args; ++i) {
        if (i < cmd.nodes.size()) {
          FOLIO_ASSIGN_OR_RETURN(v, arg(dot, *cmd.nodes[i]));
        } else {
          v = *final;
        }
        if (v.truthy() == (name == "or")) return v;
      }
      return v;
    }
    std::vector<Value> args;
    for (size_t i = 1; i < cmd.nodes.size(); ++i) {
      FOLIO_ASSIGN_OR_RETURN(Value v, arg(dot, *cmd.nodes[i]));
      args.push_back(v);
    }
    if (final) args.push_back(*final);
    auto r = builtin(name, args);
    if (!r.ok()) return make_error("line %d: error calling %s: %s", fn.line, name.c_str(), r.error().message.c_str());
    return r;
  }

  static Result<Value> builtin(const std::string& name, const std::vector<Value>& a) {
    const auto want = [&](size_t n) -> Result<void> {
      if (a.size() != n) return make_error("wrong number of args: want %zu got %zu", n, a.size());
      return {};
    };
    if (name == "not") {
      FOLIO_TRY(want(1));
      return Value::boolean(!a[0].truthy());
    }
    if (name == "len") {
      FOLIO_TRY(want(1));
      if (a[0].kind() != Kind::kString && a[0].kind() != Kind::kList && a[0].kind() != Kind::kMap) {
        return make_error("len of type %s", kind_name(a[0]));
      }
      return Value::integer(static_cast<int64_t>(a[0].length()));
    }
    if (name == "eq") {
      if (a.size() < 2) return make_error("missing argument for comparison");
      for (size_t i = 1; i < a.size(); ++i) {
        FOLIO_ASSIGN_OR_RETURN(bool e, equal(a[0], a[i]));
        if (e) return Value::boolean(true);
      }
      return Value::boolean(false);
    }
    if (name == "ne") {
      FOLIO_TRY(want(2));
      FOLIO_ASSIGN_OR_RETURN(bool e, equal(a[0], a[1]));
      return Value::boolean(!e);
    }
    if (name == "lt" || name == "le" || name == "gt" || name == "ge") {
      FOLIO_TRY(want(2));
      FOLIO_ASSIGN_OR_RETURN(int c, compare(a[0], a[1]));
      const bool r = name == "lt" ? c < 0 : name == "le" ? c <= 0 : name == "gt" ? c > 0 : c >= 0;
      return Value::boolean(r);
    }
    if (name == "index") {
      if (a.empty()) return make_error("wrong number of args: want at least 1 got 0");
      Value v = a[0];
      for (size_t i = 1; i < a.size(); ++i) {
        if (v.kind() == Kind::kList || v.kind() == Kind::kString) {
          FOLIO_ASSIGN_OR_RETURN(int64_t k, to_index(a[i]));
          if (k < 0 || static_cast<size_t>(k) >= v.length()) return make_error("index out of range: %lld", static_cast<long long>(k));
          v = v.kind() == Kind::kList ? v.items()[static_cast<size_t>(k)]
                                      : Value::integer(static_cast<unsigned char>(v.as_string()[static_cast<size_t>(k)]));
        } else if (v.kind() == Kind::kMap) {
          if (a[i].kind() != Kind::kString) return make_error("value has type %s; should be string", kind_name(a[i]));
          bool found = false;
          v = v.field(a[i].as_string(), &found);
        } else if (v.kind() == Kind::kNil) {
          return make_error("index of untyped nil");
        } else {
          return make_error("can't index item of type %s", kind_name(v));
        }
      }
      return v;
    }
    if (name == "slice") {
      if (a.empty() || a.size() > 4) return make_error("wrong number of args for slice");
      const Value& v = a[0];
      if (v.kind() != Kind::kList && v.kind() != Kind::kString) return make_error("can't slice item of type %s", kind_name(v));
      int64_t lo = 0, hi = static_cast<int64_t>(v.length());
      if (a.size() > 1) {
        FOLIO_ASSIGN_OR_RETURN(lo, to_index(a[1]));
      }
      if (a.size() > 2) {
        FOLIO_ASSIGN_OR_RETURN(hi, to_index(a[2]));
      }
      if (lo < 0 || hi < lo || hi > static_cast<int64_t>(v.length())) {
        return make_error("index out of range: %lld", static_cast<long long>(lo < 0 || hi < lo ? lo : hi));
      }
      if (v.kind() == Kind::kString) return Value::string(v.as_string().substr(static_cast<size_t>(lo), static_cast<size_t>(hi - lo)));
      return Value::list(std::vector<Value>(v.items().begin() + lo, v.items().begin() + hi));
    }
    if (name == "print") return Value::string(sprint(a, false));
    if (name == "println") return Value::string(sprint(a, true));
    if (name == "printf") {
      if (a.empty() || a[0].kind() != Kind::kString) return make_error("printf needs a format string");
      return Value::string(go_sprintf(a[0].as_string(), std::vector<Value>(a.begin() + 1, a.end())));
    }
    if (name == "json") {
      FOLIO_TRY(want(1));
      return Value::string(a[0].json());
    }
    if (name == "currentDate") return Value::string(date(0));
    if (name == "yesterdayDate") return Value::string(date(1));
    if (name == "toTypeScriptType") {
      FOLIO_TRY(want(1));
      return Value::string(a[0].kind() == Kind::kStruct || a[0].kind() == Kind::kMap ? ts_type(a[0]) : "any");
    }
    if (name == "html") return Value::string(html_escape(sprint(a, false)));
    if (name == "urlquery") return Value::string(url_escape(sprint(a, false)));
    if (name == "js") return Value::string(js_escape(sprint(a, false)));
    return make_error("function \"%s\" not supported", name.c_str());
  }

  const Value& root_;
  std::string out_;
  uint64_t steps_ = 0;
  std::vector<std::pair<std::string, Value>> vars_;
};

}  // namespace

Result<std::string> execute(const Node& root, const Value& data) { return Executor(data).run(root); }

std::string go_sprintf(const std::string& f, const std::vector<Value>& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out += f[i];
      continue;
    }
    if (i + 1 < f.size() && f[i + 1] == '%') {
      out += '%';
      ++i;
      continue;
    }
    // %[flags][width][.precision]verb
    size_t j = i + 1;
    std::string flags;
    while (j < f.size() && std::string("+-# 0").find(f[j]) != std::string::npos) flags += f[j++];
    std::string width, prec;
    while (j < f.size() && std::isdigit(static_cast<unsigned char>(f[j]))) width += f[j++];
    bool has_prec = false;
    if (j < f.size() && f[j] == '.') {
      has_prec = true;
      ++j;
      while (j < f.size() && std::isdigit(static_cast<unsigned char>(f[j]))) prec += f[j++];
    }
    if (j >= f.size()) {
      out += "%!(NOVERB)";
      break;
    }
    const char verb = f[j];
    i = j;
    // Go refuses widths and precisions past 1e6 (fmt's tooLarge).
    if (width.size() > 7 || (!width.empty() && std::stoul(width) > 1000000)) {
      out += "%!(BADWIDTH)";
      width.clear();
    }
    if (prec.size() > 7 || (!prec.empty() && std::stoul(prec) > 1000000)) {
      out += "%!(BADPREC)";
      prec.clear();
      has_prec = false;
    }
    if (next >= args.size()) {
      out += std::string("%!") + verb + "(MISSING)";
      continue;
    }
    const Value& v = args[next++];
    std::string s;
    const std::string spec = "%" + flags + width + (has_prec ? "." + prec : "");
    switch (verb) {
      case 'v':
      case 's': s = v.kind() == Kind::kNil ? "<nil>" : v.print(); break;
      case 'q': s = v.kind() == Kind::kString ? json_quote(v.as_string()) : v.print(); break;
      case 'd':
        if (v.kind() == Kind::kInt) s = std::to_string(v.as_int());
        else s = std::string("%!d(") + kind_name(v) + "=" + v.print() + ")";
        break;
      case 't': s = v.kind() == Kind::kBool ? (v.as_bool() ? "true" : "false") : "%!t(" + v.print() + ")"; break;
      case 'c': s = v.kind() == Kind::kInt ? std::string(1, static_cast<char>(v.as_int())) : "%!c(" + v.print() + ")"; break;
      case 'f': case 'F': case 'e': case 'g': case 'x': case 'X': {
        if (!is_number(v) && !(v.kind() == Kind::kString && (verb == 'x' || verb == 'X'))) {
          s = std::string("%!") + verb + "(" + v.print() + ")";
          break;
        }
        if (v.kind() == Kind::kString) {
          for (unsigned char c : v.as_string()) s += strfmt(verb == 'x' ? "%02x" : "%02X", c);
          break;
        }
        if ((verb == 'x' || verb == 'X') && v.kind() == Kind::kInt) {
          s = strfmt((spec + (verb == 'x' ? "llx" : "llX")).c_str(), static_cast<long long>(v.as_int()));
          out += s;
          continue;
        }
        if (verb == 'g' && !has_prec) s = format_float_v(num(v));
        else s = strfmt((spec + verb).c_str(), num(v));
        out += s;
        continue;
      }
      default: s = std::string("%!") + verb + "(" + v.print() + ")";
    }
    if (has_prec && (verb == 's' || verb == 'v') && !prec.empty()) s = s.substr(0, std::stoul(prec));
    const size_t w = width.empty() ? 0 : std::stoul(width);
    if (s.size() < w) {
      const bool left = flags.find('-') != std::string::npos;
      const std::string pad(w - s.size(), flags.find('0') != std::string::npos && !left ? '0' : ' ');
      s = left ? s + pad : pad + s;
    }
    out += s;
  }
  if (next < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = next; k < args.size(); ++k) out += (k > next ? ", " : "") + std::string(kind_name(args[k])) + "=" + args[k].print();
    out += ")";
  }
  return out;
}

}  // namespace folio::tmpl
