// OpenAI-compatible API over the Ollama one, as Ollama's openai middleware
// does it: an OpenAI request becomes an /api/chat, /api/generate or
// /api/embed request; the answers (and streamed chunks) are rewritten into
// OpenAI's shapes. Pure functions of JSON, tested without sockets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "server/api.h"

namespace folio::api::openai {

// OpenAI's error body: {"error": {"message", "type", "param", "code"}};
// type from the status (invalid_request_error, not_found_error, api_error).
nlohmann::json error_body(int status, const std::string& message);
// An Ollama-shaped Reply error rewritten into OpenAI's shape.
Reply error_reply(const Reply& r);

// Request conversion; errors are the client's (400).
Result<nlohmann::json> chat_request(const nlohmann::json& r);        // -> /api/chat
Result<nlohmann::json> completion_request(const nlohmann::json& r);  // -> /api/generate
Result<nlohmann::json> embed_request(const nlohmann::json& r);       // -> /api/embed

// A fresh id: "chatcmpl-..." / "cmpl-...".
std::string new_id(const std::string& prefix);

// Non-streamed answers from the final Ollama object.
nlohmann::json chat_completion(const std::string& id, const nlohmann::json& final);
nlohmann::json completion(const std::string& id, const nlohmann::json& final);
// The embed reply as an OpenAI list (encoding_format "float" or "base64").
nlohmann::json embedding_list(const std::string& model, const nlohmann::json& embed_reply,
                              const std::string& encoding_format);
// GET /v1/models from /api/tags' models; one entry for /v1/models/{id}.
nlohmann::json model_list(const nlohmann::json& tags_models);
nlohmann::json model_entry(const std::string& id, int64_t created);

// Server-sent events for a streamed answer: each Ollama object in, the
// "data: ...\n\n" events out; the final object also brings the finish
// chunk, the usage chunk when asked (stream_options.include_usage) and
// "data: [DONE]".
class Stream {
 public:
  enum class Kind { kChat, kCompletion };
  Stream(Kind kind, std::string id, bool include_usage) : kind_(kind), id_(std::move(id)), usage_(include_usage) {}
  std::vector<std::string> events(const nlohmann::json& ollama);

 private:
  nlohmann::json chunk(const nlohmann::json& ollama) const;
  Kind kind_;
  std::string id_;
  bool usage_;
  bool first_ = true;
  bool tool_calls_ = false;  // a chunk carried tool calls: finish_reason "tool_calls"
  int64_t created_ = 0;
};

}  // namespace folio::api::openai
