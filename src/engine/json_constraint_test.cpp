// The JSON recognizer behind `format`: every prefix of a valid document is
// accepted and the whole is done; invalid continuations are refused
// without changing the state; schemas restrict keys, types, enums, sizes.
#include "engine/json_constraint.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <random>

namespace folio {
namespace {

using nlohmann::json;

std::shared_ptr<const JsonGrammar> schema(const char* text) {
  auto g = JsonGrammar::from_schema(json::parse(text));
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message);
  return g.ok() ? *g : nullptr;
}

// Fed one character at a time: each accepted, done only at the end.
// (A number's prefixes can be whole documents: "4" of "42".)
void expect_valid(const std::shared_ptr<const JsonGrammar>& g, const std::string& doc, bool prefixes_incomplete = true) {
  JsonConstraint c(g);
  for (size_t i = 0; i < doc.size(); ++i) {
    if (prefixes_incomplete) {
      ASSERT_FALSE(c.done()) << doc << " done early at " << i;
    }
    ASSERT_TRUE(c.feed(doc.substr(i, 1))) << doc << " refused at " << i << ": '" << doc.substr(0, i + 1) << "'";
  }
  EXPECT_TRUE(c.done()) << doc;
  EXPECT_FALSE(c.accepts("x")) << "nothing may follow a complete document";
  EXPECT_FALSE(c.accepts(" ")) << "not even whitespace";
}

// Refused somewhere (or never complete).
void expect_invalid(const std::shared_ptr<const JsonGrammar>& g, const std::string& doc) {
  JsonConstraint c(g);
  EXPECT_FALSE(c.feed(doc) && c.done()) << doc;
}

TEST(JsonConstraint, AnyObject) {
  auto g = JsonGrammar::any_object();
  expect_valid(g, R"({})");
  expect_valid(g, R"({"a": [1, -2.5e+3, 0, "x\"y\u00e9", true, false, null, {"b": {}}, []]})");
  expect_valid(g, "{\n  \"story\": \"Once upon a time\",\n  \"n\": 12\n}");
  expect_valid(g, "{\"\xc3\xa9t\xc3\xa9\": \"\xe2\x9c\x93\"}");  // UTF-8 bytes in strings
  for (const char* bad : {R"([1])", R"("x")", R"({"a" 1})", R"({,})", R"({"a":1,})", R"({"a":01})", R"({"a":-})",
                          R"({"a":tru})", R"({"a":"x)", "{\"a\":\"\x01\"}", R"({"a":1.})", R"({"a":"\q"})",
                          R"({} {})", R"({"a":[1,]})"}) {
    expect_invalid(g, bad);
  }
  // Whitespace between tokens is bounded, so a model cannot pad forever:
  // one space, or one or two newlines and an indentation of up to 20.
  JsonConstraint c(g);
  ASSERT_TRUE(c.feed("{"));
  EXPECT_TRUE(c.accepts(" "));
  EXPECT_FALSE(c.accepts("  "));
  EXPECT_TRUE(c.accepts("\n\n" + std::string(20, ' ')));
  EXPECT_TRUE(c.accepts("\n\t\t"));
  EXPECT_FALSE(c.accepts("\n" + std::string(21, ' ')));
  EXPECT_FALSE(c.accepts("\n\n\n"));
  EXPECT_FALSE(c.accepts("\n \n"));
  EXPECT_FALSE(c.accepts("\t"));
  EXPECT_FALSE(c.accepts("\r\n"));
  // Inside strings whitespace is content, unbounded.
  expect_valid(g, "{\"a\": \"" + std::string(50, ' ') + "\\n\\n\\n\"}");
  // A refused piece leaves the state as it was.
  EXPECT_FALSE(c.feed("\"a\"]"));
  EXPECT_TRUE(c.feed("\"a\": 1}"));
  EXPECT_TRUE(c.done());
}

TEST(JsonConstraint, SchemaKeysTypesRequiredEnums) {
  auto g = schema(R"({"type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                   "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
                   "kind": {"enum": ["cat", "dog", 3]}, "ok": {"type": "boolean"},
                   "score": {"type": ["number", "null"]}},
    "required": ["name", "age"]})");
  expect_valid(g, R"({"name": "Lily", "age": 3})");
  expect_valid(g, R"({"age": 3, "name": "x", "kind": "dog", "tags": ["a", "b"], "ok": false, "score": null})");
  expect_valid(g, R"({"name": "x", "age": -7, "kind": 3, "score": 1.5e2})");
  for (const char* bad : {R"({"name": "x"})", R"({"name": "x", "age": 3.5})", R"({"nope": 1})",
                          R"({"name": "x", "age": 1, "kind": "cow"})", R"({"name": "x", "age": 1, "tags": ["a", "b", "c"]})",
                          R"({"name": "x", "name": "y", "age": 1})", R"({"name": 1, "age": 1})",
                          R"({"name": "x", "age": 1, "ok": "yes"})", R"([])"}) {
    expect_invalid(g, bad);
  }
  // A key is refused as soon as no property can start with it.
  JsonConstraint c(g);
  ASSERT_TRUE(c.feed("{\"na"));
  EXPECT_FALSE(c.accepts("x"));
  EXPECT_TRUE(c.accepts("me\""));
}

