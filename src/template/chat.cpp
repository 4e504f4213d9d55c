#include "template/chat.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "base/strings.h"
#include "template/exec.h"
#include "template/value.h"

namespace folio::tmpl {

namespace {

using nlohmann::json;

Entry field(std::string name, Value v, std::string json_name = "", bool omitempty = false) {
  return Entry{std::move(name), std::move(json_name), omitempty, std::move(v)};
}

// j[key] when j is an object that has it, else null: a request's tools
// may have any shape, and a missing or odd field renders as Go's zero value.
const json& member(const json& j, const char* key) {
  static const json null;
  if (!j.is_object()) return null;
  const auto it = j.find(key);
  return it == j.end() ? null : *it;
}

std::string text_member(const json& j, const char* key) {
  const json& v = member(j, key);
  return v.is_string() ? v.get<std::string>() : "";
}

Value any_value(const json& j) {
  auto v = value_from_json(j.dump());
  return v.ok() ? *v : Value();
}

// api.PropertyType: one type prints and marshals as a string, several as a list.
Value property_type(const json& j) {
  std::vector<std::string> types;
  if (j.is_string()) types.push_back(j.get<std::string>());
  if (j.is_array()) {
    for (const auto& t : j) {
      if (t.is_string()) types.push_back(t.get<std::string>());
    }
  }
  std::vector<Value> items;
  for (const auto& t : types) items.push_back(Value::string(t));
  Value v = types.empty() ? Value::nil_list() : Value::list(items);
  std::string printed = types.size() == 1 ? types[0] : "";
  if (types.size() > 1) {
    printed = "[";
    for (size_t i = 0; i < types.size(); ++i) printed += (i ? " " : "") + types[i];
    printed += "]";
  }
  std::string marshaled = types.size() == 1 ? json_quote(types[0]) : v.json();
  return v.with_string(printed).with_json(marshaled);
}

Value string_list(const json& j) {
  if (!j.is_array()) return Value::nil_list();
  std::vector<Value> items;
  for (const auto& s : j) items.push_back(Value::string(s.is_string() ? s.get<std::string>() : s.dump()));
  return Value::list(items);
}

Value tool_properties(const json& props);

// api.ToolProperty, with its json tags.
Value tool_property(const json& p) {
  std::vector<Value> any_of;
  if (member(p, "anyOf").is_array()) {
    for (const auto& x : p["anyOf"]) any_of.push_back(tool_property(x));
  }
  std::vector<Entry> f;
  f.push_back(field("AnyOf", any_of.empty() ? Value::nil_list() : Value::list(any_of), "anyOf", true));
  f.push_back(field("Type", property_type(member(p, "type")), "type", true));
  f.push_back(field("Items", any_value(member(p, "items")), "items", true));
  f.push_back(field("Description", Value::string(text_member(p, "description")),
                    "description", true));
  f.push_back(field("Enum", !member(p, "enum").is_null() ? any_value(p["enum"]) : Value::nil_list(), "enum", true));
  f.push_back(field("Properties", !member(p, "properties").is_null() ? tool_properties(p["properties"]) : Value(), "properties", true));
  f.push_back(field("Required", string_list(member(p, "required")), "required", true));
  return Value::structure(std::move(f));
}

// templateProperties: a map of ToolProperty that prints as its JSON.
Value tool_properties(const json& props) {
  if (!props.is_object()) return Value::nil_map().with_string("{}");
  std::vector<std::pair<std::string, Value>> items;
  for (const auto& [k, v] : props.items()) items.emplace_back(k, tool_property(v));
  Value m = Value::map(std::move(items));
  return m.with_string(m.json());
}

// templateTools: Ollama's template view of the request's tools.
Value tools_value(const std::string& tools_json) {
  if (tools_json.empty()) return Value::nil_list().with_string("null");
  const json tools = json::parse(tools_json, nullptr, false);
  if (!tools.is_array()) return Value::nil_list().with_string("null");
  std::vector<Value> out;
  for (const auto& t : tools) {
    const json& fn = member(t, "function");
    const json& params = member(fn, "parameters");
    std::vector<Entry> pf;
    pf.push_back(field("Type", Value::string(text_member(params, "type")), "type"));
    pf.push_back(field("Defs", any_value(member(params, "$defs")), "$defs", true));
    pf.push_back(field("Items", any_value(member(params, "items")), "items", true));
    pf.push_back(field("Required", string_list(member(params, "required")), "required", true));
    pf.push_back(field("Properties", tool_properties(member(params, "properties")), "properties"));
    std::vector<Entry> ff;
    ff.push_back(field("Name", Value::string(text_member(fn, "name")), "name"));
    ff.push_back(field("Description",
                       Value::string(text_member(fn, "description")),
                       "description"));
    ff.push_back(field("Parameters", Value::structure(std::move(pf)), "parameters"));
    std::vector<Entry> tf;
    tf.push_back(field("Type", Value::string(text_member(t, "type")), "type"));
    tf.push_back(field("Items", any_value(member(t, "items")), "items", true));
    tf.push_back(field("Function", Value::structure(std::move(ff)), "function"));
    Value tool = Value::structure(std::move(tf));
    out.push_back(tool.with_string(tool.json()));
  }
  Value list = Value::list(out);
  return list.with_string(list.json());
}

// templateMessage (no json tags: JSON keys are the Go names).
Value message_value(const Message& m) {
  std::vector<Value> calls;
  for (const ToolCall& c : m.tool_calls) {
    auto args = value_from_json(c.arguments_json);
    Value a = args.ok() && args->kind() == Value::Kind::kMap ? *args : Value::nil_map();
    a = a.with_string(a.is_nil() ? "{}" : a.json());
    std::vector<Entry> fn{field("Index", Value::integer(c.index)), field("Name", Value::string(c.name)),
                          field("Arguments", a)};
    calls.push_back(Value::structure({field("ID", Value::string(c.id)), field("Function", Value::structure(std::move(fn)))}));
  }
  return Value::structure({field("Role", Value::string(m.role)), field("Content", Value::string(m.content)),
                           field("Thinking", Value::string(m.thinking)), field("Images", Value::nil_list()),
                           field("ToolCalls", calls.empty() ? Value::nil_list() : Value::list(calls)),
                           field("ToolName", Value::string(m.tool_name)),
                           field("ToolCallID", Value::string(m.tool_call_id))});
}

// Consecutive messages of one role merged (except tool results); system
// messages also joined into the returned system text.
std::vector<Message> collate(const std::vector<Message>& msgs, std::string* system) {
  std::vector<std::string> sys;
  std::vector<Message> out;
  for (const Message& m : msgs) {
    if (m.role == "system") sys.push_back(m.content);
    if (!out.empty() && out.back().role == m.role && m.role != "tool") {
      out.back().content += "\n\n" + m.content;
    } else {
      out.push_back(m);
    }
  }
  system->clear();
  for (size_t i = 0; i < sys.size(); ++i) *system += (i ? "\n\n" : "") + sys[i];
  return out;
}

Value top(std::vector<std::pair<std::string, Value>> fields, const ChatValues& v) {
  fields.emplace_back("Think", Value::boolean(v.think));
  fields.emplace_back("ThinkLevel", Value::string(v.think_level));
  fields.emplace_back("IsThinkSet", Value::boolean(v.is_think_set));
  return Value::map(std::move(fields));
}

}  // namespace

Result<ChatTemplate> ChatTemplate::parse(std::string_view text) {
  ChatTemplate t;
  t.raw_ = std::string(text);
  FOLIO_ASSIGN_OR_RETURN(t.root_, parse_template(text));
  const std::vector<std::string> v = t.vars();
  if (std::find(v.begin(), v.end(), "messages") == v.end() && std::find(v.begin(), v.end(), "response") == v.end()) {
    // {{ .Response }} appended, as Ollama touches up such templates.
    auto action = std::make_shared<Node>();
    action->type = Node::Type::kAction;
    action->pipe = std::make_shared<Node>();
    action->pipe->type = Node::Type::kPipe;
    auto cmd = std::make_shared<Node>();
    cmd->type = Node::Type::kCommand;
    auto fieldnode = std::make_shared<Node>();
    fieldnode->type = Node::Type::kField;
    fieldnode->ident = {"Response"};
    cmd->nodes.push_back(fieldnode);
    action->pipe->nodes.push_back(cmd);
    t.root_->nodes.push_back(action);
  }
  return t;
}

std::vector<std::string> ChatTemplate::vars() const {
  std::set<std::string> set;
  for (const std::string& id : identifiers(*root_)) set.insert(to_lower(id));
  return {set.begin(), set.end()};
}

Result<std::string> ChatTemplate::render(const ChatValues& v) const {
  std::string system;
  const std::vector<Message> messages = collate(v.messages, &system);
  const std::vector<std::string> vs = vars();
  if (!v.prompt.empty() && !v.suffix.empty()) {
    return execute(*root_, top({{"Prompt", Value::string(v.prompt)},
                                {"Suffix", Value::string(v.suffix)},
                                {"Response", Value::string("")}},
                               v));
  }
  if (std::find(vs.begin(), vs.end(), "messages") != vs.end()) {
    std::vector<Value> msgs;
    for (const Message& m : messages) msgs.push_back(message_value(m));
    return execute(*root_, top({{"System", Value::string(system)},
                                {"Messages", messages.empty() ? Value::nil_list() : Value::list(msgs)},
                                {"Tools", tools_value(v.tools_json)},
                                {"Response", Value::string("")}},
                               v));
  }
  // A .Prompt/.Response template: one render per exchange.
  system.clear();
  std::string out, prompt, response;
  const auto turn = [&](const Node& root) -> Result<void> {
    FOLIO_ASSIGN_OR_RETURN(std::string s, execute(root, top({{"System", Value::string(system)},
                                                            {"Prompt", Value::string(prompt)},
                                                            {"Response", Value::string(response)}},
                                                           v)));
    out += s;
    system.clear();
    prompt.clear();
    response.clear();
    return {};
  };
  for (const Message& m : messages) {
    if (m.role == "system") {
      if (!prompt.empty() || !response.empty()) FOLIO_TRY(turn(*root_));
      system = m.content;
    } else if (m.role == "user") {
      if (!response.empty()) FOLIO_TRY(turn(*root_));
      prompt = m.content;
    } else if (m.role == "assistant") {
      response = m.content;
    }
  }
  const NodePtr last = cut_after_response(*root_);
  FOLIO_TRY(turn(*last));
  return out;
}

}  // namespace folio::tmpl
