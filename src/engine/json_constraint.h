// Constrained decoding for Ollama's `format`: "json" (any JSON object) or a
// JSON schema. A JsonGrammar is compiled once per request from the schema;
// a JsonConstraint is a character-level pushdown recognizer over it that
// says whether text can continue a valid document, so the sampler only
// picks tokens that keep the output parseable (and matching the schema).
//
// Schema support: type (a name or a list), properties / required (keys in
// the declared order, required ones mandatory, no others unless
// additionalProperties is true or there are no properties),
// additionalProperties as a schema, items, minItems / maxItems, enum,
// const, anyOf / oneOf (alternatives told apart by their first character:
// object, array, string, number, true/false, null; of several of one kind
// the first is used), nullable, $ref to #/$defs or #/definitions.
// Whitespace between tokens as llama.cpp's JSON grammars allow it (one
// space, or one or two newlines and an indentation of at most 20 spaces or
// tabs), so a model cannot pad forever; none before the top-level value,
// and after it only the end. Numbers: at most 16 digits in the integer and
// in the fraction, 3 in the exponent (llama.cpp's bounds).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"

namespace folio {

class JsonGrammar {
 public:
  // format "json": any object at the top level.
  static std::shared_ptr<const JsonGrammar> any_object();
  // A JSON schema. Errors: not an object, an unknown type, a bad $ref.
  static Result<std::shared_ptr<const JsonGrammar>> from_schema(const nlohmann::json& schema);

  struct Node;
  const Node* root() const { return root_; }
  ~JsonGrammar();

 private:
  JsonGrammar() = default;
  std::vector<std::unique_ptr<Node>> nodes_;
  const Node* root_ = nullptr;
  friend struct GrammarBuilder;
};

class JsonConstraint {
 public:
  explicit JsonConstraint(std::shared_ptr<const JsonGrammar> g);
  // Feeds text; false (and the state unchanged) if it cannot continue a
  // valid document.
  bool feed(std::string_view text);
  // Whether text could be fed, without feeding it.
  bool accepts(std::string_view text) const;
  // The top-level value is complete: only the end may follow.
  bool done() const;

  struct Frame {
    enum class Kind : uint8_t { kValue, kObject, kArray, kString, kNumber, kLiteral };
    Kind kind = Kind::kValue;
    uint8_t state = 0;
    bool is_key = false;      // kString: an object key
    bool integer = false;     // kNumber: no fraction or exponent
    const JsonGrammar::Node* node = nullptr;
    const JsonGrammar::Node* value = nullptr;  // kObject: the schema of the current key's value
    uint64_t seen = 0;        // kObject: properties given so far (bit per property)
    int64_t count = 0;        // kArray: items; kNumber: characters
    std::string text;         // kString key / kLiteral: the characters so far
  };

 private:
  bool feed_char(unsigned char c);
  bool close_value();  // the frame on top finished its value
  bool take_ws(unsigned char c);  // whitespace between tokens
  std::shared_ptr<const JsonGrammar> g_;
  std::vector<Frame> stack_;
  bool done_ = false;
  struct Whitespace {
    bool single = false;  // a lone space
    uint8_t newlines = 0, indent = 0;
  } ws_;
};

}  // namespace folio
