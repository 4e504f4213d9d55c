#include "engine/json_constraint.h"

#include <map>
#include <nlohmann/json.hpp>

namespace folio {

using nlohmann::json;

struct JsonGrammar::Node {
  enum class Kind { kAny, kObject, kArray, kString, kNumber, kInteger, kEnum, kUnion };
  Kind kind = Kind::kAny;
  struct Prop {
    std::string name;
    const Node* node;
    bool required;
  };
  std::vector<Prop> props;            // kObject
  const Node* additional = nullptr;   // kObject: schema of other keys (null: none allowed)
  const Node* items = nullptr;        // kArray
  int64_t min_items = 0, max_items = -1;
  std::vector<std::string> literals;  // kEnum: compact JSON texts
  std::vector<const Node*> alts;      // kUnion
};

JsonGrammar::~JsonGrammar() = default;

struct GrammarBuilder {
  JsonGrammar& g;
  const json& root;
  std::map<std::string, JsonGrammar::Node*> refs;
  int depth = 0;

  using Node = JsonGrammar::Node;
  using Kind = Node::Kind;

  Node* make(Kind k) {
    g.nodes_.push_back(std::make_unique<Node>());
    g.nodes_.back()->kind = k;
    return g.nodes_.back().get();
  }

  Result<const Node*> ref(const std::string& r) {
    if (auto it = refs.find(r); it != refs.end()) return it->second;  // recursive schemas
    const json* target = nullptr;
    for (const char* prefix : {"#/$defs/", "#/definitions/"}) {
      const std::string p = prefix;
      if (r.rfind(p, 0) == 0) {
        const std::string key = p.substr(2, p.size() - 3);
        const std::string name = r.substr(p.size());
        if (root.contains(key) && root[key].is_object() && root[key].contains(name)) target = &root[key][name];
      }
    }
    if (r == "#") target = &root;
    if (target == nullptr) return make_error("format schema: $ref \"%s\" does not resolve (only #/$defs/NAME and #/definitions/NAME)", r.c_str());
    Node* placeholder = make(Kind::kUnion);  // filled below; a recursive use sees it
    refs[r] = placeholder;
    FOLIO_ASSIGN_OR_RETURN(const Node* n, build(*target));
    placeholder->alts = {n};
    return placeholder;
  }

  Result<const Node*> typed(const std::string& type, const json& s) {
    if (type == "string") return make(Kind::kString);
    if (type == "number") return make(Kind::kNumber);
    if (type == "integer") return make(Kind::kInteger);
    if (type == "boolean") {
      Node* n = make(Kind::kEnum);
      n->literals = {"true", "false"};
      return n;
    }
    if (type == "null") {
      Node* n = make(Kind::kEnum);
      n->literals = {"null"};
      return n;
    }
    if (type == "array") {
      Node* n = make(Kind::kArray);
      const json items = s.contains("items") ? (s["items"].is_array() && !s["items"].empty() ? s["items"][0] : s["items"])
                                             : json::object();
      FOLIO_ASSIGN_OR_RETURN(n->items, build(items));
      if (s.contains("minItems") && s["minItems"].is_number_integer()) n->min_items = s["minItems"].get<int64_t>();
      if (s.contains("maxItems") && s["maxItems"].is_number_integer()) n->max_items = s["maxItems"].get<int64_t>();
      if (n->max_items >= 0 && n->max_items < n->min_items) return make_error("format schema: maxItems is below minItems");
      return n;
    }
    if (type == "object") {
      Node* n = make(Kind::kObject);
      std::vector<std::string> required;
      if (s.contains("required") && s["required"].is_array()) {
        for (const auto& r : s["required"]) {
          if (r.is_string()) required.push_back(r.get<std::string>());
        }
      }
      if (s.contains("properties") && s["properties"].is_object()) {
        for (const auto& [name, sub] : s["properties"].items()) {
          FOLIO_ASSIGN_OR_RETURN(const Node* p, build(sub));
          const bool req = std::find(required.begin(), required.end(), name) != required.end();
          n->props.push_back({name, p, req});
        }
      }
      if (n->props.size() > 64) return make_error("format schema: more than 64 properties in one object");
      const json add = s.value("additionalProperties", json(n->props.empty()));
      if (add.is_object()) {
        FOLIO_ASSIGN_OR_RETURN(n->additional, build(add));
      } else if (add == json(true)) {
        n->additional = make(Kind::kAny);
      }
      return n;
    }
    return make_error("format schema: unknown type \"%s\"", type.c_str());
  }

