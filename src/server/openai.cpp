// (ref: ollama openai/openai.go and middleware/openai.go)
#include "server/openai.h"

#include <openssl/evp.h>

#include <chrono>
#include <cstring>
#include <random>

#include "store/name.h"

namespace folio::api::openai {

using nlohmann::json;

namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

json usage_of(const json& final) {
  const int64_t p = final.value("prompt_eval_count", int64_t{0}), e = final.value("eval_count", int64_t{0});
  return {{"prompt_tokens", p}, {"completion_tokens", e}, {"total_tokens", p + e}};
}

json finish_reason(const json& final, bool tool_calls = false) {
  const std::string r = final.value("done_reason", "");
  if (r == "stop" && tool_calls) return "tool_calls";
  return r.empty() ? json(nullptr) : json(r);
}

// Ollama's message.tool_calls as OpenAI's: arguments as a JSON string.
json openai_tool_calls(const json& calls) {
  json out = json::array();
  for (const auto& c : calls) {
    const json& fn = c["function"];
    out.push_back({{"id", c.value("id", "")},
                   {"index", fn.value("index", 0)},
                   {"type", "function"},
                   {"function", {{"name", fn.value("name", "")}, {"arguments", fn.value("arguments", json::object()).dump()}}}});
  }
  return out;
}

// Ollama's logprobs as OpenAI's choice.logprobs ({"content": [...]}), or
// null.
json choice_logprobs(const json& o) {
  if (!o.contains("logprobs")) return nullptr;
  return {{"content", o["logprobs"]}};
}

const json& message_tool_calls(const json& o) {
  static const json none = json::array();
  if (o.contains("message") && o["message"].is_object() && o["message"].contains("tool_calls")) return o["message"]["tool_calls"];
  return none;
}

// stop: a string or a list of strings; other values are the client's error.
Result<void> put_stop(const json& r, json& options) {
  if (!r.contains("stop") || r["stop"].is_null()) return {};
  const json& s = r["stop"];
  if (s.is_string()) {
    options["stop"] = json::array({s});
    return {};
  }
  if (!s.is_array()) return make_error("invalid type for 'stop' field: expected a string or a list of strings");
  json stops = json::array();
  for (const auto& x : s) {
    if (!x.is_string()) return make_error("invalid type for 'stop' field: expected a string or a list of strings");
    stops.push_back(x);
  }
  options["stop"] = stops;
  return {};
}

// The sampling fields both requests share, with OpenAI's defaults for
// temperature and top_p (1.0) where the request has none.
Result<json> options_of(const json& r) {
  json o = json::object();
  FOLIO_TRY(put_stop(r, o));
  const auto number = [&](const char* field, const char* option) -> Result<void> {
    if (!r.contains(field) || r[field].is_null()) return {};
    if (!r[field].is_number()) return make_error("invalid type for '%s': expected a number", field);
    o[option] = r[field];
    return {};
  };
  // max_completion_tokens is the newer name of max_tokens.
  FOLIO_TRY(number("max_tokens", "num_predict"));
  FOLIO_TRY(number("max_completion_tokens", "num_predict"));
  FOLIO_TRY(number("temperature", "temperature"));
  FOLIO_TRY(number("seed", "seed"));
  FOLIO_TRY(number("frequency_penalty", "frequency_penalty"));
  FOLIO_TRY(number("presence_penalty", "presence_penalty"));
  FOLIO_TRY(number("top_p", "top_p"));
  if (!o.contains("temperature")) o["temperature"] = 1.0;
  if (!o.contains("top_p")) o["top_p"] = 1.0;
  return o;
}

Result<bool> stream_of(const json& r) {
  if (!r.contains("stream") || r["stream"].is_null()) return false;  // OpenAI's default
  if (!r["stream"].is_boolean()) return make_error("invalid type for 'stream': expected true or false");
  return r["stream"].get<bool>();
}

std::string base64_floats(const json& values) {
  std::vector<float> f;
  for (const auto& v : values) f.push_back(v.get<float>());
  std::vector<unsigned char> bytes(f.size() * 4);
  std::memcpy(bytes.data(), f.data(), bytes.size());  // little-endian on x86-64, as OpenAI's clients read it
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

json error_body(int status, const std::string& message) {
  const char* type = status == 400 ? "invalid_request_error" : status == 404 ? "not_found_error" : "api_error";
  return {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}};
}

Reply error_reply(const Reply& r) {
  std::string message = "error";
  if (r.body.is_object() && r.body.contains("error") && r.body["error"].is_string()) message = r.body["error"];
  return {r.status, error_body(r.status, message)};
}

Result<json> chat_request(const json& r) {
  if (!r.contains("messages") || !r["messages"].is_array()) return make_error("'messages' is required and must be a list");
  if (r["messages"].empty()) return make_error("[] is too short - 'messages'");
  json messages = json::array();
  for (const auto& m : r["messages"]) {
    if (!m.is_object()) return make_error("invalid message format");
    const std::string role = m.value("role", json("")).is_string() ? m.value("role", "") : "";
    json base = {{"role", role}};
    if (m.contains("tool_calls") && m["tool_calls"].is_array()) {
      json calls = json::array();
      for (const auto& c : m["tool_calls"]) {
        if (!c.is_object()) return make_error("invalid tool call: expected an object");
        json fn = c.value("function", json::object());
        json args = json::object();
        if (fn.contains("arguments") && fn["arguments"].is_string()) {
          args = json::parse(fn["arguments"].get<std::string>(), nullptr, false);
          if (args.is_discarded()) return make_error("invalid tool call arguments: not JSON");
        }
        FOLIO_ASSIGN_OR_RETURN(std::string id, string_field(c, "id"));
        FOLIO_ASSIGN_OR_RETURN(std::string name, string_field(fn, "name"));
        calls.push_back({{"id", id}, {"function", {{"name", name}, {"arguments", args}}}});
      }
      base["tool_calls"] = calls;
    }
    if (m.contains("tool_call_id") && m["tool_call_id"].is_string()) base["tool_call_id"] = m["tool_call_id"];
    if (role == "tool" && m.contains("name") && m["name"].is_string()) base["tool_name"] = m["name"];
    if (m.contains("reasoning") && m["reasoning"].is_string()) base["thinking"] = m["reasoning"];
    const json content = m.value("content", json());
    if (content.is_string()) {
      base["content"] = content;
      messages.push_back(base);
    } else if (content.is_array()) {
      // Parts: each text part becomes a message of the same role.
      for (const auto& part : content) {
        FOLIO_ASSIGN_OR_RETURN(std::string type, string_field(part, "type"));
        if (type == "image_url") return make_error("this model does not support images");
        if (type != "text" || !part.contains("text") || !part["text"].is_string()) {
          return make_error("invalid message format: a content part needs type \"text\" and a text string");
        }
        json msg = {{"role", role}, {"content", part["text"]}};
        messages.push_back(msg);
      }
      if (!messages.empty() && base.contains("tool_calls")) messages.back()["tool_calls"] = base["tool_calls"];
    } else if (content.is_null() && base.contains("tool_calls")) {
      base["content"] = "";
      messages.push_back(base);
    } else {
      return make_error("invalid message content type: expected a string or a list of parts");
    }
  }
  FOLIO_ASSIGN_OR_RETURN(json options, options_of(r));
  FOLIO_ASSIGN_OR_RETURN(bool stream, stream_of(r));
  json out = {{"model", r.value("model", json(""))}, {"messages", messages}, {"options", options}, {"stream", stream}};
  if (r.contains("tools") && r["tools"].is_array()) out["tools"] = r["tools"];
  if (r.contains("response_format") && r["response_format"].is_object()) {
    FOLIO_ASSIGN_OR_RETURN(std::string type, string_field(r["response_format"], "type"));
    if (type == "json_object") out["format"] = "json";
    if (type == "json_schema" && r["response_format"].contains("json_schema") && r["response_format"]["json_schema"].is_object()) {
      out["format"] = r["response_format"]["json_schema"].value("schema", json::object());
    }
  }
  if (r.contains("logprobs") && r["logprobs"].is_boolean()) out["logprobs"] = r["logprobs"];
  if (r.contains("top_logprobs") && r["top_logprobs"].is_number_integer()) out["top_logprobs"] = r["top_logprobs"];
  return out;
}

Result<json> completion_request(const json& r) {
  if (r.contains("prompt") && !r["prompt"].is_null() && !r["prompt"].is_string()) {
    return make_error("invalid type for 'prompt': folio takes one prompt string");
  }
  FOLIO_ASSIGN_OR_RETURN(json options, options_of(r));
  FOLIO_ASSIGN_OR_RETURN(bool stream, stream_of(r));
  json out = {{"model", r.value("model", json(""))}, {"prompt", r.value("prompt", json(""))}, {"options", options},
              {"stream", stream}};
  if (r.contains("suffix") && r["suffix"].is_string()) out["suffix"] = r["suffix"];
  if (r.contains("logprobs") && r["logprobs"].is_number_integer() && r["logprobs"].get<int>() > 0) {
    out["logprobs"] = true;
    out["top_logprobs"] = r["logprobs"];
  }
  return out;
}

Result<json> embed_request(const json& r) {
  if (!r.contains("input") || r["input"].is_null()) return make_error("invalid input");
  const json& in = r["input"];
  if (in.is_array() && in.empty()) return make_error("invalid input");
  if (!in.is_string() && !in.is_array()) return make_error("invalid input");
  json out = {{"model", r.value("model", json(""))}, {"input", in}};
  if (r.contains("dimensions") && r["dimensions"].is_number_integer()) out["dimensions"] = r["dimensions"];
  return out;
}

std::string new_id(const std::string& prefix) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return prefix + "-" + std::to_string(rng() % 1000);
}

