// A chat request's messages and tools as Ollama's api.Message and api.Tool
// bind them (ref: ollama api/types.go).
#include "server/chat_messages.h"

#include "server/api.h"

namespace folio::api {

using nlohmann::json;

Result<tmpl::Message> message_from_json(const json& m) {
  if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
    return make_error("each message needs a role (system, user, assistant or tool)");
  }
  tmpl::Message out(m["role"].get<std::string>(), "");
  if (m.contains("content") && !m["content"].is_null()) {
    if (!m["content"].is_string()) return make_error("message content must be a string");
    out.content = m["content"].get<std::string>();
  }
  if (m.contains("images") && m["images"].is_array() && !m["images"].empty()) {
    return make_error("this model does not support images");
  }
  if (m.contains("thinking") && m["thinking"].is_string()) out.thinking = m["thinking"].get<std::string>();
  if (m.contains("tool_name") && m["tool_name"].is_string()) out.tool_name = m["tool_name"].get<std::string>();
  if (m.contains("tool_call_id") && m["tool_call_id"].is_string()) out.tool_call_id = m["tool_call_id"].get<std::string>();
  if (m.contains("tool_calls") && m["tool_calls"].is_array()) {
    for (const auto& c : m["tool_calls"]) {
      if (!c.is_object() || !c.value("function", json::object()).is_object()) {
        return make_error("each tool call needs a function object");
      }
      const json fn = c.value("function", json::object());
      tmpl::ToolCall call;
      FOLIO_ASSIGN_OR_RETURN(call.id, string_field(c, "id"));
      FOLIO_ASSIGN_OR_RETURN(call.name, string_field(fn, "name"));
      call.index = fn.contains("index") && fn["index"].is_number_integer() ? fn["index"].get<int>() : 0;
      call.arguments_json = fn.contains("arguments") ? fn["arguments"].dump() : "{}";
      out.tool_calls.push_back(std::move(call));
    }
  }
  return out;
}

// The request's tools as Ollama's api.Tool would bind them: a list of
// objects whose function, when present, is an object with a string name and
// an object of parameters (deeper fields are rendered as they come).
Result<void> check_tools(const json& tools) {
  if (!tools.is_array()) return make_error("tools must be a list");
  for (size_t i = 0; i < tools.size(); ++i) {
    const json& t = tools[i];
    const std::string at = "tools[" + std::to_string(i) + "]";
    if (!t.is_object()) return make_error("%s must be an object", at.c_str());
    if (!t.contains("function") || t["function"].is_null()) continue;
    const json& fn = t["function"];
    if (!fn.is_object()) return make_error("%s.function must be an object", at.c_str());
    if (fn.contains("name") && !fn["name"].is_null() && !fn["name"].is_string()) {
      return make_error("%s.function.name must be a string", at.c_str());
    }
    if (fn.contains("parameters") && !fn["parameters"].is_null()) {
      const json& p = fn["parameters"];
      if (!p.is_object()) return make_error("%s.function.parameters must be an object", at.c_str());
      if (p.contains("properties") && !p["properties"].is_null() && !p["properties"].is_object()) {
        return make_error("%s.function.parameters.properties must be an object", at.c_str());
      }
    }
  }
  return {};
}

}  // namespace folio::api
