// Chat templates (Go text/template as Ollama uses it): any text either
// parses or is refused; what parses renders a conversation with a system
// prompt, tools, a tool call and its result, or fails with a message. A
// request can carry its own template, so rendering must stay bounded in
// time, depth and output.
#include <string_view>

#include "fuzz_target.h"
#include "template/chat.h"

namespace {

folio::tmpl::ChatValues conversation() {
  using folio::tmpl::Message;
  folio::tmpl::ChatValues v;
  v.messages.emplace_back("system", "You are terse.");
  v.messages.emplace_back("user", "Weather in Paris? <|eot_id|> {{ .Prompt }}");
  Message call("assistant", "");
  call.tool_calls.push_back({"call_1", 0, "get_weather", R"({"city":"Paris","days":[1,2]})"});
  v.messages.push_back(call);
  Message result("tool", "{\"temp\": 21}");
  result.tool_name = "get_weather";
  result.tool_call_id = "call_1";
  v.messages.push_back(result);
  v.messages.emplace_back("assistant", "21 degrees.");
  v.messages.emplace_back("user", "Thanks \xf0\x9f\x99\x82");
  v.tools_json =
      R"([{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":)"
      R"({"type":"object","required":["city"],"properties":{"city":{"type":"string","description":"City"},)"
      R"("days":{"type":"array","items":{"type":"integer"}},"unit":{"type":"string","enum":["c","f"]}}}}}])";
  v.prompt = "Thanks";
  v.suffix = "end";
  v.think = true;
  v.is_think_set = true;
  v.think_level = "high";
  return v;
}

}  // namespace

FOLIO_FUZZ_TARGET(template) {
  static const folio::tmpl::ChatValues values = conversation();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = folio::tmpl::ChatTemplate::parse(text);
  if (!t.ok()) {
    FUZZ_CHECK(!t.error().message.empty());
    return 0;
  }
  (void)t->vars();
  (void)t->tool_call_tag();
  auto out = t->render(values);
  if (!out.ok()) FUZZ_CHECK(!out.error().message.empty());
  return 0;
}