json chat_completion(const std::string& id, const json& final) {
  json message = {{"role", "assistant"}, {"content", final.value("message", json::object()).value("content", "")}};
  const json& calls = message_tool_calls(final);
  if (!calls.empty()) message["tool_calls"] = openai_tool_calls(calls);
  return {{"id", id},
          {"object", "chat.completion"},
          {"created", unix_now()},
          {"model", final.value("model", "")},
          {"system_fingerprint", "fp_ollama"},
          {"choices", json::array({{{"index", 0}, {"message", message}, {"finish_reason", finish_reason(final, !calls.empty())},
                                    {"logprobs", choice_logprobs(final)}}})},
          {"usage", usage_of(final)}};
}

json completion(const std::string& id, const json& final) {
  return {{"id", id},
          {"object", "text_completion"},
          {"created", unix_now()},
          {"model", final.value("model", "")},
          {"system_fingerprint", "fp_ollama"},
          {"choices", json::array({{{"text", final.value("response", "")}, {"index", 0}, {"finish_reason", finish_reason(final)},
                                    {"logprobs", choice_logprobs(final)}}})},
          {"usage", usage_of(final)}};
}

json embedding_list(const std::string& model, const json& reply, const std::string& encoding_format) {
  json data = json::array();
  int index = 0;
  for (const auto& e : reply.value("embeddings", json::array())) {
    const bool b64 = encoding_format == "base64" || encoding_format == "BASE64";
    data.push_back({{"object", "embedding"}, {"embedding", b64 ? json(base64_floats(e)) : e}, {"index", index++}});
  }
  const int64_t tokens = reply.value("prompt_eval_count", int64_t{0});
  return {{"object", "list"}, {"data", data}, {"model", model}, {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
}

json model_entry(const std::string& id, int64_t created) {
  std::string owner = "library";
  if (auto n = parse_model_name(id); n.ok()) owner = n->ns;
  return {{"id", id}, {"object", "model"}, {"created", created}, {"owned_by", owner}};
}

json model_list(const json& tags_models) {
  json data = json::array();
  for (const auto& m : tags_models) {
    // modified_at is RFC 3339; created wants Unix seconds.
    std::tm tm{};
    const std::string t = m.value("modified_at", "");
    int64_t created = 0;
    if (strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr) created = timegm(&tm);
    data.push_back(model_entry(m.value("model", m.value("name", "")), created));
  }
  return {{"object", "list"}, {"data", data}};
}

json Stream::chunk(const json& o) const {
  json c = {{"id", id_}, {"object", kind_ == Kind::kChat ? "chat.completion.chunk" : "text_completion"},
            {"created", created_}, {"model", o.value("model", "")}, {"system_fingerprint", "fp_ollama"}};
  return c;
}

std::vector<std::string> Stream::events(const json& o) {
  const auto event = [](const json& j) { return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n"; };
  std::vector<std::string> out;
  if (o.contains("error")) {
    out.push_back(event(error_body(500, o["error"].is_string() ? o["error"].get<std::string>() : "error")));
    out.push_back("data: [DONE]\n\n");
    return out;
  }
  if (created_ == 0) created_ = unix_now();
  const bool done = o.value("done", false);
  if (kind_ == Kind::kChat) {
    const std::string content = o.value("message", json::object()).value("content", "");
    const json& calls = message_tool_calls(o);
    // The final object of a stream carries no text: OpenAI goes from the
    // last content chunk to the finish chunk (unless nothing came at all).
    if (!done || first_ || !content.empty() || !calls.empty() || o.contains("logprobs")) {
      json c = chunk(o);
      json delta = {{"content", content}};
      if (first_) delta = {{"role", "assistant"}, {"content", content}};
      if (!calls.empty()) {
        delta["tool_calls"] = openai_tool_calls(calls);
        tool_calls_ = true;
      }
      c["choices"] = json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", nullptr}}});
      if (o.contains("logprobs")) c["choices"][0]["logprobs"] = choice_logprobs(o);
      out.push_back(event(c));
      first_ = false;
    }
    if (done) {
      json f = chunk(o);
      std::string reason = o.value("done_reason", "stop");
      if (reason == "stop" && tool_calls_) reason = "tool_calls";
      f["choices"] = json::array({{{"index", 0}, {"delta", json::object()}, {"finish_reason", reason}}});
      out.push_back(event(f));
      if (usage_) {
        f["choices"] = json::array();
        f["usage"] = usage_of(o);
        out.push_back(event(f));
      }
      out.push_back("data: [DONE]\n\n");
    }
    return out;
  }
  json c = chunk(o);
  c["choices"] = json::array({{{"text", o.value("response", "")}, {"index", 0},
                               {"finish_reason", done ? finish_reason(o) : json(nullptr)}, {"logprobs", choice_logprobs(o)}}});
  if (usage_) c["usage"] = nullptr;
  out.push_back(event(c));
  if (done) {
    if (usage_) {
      c["choices"] = json::array();
      c["usage"] = usage_of(o);
      out.push_back(event(c));
    }
    out.push_back("data: [DONE]\n\n");
  }
  return out;
}

}  // namespace folio::api::openai
