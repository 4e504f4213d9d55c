// The Go text/template engine: Go's semantics case by case, and Ollama's
// rendering rules on top (collation, legacy .Prompt/.Response templates).
#include <gtest/gtest.h>

#include "template/chat.h"
#include "template/exec.h"
#include "template/library.h"
#include "template/parse.h"
#include "template/value.h"

namespace folio::tmpl {
namespace {

Value data() {
  std::vector<Value> msgs;
  for (auto [role, content] : {std::pair{"system", "Be brief."}, std::pair{"user", "Hi <b> & \"you\""},
                               std::pair{"assistant", "Hello!"}}) {
    msgs.push_back(Value::structure({{"Role", "", false, Value::string(role)}, {"Content", "", false, Value::string(content)}}));
  }
  return Value::map({{"Messages", Value::list(msgs)},
                     {"System", Value::string("sys")},
                     {"N", Value::integer(3)},
                     {"F", Value::number(2.5)},
                     {"Empty", Value::string("")},
                     {"Tags", Value::map({{"b", Value::integer(2)}, {"a", Value::integer(1)}})},
                     {"Nil", Value::nil_list()}});
}

std::string render(const std::string& text, const Value& d = data()) {
  auto root = parse_template(text);
  if (!root.ok()) return "PARSE ERROR: " + root.error().message;
  auto out = execute(**root, d);
  return out.ok() ? *out : "EXEC ERROR: " + out.error().message;
}

TEST(GoTemplate, TextFieldsAndTrimMarkers) {
  EXPECT_EQ(render("plain"), "plain");
  EXPECT_EQ(render("a {{ .System }} b"), "a sys b");
  EXPECT_EQ(render("a  \n {{- .System -}} \n  b"), "asysb");
  EXPECT_EQ(render("x {{/* a comment */}} y"), "x  y");
  EXPECT_EQ(render("x \n{{- /* trimmed */ -}}\n y"), "xy");
  EXPECT_EQ(render("{{ .Missing }}"), "<no value>");  // a missing map key, as Go prints it
  EXPECT_EQ(render("{{ .N }} {{ .F }} {{ 1.0 }} {{ 'a' }} {{ 0x10 }} {{ -3 }} {{ 1e3 }}"), "3 2.5 1 97 16 -3 1000");
  EXPECT_EQ(render("{{ \"q\\t\\\"x\\\"\" }}{{ `raw\\n` }}"), "q\t\"x\"raw\\n");
  EXPECT_EQ(render("{{ .Tags }} {{ .Nil }} {{ true }} {{ nil }}"), "map[a:1 b:2] [] true <no value>");
}

TEST(GoTemplate, ConditionalsAndTruth) {
  EXPECT_EQ(render("{{ if .System }}yes{{ end }}"), "yes");
  EXPECT_EQ(render("{{ if .Empty }}yes{{ else }}no{{ end }}"), "no");
  EXPECT_EQ(render("{{ if .Nil }}a{{ else if .N }}b{{ else }}c{{ end }}"), "b");
  EXPECT_EQ(render("{{ if .Nil }}a{{ else if .Empty }}b{{ else }}c{{ end }}"), "c");
  EXPECT_EQ(render("{{ with .System }}[{{ . }}]{{ end }}{{ with .Empty }}x{{ else }}none{{ end }}"), "[sys]none");
  EXPECT_EQ(render("{{ with .Empty }}x{{ else with .N }}{{ . }}{{ end }}"), "3");
  EXPECT_EQ(render("{{ if and .N .Empty }}a{{ end }}{{ and .N .F }} {{ or .Empty .System }} {{ or .Empty .Nil }}"), "2.5 sys []");
  EXPECT_EQ(render("{{ if not .Empty }}ok{{ end }}"), "ok");
  // and/or stop at the deciding operand: the missing function call is never made.
  EXPECT_EQ(render("{{ or .System (index .Nil 5) }}"), "sys");
}

TEST(GoTemplate, RangeVariablesAndLoops) {
  const Value d = data();
  EXPECT_EQ(render("{{ range .Messages }}{{ .Role }};{{ end }}"), "system;user;assistant;");
  EXPECT_EQ(render("{{ range $i, $m := .Messages }}{{ $i }}={{ $m.Role }} {{ end }}"), "0=system 1=user 2=assistant ");
  EXPECT_EQ(render("{{ range $m := .Messages }}{{ $m.Role }} {{ end }}"), "system user assistant ");
  EXPECT_EQ(render("{{ range $k, $v := .Tags }}{{ $k }}{{ $v }}{{ end }}"), "a1b2");  // sorted keys
  EXPECT_EQ(render("{{ range .Nil }}x{{ else }}empty{{ end }}"), "empty");
  EXPECT_EQ(render("{{ range .N }}{{ . }}{{ end }}"), "012");
  EXPECT_EQ(render("{{ range .Messages }}{{ if eq .Role \"user\" }}{{ break }}{{ end }}{{ .Role }}{{ end }}"), "system");
  EXPECT_EQ(render("{{ range .Messages }}{{ if eq .Role \"user\" }}{{ continue }}{{ end }}{{ .Role }} {{ end }}"),
            "system assistant ");
  // $ is the data, whatever the dot.
  EXPECT_EQ(render("{{ range .Messages }}{{ $.System }}{{ end }}"), "syssyssys");
  // Declarations, assignment across iterations, scopes.
  EXPECT_EQ(render("{{ $s := \"\" }}{{ range .Messages }}{{ $s = printf \"%s%s,\" $s .Role }}{{ end }}{{ $s }}"),
            "system,user,assistant,");
  EXPECT_EQ(render("{{ range $i, $_ := .Messages }}{{ $last := eq (len (slice $.Messages $i)) 1 }}{{ if $last }}last={{ $i }}{{ end }}{{ end }}"),
            "last=2");
  EXPECT_EQ(render("{{ if $x := .System }}{{ $x }}{{ end }}"), "sys");
}

TEST(GoTemplate, Functions) {
  EXPECT_EQ(render("{{ eq .N 3 }} {{ eq .System \"a\" \"sys\" }} {{ ne .N 4 }} {{ lt .N 4 }} {{ ge .F 2.5 }}"),
            "true true true true true");
  EXPECT_EQ(render("{{ len .Messages }} {{ len .System }} {{ len .Tags }}"), "3 3 2");
  EXPECT_EQ(render("{{ (index .Messages 1).Role }} {{ index .Tags \"b\" }} {{ index .Tags \"zz\" }}"), "user 2 <no value>");
  EXPECT_EQ(render("{{ slice .System 1 }} {{ len (slice .Messages 1 2) }}"), "ys 1");
  EXPECT_EQ(render("{{ printf \"%d-%s-%v-%q-%5.2f-%x\" .N .System .F .System .F 255 }}"), "3-sys-2.5-\"sys\"- 2.50-ff");
  EXPECT_EQ(render("{{ print .N .F \"s\" 1 }}|{{ println .System .N }}"), "3 2.5s1|sys 3\n");
  EXPECT_EQ(render("{{ .System | printf \"<%s>\" }} {{ .Messages | len }}"), "<sys> 3");
  // json is encoding/json: HTML-safe escapes, struct fields by name.
  EXPECT_EQ(render("{{ json (index .Messages 1) }}"), R"({"Role":"user","Content":"Hi \u003cb\u003e \u0026 \"you\""})");
  EXPECT_EQ(render("{{ json .Tags }} {{ json .Nil }} {{ json .F }}"), R"({"a":1,"b":2} null 2.5)");
  EXPECT_EQ(render("{{ html \"<a href='x'>\" }} {{ urlquery \"a b&c\" }}"), "&lt;a href=&#39;x&#39;&gt; a+b%26c");
  EXPECT_EQ(render("{{ currentDate }}").size(), 10u);
}

// A request can carry its own template: nesting, work and widths are
// bounded (found by the template fuzzer: 800 parentheses overflowed the
// parser's stack).
TEST(GoTemplate, NestingStepsAndWidthsAreBounded) {
  EXPECT_EQ(render("{{ " + std::string(100, '(') + "1" + std::string(100, ')') + " }}"), "1");
  EXPECT_EQ(render("{{ " + std::string(101, '(') + "1" + std::string(101, ')') + " }}"),
            "PARSE ERROR: line 1: max expression depth exceeded (100)");
  std::string blocks;
  for (int i = 0; i < 101; ++i) blocks += "{{ if 1 }}";
  for (int i = 0; i < 101; ++i) blocks += "{{ end }}";
  EXPECT_EQ(render(blocks), "PARSE ERROR: line 1: blocks nest deeper than 100 levels");
  EXPECT_EQ(render("{{ range 1000000000 }}{{ end }}"), "EXEC ERROR: line 1: template takes more than 10000000 steps to render");
  EXPECT_EQ(render("{{ range 3 }}{{ . }}{{ end }}"), "012");
  EXPECT_EQ(render("{{ printf \"%99999999d|%.99999999s|%5d\" 1 \"x\" 2 }}"), "%!(BADWIDTH)1|%!(BADPREC)x|    2");
  EXPECT_EQ(render("{{ printf \"%999999999999999999999d\" 1 }}"), "%!(BADWIDTH)1");
  // Number literals past float64 are refused (the fuzzer's .66E666...);
  // past int64 they are floats, as in Go.
  EXPECT_EQ(render("{{ 1e999 }}"), "PARSE ERROR: line 1: number out of range: 1e999");
  EXPECT_EQ(render("{{ 99999999999999999999 }}"), "1e+20");
}

TEST(GoTemplate, ErrorsNameTheLine) {
  EXPECT_EQ(render("{{ .Prompt "), "PARSE ERROR: line 1: unclosed action");
  EXPECT_EQ(render("a\n{{ end }}"), "PARSE ERROR: line 2: unexpected {{end}}");
  EXPECT_EQ(render("{{ if .X }}\nno end"), "PARSE ERROR: line 1: unexpected EOF: {{if}} has no {{end}}");
  EXPECT_EQ(render("{{ $x }}"), "PARSE ERROR: line 1: undefined variable \"$x\"");
  EXPECT_EQ(render("{{ frobnicate 1 }}"), "PARSE ERROR: line 1: function \"frobnicate\" not defined");
  EXPECT_EQ(render("{{ break }}"), "PARSE ERROR: line 1: {{break}} outside {{range}}");
  EXPECT_NE(render("{{define \"x\"}}{{end}}").find("undefined template specified"), std::string::npos);
  EXPECT_EQ(render("\n{{ (index .Messages 0).Nope }}"), "EXEC ERROR: line 2: can't evaluate field Nope in type struct");
  EXPECT_EQ(render("{{ index .Messages 7 }}"), "EXEC ERROR: line 1: error calling index: index out of range: 7");
  EXPECT_EQ(render("{{ eq .N \"3\" }}"), "EXEC ERROR: line 1: error calling eq: incompatible types for comparison");
  EXPECT_EQ(render("{{ .System 1 }}"), "EXEC ERROR: line 1: System is not a method but has arguments");
}

TEST(GoTemplate, FloatsPrintAsGo) {
  EXPECT_EQ(format_float_v(1e6), "1e+06");
  EXPECT_EQ(format_float_v(123456.0), "123456");
  EXPECT_EQ(format_float_v(1234567.0), "1.234567e+06");
  EXPECT_EQ(format_float_v(1e8), "1e+08");
  EXPECT_EQ(format_float_v(0.0001), "0.0001");
  EXPECT_EQ(format_float_v(0.00001), "1e-05");
  EXPECT_EQ(format_float_v(1e21), "1e+21");
  EXPECT_EQ(format_float_v(0.1), "0.1");
  EXPECT_EQ(format_float_json(1e6), "1000000");
  EXPECT_EQ(format_float_json(1e-7), "1e-7");
  EXPECT_EQ(format_float_json(1e21), "1e+21");
  EXPECT_EQ(format_float_json(-0.5), "-0.5");
  EXPECT_EQ(json_quote("a\x01<\xE2\x80\xA8\xff"), "\"a\\u0001\\u003c\\u2028\\ufffd\"");
}

TEST(ChatTemplate, VarsAndTheAppendedResponse) {
  auto t = ChatTemplate::parse("{{ .System }} {{ .Prompt }}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->vars(), (std::vector<std::string>{"prompt", "response", "system"}));
  auto m = ChatTemplate::parse("{{ range .Messages }}{{ if eq .Role \"tool\" }}{{ .ToolName }}{{ end }}{{ .Content }}{{ end }}");
  EXPECT_EQ(m->vars(), (std::vector<std::string>{"content", "messages", "role", "toolname"}));
  auto w = ChatTemplate::parse("{{ with .Tools }}{{ . }}{{ end }} {{ .System }} {{ .Prompt }}");
  EXPECT_EQ(w->vars(), (std::vector<std::string>{"prompt", "response", "system", "tools"}));
}

ChatValues conversation(bool with_system, bool ends_with_assistant = false) {
  ChatValues v;
  if (with_system) v.messages.push_back({"system", "You are a helpful assistant!"});
  v.messages.push_back({"user", "Hello friend!"});
  v.messages.push_back({"assistant", "Hello human!"});
  v.messages.push_back({"user", "What is your name?"});
  if (ends_with_assistant) v.messages.push_back({"assistant", "My name is Ollama and I"});
  return v;
}

std::string chat(const std::string& text, const ChatValues& v) {
  auto t = ChatTemplate::parse(text);
  if (!t.ok()) return "PARSE ERROR: " + t.error().message;
  auto out = t->render(v);
  return out.ok() ? *out : "EXEC ERROR: " + out.error().message;
}

TEST(ChatTemplate, LegacyAndMessagesTemplatesRenderAlike) {
  const std::string no_response = "[INST] {{ if .System }}{{ .System }}\n\n{{ end }}{{ .Prompt }}[/INST] ";
  const std::string response = no_response + "{{ .Response }}";
  const std::string messages =
      "[INST] {{ if .System }}{{ .System }}\n\n{{ end }}\n{{- range .Messages }}\n"
      "{{- if eq .Role \"user\" }}{{ .Content }}[/INST] {{ else if eq .Role \"assistant\" }}{{ .Content }}[INST] {{ end }}\n"
      "{{- end }}";
  for (const std::string& t : {no_response, response, messages}) {
    EXPECT_EQ(chat(t, conversation(false)), "[INST] Hello friend![/INST] Hello human![INST] What is your name?[/INST] ") << t;
    EXPECT_EQ(chat(t, conversation(true)),
              "[INST] You are a helpful assistant!\n\nHello friend![/INST] Hello human![INST] What is your name?[/INST] ")
        << t;
  }
  // The last turn stops at {{ .Response }}, so a partial answer continues.
  EXPECT_EQ(chat("[INST] {{ .Prompt }}[/INST] {{ .Response }}", conversation(false, true)),
            "[INST] Hello friend![/INST] Hello human![INST] What is your name?[/INST] My name is Ollama and I");
  const std::string chatml =
      "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}{{ if .Prompt }}<|im_start|>user\n"
      "{{ .Prompt }}<|im_end|>\n{{ end }}<|im_start|>assistant\n{{ .Response }}<|im_end|>\n";
  EXPECT_EQ(chat(chatml, conversation(true)),
            "<|im_start|>system\nYou are a helpful assistant!<|im_end|>\n<|im_start|>user\nHello friend!<|im_end|>\n"
            "<|im_start|>assistant\nHello human!<|im_end|>\n<|im_start|>user\nWhat is your name?<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(ChatTemplate, CollatesAndFillsInSuffix) {
  ChatValues v;
  v.messages = {{"system", "A"}, {"system", "B"}, {"user", "x"}, {"user", "y"}};
  EXPECT_EQ(chat("{{ .System }}|{{ range .Messages }}{{ .Role }}:{{ .Content }};{{ end }}", v),
            "A\n\nB|system:A\n\nB;user:x\n\ny;");
  const std::string fim = "{{- if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>\n{{- else }}{{ .Prompt }}\n{{- end }}";
  ChatValues s;
  s.prompt = "def add(";
  s.suffix = "return x";
  EXPECT_EQ(chat(fim, s), "<PRE> def add( <SUF>return x <MID>");
  ChatValues m;
  m.messages = {{"user", "hello"}};
  EXPECT_EQ(chat(fim, m), "hello");
}

TEST(ChatTemplate, ToolsAndToolCallsAsOllamaSeesThem) {
  ChatValues v;
  v.tools_json = R"([{"type":"function","function":{"name":"get_weather","description":"Weather <now>",
    "parameters":{"type":"object","required":["city"],"properties":{"unit":{"type":"string","enum":["c","f"]},
    "city":{"type":"string","description":"City"}}}}}])";
  Message call{"assistant", ""};
  call.tool_calls.push_back({"", 0, "get_weather", R"({"city":"Paris"})"});
  v.messages = {{"user", "Weather?"}, call, Message{"tool", "20C"}};
  const std::string t =
      "{{ if .Tools }}T:{{ .Tools }}\n{{ range .Tools }}{{ .Function.Name }}(" 
      "{{ range $k, $p := .Function.Parameters.Properties }}{{ $k }}:{{ $p.Type }},{{ end }}){{ end }}\n{{ end }}"
      "{{ range .Messages }}{{ .Role }}:{{ .Content }}{{ range .ToolCalls }}{{ .Function.Name }}{{ .Function.Arguments }}"
      "{{ end }};{{ end }}";
  EXPECT_EQ(chat(t, v),
            "T:[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather \\u003cnow\\u003e\","
            "\"parameters\":{\"type\":\"object\",\"required\":[\"city\"],\"properties\":{\"city\":{\"type\":\"string\","
            "\"description\":\"City\"},\"unit\":{\"type\":\"string\",\"enum\":[\"c\",\"f\"]}}}}}]\n"
            "get_weather(city:string,unit:string,)\n"
            "user:Weather?;assistant:get_weather{\"city\":\"Paris\"};tool:20C;");
  // No tools: .Tools is false.
  v.tools_json.clear();
  EXPECT_EQ(chat("{{ if .Tools }}yes{{ else }}no{{ end }}{{ range .Messages }}{{ end }}", v), "no");
}

TEST(TemplateLibrary, BoundedLevenshtein) {
  EXPECT_EQ(levenshtein_bounded("kitten", "sitting", 10), 3u);
  EXPECT_EQ(levenshtein_bounded("", "abc", 10), 3u);
  EXPECT_EQ(levenshtein_bounded("abc", "abc", 0), 0u);
  EXPECT_EQ(levenshtein_bounded("abcdef", "azcdez", 1), 2u);  // over the limit: limit + 1
  EXPECT_EQ(levenshtein_bounded("héllo", "hello", 5), 1u);     // code points, not bytes
  EXPECT_GE(template_index().size(), 30u);
  ASSERT_NE(find_named_template("llama3-instruct"), nullptr);
  EXPECT_EQ(find_named_template("chatml")->stop, (std::vector<std::string>{"<|im_start|>", "<|im_end|>"}));
}

}  // namespace
}  // namespace folio::tmpl