TEST(JsonConstraint, TopLevelScalarsArraysRefsAndNullable) {
  expect_valid(schema(R"({"type": "integer"})"), "42", false);
  expect_invalid(schema(R"({"type": "integer"})"), "4.2");
  // Digits are bounded: 16 in the integer and the fraction, 3 in the exponent.
  expect_valid(schema(R"({"type": "integer"})"), "-1234567890123456", false);
  expect_invalid(schema(R"({"type": "integer"})"), "12345678901234567");
  expect_valid(schema(R"({"type": "number"})"), "0.1234567890123456e-308", false);
  expect_invalid(schema(R"({"type": "number"})"), "1.5e1234");
  expect_invalid(schema(R"({"type": "number"})"), "1.12345678901234567");
  expect_valid(schema(R"({"type": "string"})"), R"("hi")");
  expect_valid(schema(R"({"enum": ["red", "green"]})"), R"("green")");
  expect_invalid(schema(R"({"enum": ["red", "green"]})"), R"("blue")");
  expect_valid(schema(R"({"type": "array", "items": {"type": "number"}, "minItems": 1})"), "[1, 2.5]");
  expect_invalid(schema(R"({"type": "array", "items": {"type": "number"}, "minItems": 1})"), "[]");
  auto tree = schema(R"({"$ref": "#/$defs/node", "$defs": {"node": {"type": "object",
      "properties": {"v": {"type": "integer"}, "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
      "required": ["v"]}}})");
  expect_valid(tree, R"({"v": 1, "kids": [{"v": 2}, {"v": 3, "kids": [{"v": 4}]}]})");
  expect_invalid(tree, R"({"v": 1, "kids": [{"w": 2}]})");
  auto nullable = schema(R"({"type": "object", "properties": {"x": {"type": "string", "nullable": true}}})");
  expect_valid(nullable, R"({"x": null})");
  expect_valid(nullable, R"({"x": "s"})");
  expect_valid(nullable, R"({})");
  auto any = schema(R"({"type": "object", "additionalProperties": {"type": "integer"}})");
  expect_valid(any, R"({"a": 1, "b": 2})");
  expect_invalid(any, R"({"a": "1"})");
}

TEST(JsonConstraint, BadSchemasAreRefused) {
  EXPECT_FALSE(JsonGrammar::from_schema(json("x")).ok());
  EXPECT_FALSE(JsonGrammar::from_schema(json::parse(R"({"type": "thing"})")).ok());
  EXPECT_FALSE(JsonGrammar::from_schema(json::parse(R"({"$ref": "#/$defs/missing"})")).ok());
  EXPECT_FALSE(JsonGrammar::from_schema(json::parse(R"({"enum": []})")).ok());
}

// Random documents of the any-object grammar, serialized by nlohmann (so
// surely valid, numbers within the digit bounds): every one accepted in
// pieces of random sizes.
TEST(JsonConstraint, RandomDocumentsInRandomPieces) {
  std::mt19937 rng(7);
  std::function<json(int)> value = [&](int depth) -> json {
    switch (rng() % (depth > 3 ? 4 : 6)) {
      case 0: return static_cast<int>(rng() % 2000) - 1000;
      case 1: return static_cast<double>(rng() % 10000000) / std::pow(10.0, rng() % 8) * (rng() % 2 ? 1e-20 : 1);
      case 2: return std::string("s\"\\\n\t\x01\xc3\xa9") + std::to_string(rng() % 100);
      case 3: return rng() % 3 == 0 ? json(nullptr) : json(rng() % 2 == 0);
      case 4: {
        json a = json::array();
        for (unsigned i = 0, n = rng() % 4; i < n; ++i) a.push_back(value(depth + 1));
        return a;
      }
      default: {
        json o = json::object();
        for (unsigned i = 0, n = rng() % 4; i < n; ++i) o["k" + std::to_string(rng() % 50)] = value(depth + 1);
        return o;
      }
    }
  };
  auto g = JsonGrammar::any_object();
  for (int t = 0; t < 300; ++t) {
    json doc = json::object();
    for (unsigned i = 0, n = rng() % 4; i < n; ++i) doc["key" + std::to_string(i)] = value(1);
    const std::string text = doc.dump(t % 2 ? 2 : -1);
    JsonConstraint c(g);
    for (size_t i = 0; i < text.size();) {
      const size_t n = 1 + rng() % 6;
      ASSERT_TRUE(c.feed(text.substr(i, n))) << text << " at " << i;
      i += n;
    }
    EXPECT_TRUE(c.done()) << text;
  }
}

}  // namespace
}  // namespace folio