  Result<const Node*> build(const json& s) {
    if (++depth > 64) return make_error("format schema: nested too deeply");
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{depth};
    if (s.is_boolean() || (s.is_object() && s.empty())) return make(Kind::kAny);
    if (!s.is_object()) return make_error("format schema: a schema must be an object");
    if (s.contains("$ref") && s["$ref"].is_string()) return ref(s["$ref"].get<std::string>());
    const Node* n = nullptr;
    if (s.contains("const")) {
      Node* e = make(Kind::kEnum);
      e->literals = {s["const"].dump()};
      n = e;
    } else if (s.contains("enum") && s["enum"].is_array()) {
      Node* e = make(Kind::kEnum);
      for (const auto& v : s["enum"]) e->literals.push_back(v.dump());
      if (e->literals.empty()) return make_error("format schema: enum is empty");
      n = e;
    } else if (s.contains("anyOf") || s.contains("oneOf")) {
      const json& list = s.contains("anyOf") ? s["anyOf"] : s["oneOf"];
      if (!list.is_array() || list.empty()) return make_error("format schema: anyOf/oneOf must be a non-empty list");
      Node* u = make(Kind::kUnion);
      for (const auto& alt : list) {
        FOLIO_ASSIGN_OR_RETURN(const Node* a, build(alt));
        u->alts.push_back(a);
      }
      n = u;
    } else if (s.contains("type") && s["type"].is_array()) {
      Node* u = make(Kind::kUnion);
      for (const auto& t : s["type"]) {
        if (!t.is_string()) return make_error("format schema: type must be a name or a list of names");
        FOLIO_ASSIGN_OR_RETURN(const Node* a, typed(t.get<std::string>(), s));
        u->alts.push_back(a);
      }
      n = u;
    } else if (s.contains("type")) {
      if (!s["type"].is_string()) return make_error("format schema: type must be a name or a list of names");
      FOLIO_ASSIGN_OR_RETURN(n, typed(s["type"].get<std::string>(), s));
    } else if (s.contains("properties")) {
      FOLIO_ASSIGN_OR_RETURN(n, typed("object", s));
    } else if (s.contains("items")) {
      FOLIO_ASSIGN_OR_RETURN(n, typed("array", s));
    } else {
      n = make(Kind::kAny);
    }
    if (s.value("nullable", false)) {
      Node* u = make(Kind::kUnion);
      Node* null = make(Kind::kEnum);
      null->literals = {"null"};
      u->alts = {n, null};
      n = u;
    }
    return n;
  }
};

std::shared_ptr<const JsonGrammar> JsonGrammar::any_object() {
  auto g = std::shared_ptr<JsonGrammar>(new JsonGrammar());
  static const json none;
  GrammarBuilder b{*g, none, {}, 0};
  JsonGrammar::Node* n = b.make(Node::Kind::kObject);
  n->additional = b.make(Node::Kind::kAny);
  g->root_ = n;
  return g;
}

Result<std::shared_ptr<const JsonGrammar>> JsonGrammar::from_schema(const json& schema) {
  if (!schema.is_object()) return make_error("format must be \"json\" or a JSON schema object");
  auto g = std::shared_ptr<JsonGrammar>(new JsonGrammar());
  GrammarBuilder b{*g, schema, {}, 0};
  FOLIO_ASSIGN_OR_RETURN(g->root_, b.build(schema));
  return std::shared_ptr<const JsonGrammar>(g);
}

// ---------------------------------------------------------------------------

namespace {

using Node = JsonGrammar::Node;
using Kind = Node::Kind;
using Frame = JsonConstraint::Frame;

bool is_ws(unsigned char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_hex(unsigned char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Unions through $ref placeholders flattened: the concrete alternatives.
void flatten(const Node* n, std::vector<const Node*>& out, int depth = 0) {
  if (depth > 64) return;
  if (n->kind == Kind::kUnion) {
    for (const Node* a : n->alts) flatten(a, out, depth + 1);
  } else {
    out.push_back(n);
  }
}

// The alternative of n that a value starting with c can be, or null.
const Node* pick(const Node* n, unsigned char c) {
  std::vector<const Node*> alts;
  flatten(n, alts);
  for (const Node* a : alts) {
    switch (a->kind) {
      case Kind::kAny: return a;
      case Kind::kObject: if (c == '{') return a; break;
      case Kind::kArray: if (c == '[') return a; break;
      case Kind::kString: if (c == '"') return a; break;
      case Kind::kNumber: case Kind::kInteger: if (c == '-' || is_digit(c)) return a; break;
      case Kind::kEnum:
        for (const auto& l : a->literals) {
          if (!l.empty() && static_cast<unsigned char>(l[0]) == c) return a;
        }
        break;
      case Kind::kUnion: break;
    }
  }
  return nullptr;
}

int required_left(const Frame& f) {
  int n = 0;
  for (size_t i = 0; i < f.node->props.size(); ++i) {
    if (f.node->props[i].required && !(f.seen >> i & 1)) ++n;
  }
  return n;
}

// Whether another key may come: an unused property, or any key.
bool more_keys(const Frame& f) {
  if (f.node->additional != nullptr) return true;
  for (size_t i = 0; i < f.node->props.size(); ++i) {
    if (!(f.seen >> i & 1)) return true;
  }
  return false;
}

// Whether a key (its characters so far) can still name something.
bool key_possible(const Frame& obj, const std::string& prefix, bool complete) {
  if (obj.node->kind == Kind::kAny || obj.node->additional != nullptr) return true;
  for (size_t i = 0; i < obj.node->props.size(); ++i) {
    if (obj.seen >> i & 1) continue;
    const std::string& name = obj.node->props[i].name;
    if (complete ? name == prefix : name.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

// A number's states (see feed_char); those a value may end in.
bool number_can_end(const Frame& f) { return f.state == 2 || f.state == 3 || f.state == 5 || f.state == 8; }

bool literal_full(const Frame& f) {
  for (const auto& l : f.node->literals) {
    if (l == f.text) return true;
  }
  return false;
}

bool literal_extends(const Frame& f, unsigned char c) {
  for (const auto& l : f.node->literals) {
    if (l.size() > f.text.size() && l.compare(0, f.text.size(), f.text) == 0 &&
        static_cast<unsigned char>(l[f.text.size()]) == c) {
      return true;
    }
  }
  return false;
}

bool literal_any_longer(const Frame& f) {
  for (const auto& l : f.node->literals) {
    if (l.size() > f.text.size() && l.compare(0, f.text.size(), f.text) == 0) return true;
  }
  return false;
}

}  // namespace

JsonConstraint::JsonConstraint(std::shared_ptr<const JsonGrammar> g) : g_(std::move(g)) {
  Frame f;
  f.kind = Frame::Kind::kValue;
  f.node = g_->root();
  stack_.push_back(f);
}

bool JsonConstraint::done() const {
  if (done_) return true;
  if (stack_.size() != 1) return false;
  const Frame& f = stack_.back();
  if (f.kind == Frame::Kind::kNumber) return number_can_end(f);
  if (f.kind == Frame::Kind::kLiteral) return literal_full(f);
  return false;
}

bool JsonConstraint::accepts(std::string_view text) const {
  JsonConstraint copy = *this;
  return copy.feed(text);
}

bool JsonConstraint::feed(std::string_view text) {
  JsonConstraint saved = *this;
  for (char c : text) {
    if (!feed_char(static_cast<unsigned char>(c))) {
      *this = std::move(saved);
      return false;
    }
  }
  return true;
}

bool JsonConstraint::close_value() {
  const Frame child = std::move(stack_.back());
  stack_.pop_back();
  if (stack_.empty()) {
    done_ = true;
    return true;
  }
  Frame& p = stack_.back();
  if (p.kind == Frame::Kind::kObject) {
    if (child.is_key && p.node->kind == Kind::kAny) {
      p.value = nullptr;
      p.state = 1;
      return true;
    }
    if (child.is_key) {
      // The key names a property (or another key is allowed).
      const Node* value = p.node->additional;
      for (size_t i = 0; i < p.node->props.size(); ++i) {
        if (!(p.seen >> i & 1) && p.node->props[i].name == child.text) {
          p.seen |= uint64_t{1} << i;
          value = p.node->props[i].node;
          break;
        }
      }
      if (value == nullptr) return false;
      p.value = value;
      p.state = 1;  // expect ':'
      return true;
    }
    p.state = 3;  // after a value: ',' or '}'
    return true;
  }
  if (p.kind == Frame::Kind::kArray) {
    ++p.count;
    p.state = 1;  // ',' or ']'
    return true;
  }
  return false;
}

// Whitespace between tokens as llama.cpp's JSON grammars allow it: one
// space, or one or two newlines and at most 20 spaces or tabs (an
// indentation); so a model cannot pad forever.
bool JsonConstraint::take_ws(unsigned char c) {
  if (c == '\r') return false;
  if (!ws_.single && ws_.newlines == 0) {  // a run starts
    if (c == ' ') return ws_.single = true;
    if (c == '\n') return ws_.newlines = 1, true;
    return false;
  }
  if (ws_.single) return false;
  if (c == '\n') return ws_.indent == 0 && ws_.newlines < 2 ? (++ws_.newlines, true) : false;
  return ++ws_.indent <= 20;
}

bool JsonConstraint::feed_char(unsigned char c) {
  if (done_) return false;  // nothing after the top-level value
  const bool ws = is_ws(c);
  if (!ws) ws_ = {};  // a run of whitespace ends
  Frame& f = stack_.back();
  switch (f.kind) {
    case Frame::Kind::kValue: {
      if (ws) return stack_.size() > 1 && take_ws(c);  // the document starts at its first character
      const Node* n = pick(f.node, c);
      if (n == nullptr) return false;
      Frame v;
      v.node = n;
      switch (n->kind) {
        case Kind::kAny:
          // Any value: by its first character.
          if (c == '{') {
            v.kind = Frame::Kind::kObject;
            v.node = n;  // kAny as an object: any keys, any values
          } else if (c == '[') {
            v.kind = Frame::Kind::kArray;
          } else if (c == '"') {
            v.kind = Frame::Kind::kString;
          } else if (c == '-' || is_digit(c)) {
            v.kind = Frame::Kind::kNumber;
          } else if (c == 't' || c == 'f' || c == 'n') {
            static const Node literals = [] {
              Node l;
              l.kind = Kind::kEnum;
              l.literals = {"true", "false", "null"};
              return l;
            }();
            v.kind = Frame::Kind::kLiteral;
            v.node = &literals;
          } else {
            return false;
          }
          break;
        case Kind::kObject: v.kind = Frame::Kind::kObject; break;
        case Kind::kArray: v.kind = Frame::Kind::kArray; break;
        case Kind::kString: v.kind = Frame::Kind::kString; break;
        case Kind::kNumber: v.kind = Frame::Kind::kNumber; break;
        case Kind::kInteger:
          v.kind = Frame::Kind::kNumber;
          v.integer = true;
          break;
        case Kind::kEnum: v.kind = Frame::Kind::kLiteral; break;
        case Kind::kUnion: return false;
      }
      stack_.back() = v;
      if (v.kind == Frame::Kind::kObject || v.kind == Frame::Kind::kArray || v.kind == Frame::Kind::kString) return true;
      return feed_char(c);  // numbers and literals take their first character themselves
    }
    case Frame::Kind::kObject: {
      // kAny used as an object: any keys with any values.
      const bool any = f.node->kind == Kind::kAny;
      switch (f.state) {
        case 0:  // after '{'
        case 4:  // after ','
          if (ws) return take_ws(c);
          if (c == '}' && f.state == 0 && (any || required_left(f) == 0)) return close_value();
          if (c != '"' || (!any && !more_keys(f))) return false;
          {
            Frame k;
            k.kind = Frame::Kind::kString;
            k.is_key = true;
            k.node = f.node;
            stack_.push_back(k);
          }
          return true;
        case 1:  // after the key
          if (ws) return take_ws(c);
          if (c != ':') return false;
          f.state = 2;
          return true;
        case 2: {  // after ':'
          if (ws) return take_ws(c);
          static const Node any_node;
          Frame v;
          v.kind = Frame::Kind::kValue;
          v.node = any ? &any_node : f.value;
          stack_.push_back(v);
          return feed_char(c);
        }
        case 3:  // after a value
          if (ws) return take_ws(c);
          if (c == ',' && (any || more_keys(f))) {
            f.state = 4;
            return true;
          }
          if (c == '}' && (any || required_left(f) == 0)) return close_value();
          return false;
      }
      return false;
    }
    case Frame::Kind::kArray: {
      const Node* items = f.node->kind == Kind::kArray ? f.node->items : nullptr;
      static const Node any_node;
      switch (f.state) {
        case 0:  // after '['
        case 2:  // after ','
          if (ws) return take_ws(c);
          if (c == ']' && f.state == 0 && f.count >= f.node->min_items) return close_value();
          {
            Frame v;
            v.kind = Frame::Kind::kValue;
            v.node = items != nullptr ? items : &any_node;
            stack_.push_back(v);
          }
          if (!feed_char(c)) {
            stack_.pop_back();
            return false;
          }
          return true;
        case 1:  // after an item
          if (ws) return take_ws(c);
          if (c == ',' && (f.node->max_items < 0 || f.count < f.node->max_items)) {
            f.state = 2;
            return true;
          }
          if (c == ']' && f.count >= f.node->min_items) return close_value();
          return false;
      }
      return false;
    }
    case Frame::Kind::kString: {
      switch (f.state) {
        case 0:
          if (c == '"') {
            if (f.is_key && !key_possible(stack_[stack_.size() - 2], f.text, true)) return false;
            return close_value();
          }
          if (c < 0x20) return false;
          if (c == '\\') {
            f.state = 1;
          }
          if (f.is_key) {
            f.text.push_back(static_cast<char>(c));
            if (!key_possible(stack_[stack_.size() - 2], f.text, false)) return false;
          }
          return true;
        case 1:  // after a backslash
          if (f.is_key) f.text.push_back(static_cast<char>(c));
          if (c == 'u') {
            f.state = 2;
            return true;
          }
          if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
            f.state = 0;
            return f.is_key ? key_possible(stack_[stack_.size() - 2], f.text, false) : true;
          }
          return false;
        default:  // 2..5: the four hex digits of \u
          if (!is_hex(c)) return false;
          if (f.is_key) f.text.push_back(static_cast<char>(c));
          f.state = f.state == 5 ? 0 : static_cast<uint8_t>(f.state + 1);
          return f.is_key ? key_possible(stack_[stack_.size() - 2], f.text, false) : true;
      }
    }
    case Frame::Kind::kNumber: {
      // As llama.cpp's JSON grammars bound numbers: at most 16 digits in
      // the integer and in the fraction, 3 in the exponent (a value a
      // 64-bit integer or a double holds, and no endless digits). count:
      // digits of the current part.
      const bool digit = is_digit(c);
      const auto more = [&](int limit) { return ++f.count <= limit; };
      const auto part = [&](uint8_t state) {
        f.state = state;
        f.count = 0;
        return true;
      };
      switch (f.state) {
        case 0:
          if (c == '-') return f.state = 1, true;
          [[fallthrough]];
        case 1:
          if (c == '0') return f.state = 3, more(16);
          if (digit) return f.state = 2, more(16);
          return false;
        case 2:
          if (digit) return more(16);
          [[fallthrough]];
        case 3:
          if (c == '.' && !f.integer) return part(4);
          if ((c == 'e' || c == 'E') && !f.integer) return part(6);
          break;
        case 4:
        case 5:
          if (digit) return f.state = 5, more(16);
          if (f.state == 5 && (c == 'e' || c == 'E')) return part(6);
          if (f.state == 4) return false;
          break;
        case 6:
          if (c == '+' || c == '-') return f.state = 7, true;
          [[fallthrough]];
        case 7:
        case 8:
          if (digit) return f.state = 8, more(3);
          if (f.state != 8) return false;
          break;
      }
      // The number ended; c belongs to the enclosing value.
      if (!number_can_end(f) || stack_.size() == 1) return false;
      if (!close_value()) return false;
      return feed_char(c);
    }
    case Frame::Kind::kLiteral: {
      if (literal_extends(f, c)) {
        f.text.push_back(static_cast<char>(c));
        if (literal_full(f) && !literal_any_longer(f) && stack_.size() > 1) return close_value();
        if (literal_full(f) && !literal_any_longer(f)) {
          done_ = true;
          stack_.pop_back();
        }
        return true;
      }
      if (!literal_full(f) || stack_.size() == 1) return false;
      if (!close_value()) return false;
      return feed_char(c);
    }
  }
  return false;
}

}  // namespace folio
