// Prompt rendering as Ollama's template package does it (template.Parse and
// Template.Execute): a template that uses neither .Messages nor .Response
// gets {{ .Response }} appended; messages are collated (consecutive turns of
// one role merged, system messages joined into .System); a template with
// .Messages renders the whole conversation at once, an older
// .Prompt/.Response template renders turn by turn and the last turn stops
// at {{ .Response }}.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "template/parse.h"

namespace folio::tmpl {

struct ToolCall {
  std::string id;
  int index = 0;
  std::string name;
  std::string arguments_json = "{}";  // a JSON object
};

struct Message {
  Message() = default;
  Message(std::string r, std::string c) : role(std::move(r)), content(std::move(c)) {}
  std::string role;  // system, user, assistant, tool
  std::string content;
  std::string thinking;
  std::vector<ToolCall> tool_calls;
  std::string tool_name, tool_call_id;
};

struct ChatValues {
  std::vector<Message> messages;
  std::string tools_json;  // the request's tools (a JSON array), "" if none
  std::string prompt, suffix;
  bool think = false;
  std::string think_level;
  bool is_think_set = false;
};

class ChatTemplate {
 public:
  // Errors name the line and what is wrong.
  static Result<ChatTemplate> parse(std::string_view text);
  Result<std::string> render(const ChatValues& v) const;
  // Lower-cased field and variable names, sorted, unique (Ollama's Vars).
  std::vector<std::string> vars() const;
  const std::string& text() const { return raw_; }
  // What marks a tool call in the model's output (Ollama's parseTag): the
  // first text inside the template's {{if .ToolCalls}} block, up to any
  // "{" and trimmed ("<tool_call>", "[TOOL_CALLS] ["); "{" when there is
  // none (tool calls are bare JSON objects).
  std::string tool_call_tag() const;

 private:
  NodePtr root_;
  std::string raw_;
};

}  // namespace folio::tmpl
