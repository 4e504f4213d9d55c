#include "server/tool_calls.h"

#include <algorithm>

#include "base/strings.h"

namespace folio::api {

using nlohmann::json;

namespace {

// Where a tool name starts in buf and ends; none while buf ends with a
// proper prefix of a name (wait for more: "get" of "get_weather").
bool find_tool(const std::vector<std::string>& names, const std::string& buf, std::string* name, size_t* end) {
  if (buf.empty()) return false;
  size_t longest = 0;
  for (const auto& n : names) longest = std::max(longest, n.size());
  for (size_t i = 1; i <= std::min(buf.size(), longest); ++i) {
    const std::string_view tail(buf.data() + buf.size() - i, i);
    for (const auto& n : names) {
      if (tail.size() < n.size() && n.compare(0, tail.size(), tail) == 0) return false;
    }
  }
  size_t best = std::string::npos;
  for (const auto& n : names) {
    if (n.empty()) continue;
    const size_t pos = buf.find(n);
    if (pos == std::string::npos) continue;
    if (best != std::string::npos && (pos > best || (pos == best && n.size() <= name->size()))) continue;
    best = pos;
    *name = n;
    *end = pos + n.size();
  }
  return best != std::string::npos;
}

// obj[key] as an arguments object: an object, or a string holding one.
bool arguments_at(const json& obj, const std::string& key, json* out) {
  if (!obj.contains(key)) return false;
  const json& v = obj[key];
  if (v.is_object()) {
    *out = v;
    return true;
  }
  if (v.is_string()) {
    json parsed = json::parse(v.get<std::string>(), nullptr, false);
    if (parsed.is_object()) {
      *out = parsed;
      return true;
    }
  }
  return false;
}

// The arguments for tool inside obj: {"name", "arguments"|"parameters"},
// {"<tool>": {...}}, or the same nested. *found says whether obj settled
// it (an object with a "name" but no arguments settles it as none).
bool find_object(const json& obj, const std::string& tool, json* args, int depth = 0) {
  if (depth > 32) return false;
  if (obj.contains("name")) {
    if (arguments_at(obj, "arguments", args) || arguments_at(obj, "parameters", args)) return true;
    *args = nullptr;
    return true;
  }
  if (arguments_at(obj, tool, args)) return true;
  for (const auto& [k, v] : obj.items()) {
    if (v.is_object() && find_object(v, tool, args, depth + 1)) return true;
    if (v.is_array()) {
      for (const auto& item : v) {
        if (item.is_object() && find_object(item, tool, args, depth + 1)) return true;
      }
    }
  }
  return false;
}

// The first JSON object in buf that gives tool's arguments (else the
// object itself), and the end of it.
bool find_arguments(const std::string& tool, const std::string& buf, json* args, size_t* end) {
  size_t start = std::string::npos;
  int braces = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < buf.size(); ++i) {
    const char c = buf[i];
    if (escaped) {
      escaped = false;
      continue;
    }
    if (c == '\\') {
      escaped = true;
      continue;
    }
    if (c == '"') {
      in_string = !in_string;
      continue;
    }
    if (in_string) continue;
    if (c == '{') {
      if (braces++ == 0) start = i;
    } else if (c == '}') {
      if (--braces == 0 && start != std::string::npos) {
        const json data = json::parse(buf.substr(start, i + 1 - start), nullptr, false);
        if (!data.is_object()) {
          start = std::string::npos;
          continue;
        }
        *end = i + 1;
        if (find_object(data, tool, args)) return !args->is_null();
        *args = data;
        return true;
      }
      braces = std::max(braces, 0);
    }
  }
  return false;
}

}  // namespace

std::vector<std::string> ToolCallParser::names_of(const json& tools) {
  std::vector<std::string> names;
  if (!tools.is_array()) return names;
  for (const auto& t : tools) {
    if (!t.is_object() || !t.contains("function") || !t["function"].is_object()) continue;
    const json& fn = t["function"];
    if (fn.contains("name") && fn["name"].is_string()) names.push_back(fn["name"].get<std::string>());
  }
  return names;
}

std::pair<size_t, bool> ToolCallParser::find_tag() const {
  if (const size_t at = buffer_.find(tag_); at != std::string::npos) return {at, true};
  // A tag that may be starting at the end of the buffer.
  for (size_t i = std::min(buffer_.size(), tag_.size()); i > 0; --i) {
    if (buffer_.compare(buffer_.size() - i, i, tag_, 0, i) == 0) return {buffer_.size() - i, false};
  }
  return {std::string::npos, false};
}

bool ToolCallParser::parse_call(ToolCall* out) {
  std::string name;
  size_t end = 0;
  if (!find_tool(names_, buffer_, &name, &end)) return false;
  json args;
  size_t args_end = 0;
  if (!find_arguments(name, buffer_, &args, &args_end)) return false;
  out->name = name;
  out->arguments = args;
  out->index = n_++;
  buffer_.erase(0, std::max(end, args_end));
  return true;
}

bool ToolCallParser::balanced_end() const {
  if (!bare()) return false;
  const char open = tag_[0], close = open == '{' ? '}' : ']';
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : buffer_) {
    if (escaped) {
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else if (c == '"') {
      in_string = !in_string;
    } else if (!in_string && c == open) {
      ++depth;
    } else if (!in_string && c == close && --depth == 0) {
      return true;
    }
  }
  return false;
}

std::pair<std::vector<ToolCall>, std::string> ToolCallParser::add(std::string_view text) {
  std::pair<std::vector<ToolCall>, std::string> out;
  if (state_ == State::kDone) {
    out.second = std::string(text);
    return out;
  }
  buffer_.append(text);
  if (state_ == State::kLookingForTag) {
    const auto [at, found] = find_tag();
    if (at == std::string::npos) {
      out.second = std::move(buffer_);
      buffer_.clear();
    } else {
      out.second = buffer_.substr(0, at);
      buffer_.erase(0, at);
    }
    // A bare "{" or "[" only counts as the start of the answer.
    if (bare() && !trim_space(out.second).empty()) {
      state_ = State::kDone;
      out.second += buffer_;
      buffer_.clear();
      return out;
    }
    if (!found) return out;
    state_ = State::kCalling;
  }
  for (ToolCall call; parse_call(&call);) out.first.push_back(call);
  if (balanced_end()) {
    state_ = State::kDone;
    out.second += buffer_;
    buffer_.clear();
  }
  return out;
}

std::string ToolCallParser::content() const {
  if (n_ > 0 || !bare()) return "";
  return buffer_;
}

}  // namespace folio::api
