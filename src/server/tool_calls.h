// Tool calls in a model's output (ref: ollama tools/tools.go): text is fed
// as it is generated; what precedes the template's tool-call tag is content
// for the user, what follows is searched for calls of the request's tools:
// a tool's name and a JSON object of its arguments ({"name": ...,
// "arguments"|"parameters": {...}}, arguments given as a JSON string, or
// {"<tool>": {...}}). With the bare "{" or "[" tag only output that starts
// with it can be a call, and a balanced object or list that holds none is
// handed back as content.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace folio::api {

struct ToolCall {
  std::string name;
  nlohmann::json arguments = nlohmann::json::object();
  int index = 0;  // order among this answer's calls
};

class ToolCallParser {
 public:
  ToolCallParser(std::string tag, std::vector<std::string> tool_names)
      : tag_(std::move(tag)), names_(std::move(tool_names)) {}

  // Feeds generated text: the calls it completes and the content to show.
  std::pair<std::vector<ToolCall>, std::string> add(std::string_view text);
  // At the end: held-back text that turned out not to be a call.
  std::string content() const;

  // The tool names of a request's "tools" list.
  static std::vector<std::string> names_of(const nlohmann::json& tools);

 private:
  enum class State { kLookingForTag, kCalling, kDone };
  bool bare() const { return tag_ == "{" || tag_ == "["; }
  std::pair<size_t, bool> find_tag() const;   // (start or npos, complete)
  bool parse_call(ToolCall* out);
  bool balanced_end() const;                  // bare tags: the object/list closed

  std::string tag_;
  std::vector<std::string> names_;
  State state_ = State::kLookingForTag;
  std::string buffer_;
  int n_ = 0;
};

}  // namespace folio::api
