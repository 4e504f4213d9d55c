// Tool calls parsed from streamed output, and the tag taken from a
// template (cases after Ollama's tools tests: the same behaviours).
#include "server/tool_calls.h"

#include <gtest/gtest.h>

#include "template/chat.h"

namespace folio::api {
namespace {

using nlohmann::json;

std::string tag_of(const char* text) {
  auto t = tmpl::ChatTemplate::parse(text);
  EXPECT_TRUE(t.ok()) << text;
  return t.ok() ? t->tool_call_tag() : "";
}

TEST(ToolCallTag, FirstTextOfTheToolCallsBlock) {
  EXPECT_EQ(tag_of(""), "{");
  EXPECT_EQ(tag_of("{{ .Prompt }}"), "{");
  EXPECT_EQ(tag_of("{{if .ToolCalls}}{{end}}"), "{");
  EXPECT_EQ(tag_of("{{if .ToolCalls}}{{range .ToolCalls}}{{ . }}{{end}}{{end}}"), "{");
  EXPECT_EQ(tag_of("{{if .ToolCalls}}```json\n{{end}}"), "```json");
  EXPECT_EQ(tag_of("{{if .ToolCalls}}\n [ {{range .ToolCalls}}{{ . }}{{end}}]{{end}}"), "[");
  EXPECT_EQ(tag_of("{{if .ToolCalls}}{{range .ToolCalls}}{{ . }}{{end}}]{{end}}"), "{");  // text after an action
  EXPECT_EQ(tag_of("{{if .ToolCalls}}{{range .ToolCalls}}\r\n{\"name\": \"{{ .Function.Name }}\"}{{end}}{{end}}"), "{");
  EXPECT_EQ(tag_of("{{if .ToolCalls}}{{range .ToolCalls}}<tool_call>{\"name\": \"{{ .Function.Name }}\"}</tool_call>{{end}}{{end}}"),
            "<tool_call>");
  EXPECT_EQ(tag_of("{{if .ToolCalls}}First text{{if .Something}}inner{{end}}Second text{{end}}"), "First text");
  EXPECT_EQ(tag_of("{{if .ToolCalls}}[TOOL_CALLS] [{{range .ToolCalls}}{{ . }}{{end}}]{{end}}"), "[TOOL_CALLS] [");
  // Nested in a range over the messages, as chat templates have it.
  EXPECT_EQ(tag_of("{{- range .Messages }}{{ if eq .Role \"assistant\" }}{{ if .ToolCalls }}<|python_tag|>"
                   "{{ range .ToolCalls }}{{ .Function.Name }}{{ end }}{{ end }}{{ end }}{{ end }}"),
            "<|python_tag|>");
}

// Feeds the pieces; returns the content shown and the calls.
std::pair<std::string, std::vector<ToolCall>> feed(const std::string& tag, const std::vector<std::string>& pieces) {
  ToolCallParser p(tag, {"get_temperature", "get_conditions", "say_hello", "get_address", "get_address_details"});
  std::pair<std::string, std::vector<ToolCall>> out;
  for (const auto& s : pieces) {
    auto [calls, content] = p.add(s);
    out.first += content;
    out.second.insert(out.second.end(), calls.begin(), calls.end());
  }
  out.first += p.content();
  return out;
}

TEST(ToolCallParser, TaggedCalls) {
  auto r = feed("<tool_call>", {"Hello, how can I help you today?"});
  EXPECT_EQ(r.first, "Hello, how can I help you today?");
  EXPECT_TRUE(r.second.empty());
  r = feed("<tool_call>", {R"(Let me check. <tool_call>{"name": "get_temperature", "arguments": {"city": "New York"}}</tool_call>)"});
  EXPECT_EQ(r.first, "Let me check. ");
  ASSERT_EQ(r.second.size(), 1u);
  EXPECT_EQ(r.second[0].name, "get_temperature");
  EXPECT_EQ(r.second[0].arguments, json({{"city", "New York"}}));
  EXPECT_EQ(r.second[0].index, 0);
  // Split anywhere, even inside the tag; two calls; empty arguments.
  r = feed("<tool_call>", {"<tool", R"(_call>{"name": "get_cond)", R"(itions", "arguments": {}}</tool_call><tool_call>)",
                           R"({"name": "get_temperature", "arguments": "{\"city\": \"Oslo\"}"}</tool_call>)"});
  EXPECT_EQ(r.first, "");
  ASSERT_EQ(r.second.size(), 2u);
  EXPECT_EQ(r.second[0].name, "get_conditions");
  EXPECT_EQ(r.second[0].arguments, json::object());
  EXPECT_EQ(r.second[1].name, "get_temperature");
  EXPECT_EQ(r.second[1].arguments, json({{"city", "Oslo"}}));  // arguments given as a JSON string
  EXPECT_EQ(r.second[1].index, 1);
  // A list after a tag; a name before a fenced object (DeepSeek's form).
  r = feed("[TOOL_CALLS] [", {R"([TOOL_CALLS] [{"name": "get_temperature", "arguments": {"city": "London"}}, )",
                              R"({"name": "get_conditions", "arguments": {"location": "Tokyo"}}])"});
  ASSERT_EQ(r.second.size(), 2u);
  EXPECT_EQ(r.second[1].arguments, json({{"location", "Tokyo"}}));
  r = feed("<|tool▁calls▁begin|>", {"<|tool▁calls▁begin|><|tool▁call▁begin|>function<|tool▁sep|>get_temperature\n```json\n",
                                     "{\"city\": \"Paris\"}\n```<|tool▁call▁end|><|tool▁calls▁end|>"});
  ASSERT_EQ(r.second.size(), 1u);
  EXPECT_EQ(r.second[0].arguments, json({{"city", "Paris"}}));
}

TEST(ToolCallParser, BareJson) {
  // Only output that starts with "{" can be a call.
  auto r = feed("{", {"{", R"("name": "get_temperature", )", R"("arguments": {"city": "Rome"}})"});
  EXPECT_EQ(r.first, "");
  ASSERT_EQ(r.second.size(), 1u);
  EXPECT_EQ(r.second[0].arguments, json({{"city", "Rome"}}));
  r = feed("{", {"for { fmt.Println(\"hello\") }"});
  EXPECT_EQ(r.first, "for { fmt.Println(\"hello\") }");
  EXPECT_TRUE(r.second.empty());
  // An object that names no known tool is content after all.
  const std::string not_a_call = R"({"name": "search", "arguments": {"query": "capital of Canada?"}})";
  r = feed("{", {not_a_call.substr(0, 10), not_a_call.substr(10)});
  EXPECT_EQ(r.first, not_a_call);
  EXPECT_TRUE(r.second.empty());
  // Held back while it may still become a call; shown if it does not.
  ToolCallParser p("{", {"get_temperature"});
  EXPECT_EQ(p.add("{\"name\": \"get_temp").second, "");
  EXPECT_EQ(p.content(), "{\"name\": \"get_temp");
}

TEST(ToolCallParser, LongerNameWins) {
  auto r = feed("<tool_call>", {R"(<tool_call>{"name": "get_address_details", "arguments": {"id": 1}}</tool_call>)"});
  ASSERT_EQ(r.second.size(), 1u);
  EXPECT_EQ(r.second[0].name, "get_address_details");
  // A name split at a prefix of another waits for the rest.
  r = feed("<tool_call>", {"<tool_call>{\"name\": \"get_address", "_details\", \"arguments\": {\"id\": 2}}</tool_call>"});
  ASSERT_EQ(r.second.size(), 1u);
  EXPECT_EQ(r.second[0].name, "get_address_details");
}

TEST(ToolCallParser, NamesOfARequestsTools) {
  const json tools = json::parse(R"([{"type": "function", "function": {"name": "a"}}, {"type": "function"}, 3,
                                     {"function": {"name": "b", "parameters": {}}}])");
  EXPECT_EQ(ToolCallParser::names_of(tools), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(ToolCallParser::names_of(json("x")).empty());
}

}  // namespace
}  // namespace folio::api
