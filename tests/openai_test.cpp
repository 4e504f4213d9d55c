// The OpenAI-compatible routes end to end against a `folio serve` child
// (the stories model in an Ollama-layout store, as in inference_test.cpp).
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <sstream>

#include "ollama_store.h"
#include "test_util.h"

namespace folio {
namespace {

using nlohmann::json;
using testing::ServerProcess;

constexpr const char* kStory = ", there was a little girl named ";

struct Http {
  int status = 0;
  std::string body, content_type;
};

Http post(int port, const std::string& path, const json& body) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(300, 0);
  auto res = cli.Post(path.c_str(), body.dump(), "application/json");
  if (!res) return {};
  return {res->status, res->body, res->get_header_value("Content-Type")};
}

// The JSON events of an SSE body; "[DONE]" must be the last event.
std::vector<json> events(const std::string& body, bool* done) {
  std::vector<json> out;
  *done = false;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    EXPECT_EQ(line.rfind("data: ", 0), 0u) << line;
    EXPECT_FALSE(*done) << "an event after [DONE]";
    const std::string data = line.substr(6);
    if (data == "[DONE]") {
      *done = true;
      continue;
    }
    out.push_back(json::parse(data));
  }
  return out;
}

class OpenAI : public ::testing::Test {
 protected:
  testing::OllamaStore store;
};

TEST_F(OpenAI, ChatCompletionsStreamedAndNot) {
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  // temperature 0 explicitly: OpenAI's default (1) overrides the model's.
  json req = {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
              {"temperature", 0}};
  Http r = post(server.port(), "/v1/chat/completions", req);
  ASSERT_EQ(r.status, 200) << r.body;
  json c = json::parse(r.body);
  EXPECT_EQ(c["object"], "chat.completion");
  EXPECT_EQ(c["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(c["model"], "stories");
  EXPECT_GT(c["created"].get<int64_t>(), 1700000000);
  ASSERT_EQ(c["choices"].size(), 1u);
  EXPECT_EQ(c["choices"][0]["index"], 0);
  EXPECT_EQ(c["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(c["choices"][0]["message"]["content"], kStory);
  EXPECT_EQ(c["choices"][0]["finish_reason"], "stop");
  const json& u = c["usage"];
  EXPECT_GT(u["prompt_tokens"].get<int>(), 0);
  EXPECT_GT(u["completion_tokens"].get<int>(), 0);
  EXPECT_EQ(u["total_tokens"], u["prompt_tokens"].get<int>() + u["completion_tokens"].get<int>());

  // Streamed: role first, content deltas, a finish chunk, usage, [DONE].
  req["stream"] = true;
  req["stream_options"] = {{"include_usage", true}};
  r = post(server.port(), "/v1/chat/completions", req);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/event-stream");
  bool done = false;
  std::vector<json> ev = events(r.body, &done);
  EXPECT_TRUE(done);
  ASSERT_GT(ev.size(), 4u);
  EXPECT_EQ(ev[0]["choices"][0]["delta"]["role"], "assistant");
  std::string text;
  for (size_t i = 0; i + 2 < ev.size(); ++i) {
    EXPECT_EQ(ev[i]["object"], "chat.completion.chunk");
    EXPECT_EQ(ev[i]["id"], ev[0]["id"]);
    EXPECT_TRUE(ev[i]["choices"][0]["finish_reason"].is_null());
    text += ev[i]["choices"][0]["delta"]["content"].get<std::string>();
  }
  EXPECT_EQ(text, kStory);
  const json& finish = ev[ev.size() - 2];
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(finish["choices"][0]["delta"], json::object());
  EXPECT_EQ(ev.back()["choices"], json::array());
  EXPECT_EQ(ev.back()["usage"]["completion_tokens"], u["completion_tokens"]);

  // max_tokens ends with "length"; stop strings apply.
  r = post(server.port(), "/v1/chat/completions",
           {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
            {"temperature", 0}, {"max_tokens", 3}, {"stop", json::array()}});
  c = json::parse(r.body);
  EXPECT_EQ(c["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(c["usage"]["completion_tokens"], 3);
  r = post(server.port(), "/v1/chat/completions",
           {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", {{{"type", "text"}, {"text", "Once upon a time"}}}}}}},
            {"temperature", 0}, {"stop", "girl"}});
  c = json::parse(r.body);
  EXPECT_EQ(c["choices"][0]["message"]["content"], ", there was a little ");
}

TEST_F(OpenAI, ResponseFormatJsonSchema) {
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  Http r = post(server.port(), "/v1/chat/completions",
                {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
                 {"temperature", 0}, {"max_tokens", 100},
                 {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "answer"}, {"schema",
                   {{"type", "object"}, {"properties", {{"n", {{"type", "integer"}}}}}, {"required", {"n"}}}}}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json c = json::parse(r.body);
  const json out = json::parse(c["choices"][0]["message"]["content"].get<std::string>(), nullptr, false);
  ASSERT_TRUE(out.is_object()) << c;
  EXPECT_TRUE(out["n"].is_number_integer()) << out;
}

TEST_F(OpenAI, ToolCallsInOpenAIsShape) {
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  const json tool = {{"type", "function"},
                     {"function", {{"name", "get_weather"},
                                   {"parameters", {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}}}}};
  const json schema = {{"type", "object"},
                       {"properties", {{"name", {{"enum", {"get_weather"}}}},
                                       {"arguments", {{"type", "object"},
                                                      {"properties", {{"city", {{"enum", {"Paris", "Oslo"}}}}}},
                                                      {"required", {"city"}}}}}},
                       {"required", {"name", "arguments"}}};
  json req = {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", "Weather in Paris?"}}}},
              {"tools", {tool}}, {"temperature", 0}, {"max_tokens", 100},
              {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "call"}, {"schema", schema}}}}}};
  Http r = post(server.port(), "/v1/chat/completions", req);
  ASSERT_EQ(r.status, 200) << r.body;
  const json c = json::parse(r.body);
  EXPECT_EQ(c["choices"][0]["finish_reason"], "tool_calls");
  const json& call = c["choices"][0]["message"]["tool_calls"][0];
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["function"]["name"], "get_weather");
  ASSERT_TRUE(call["function"]["arguments"].is_string()) << call;  // OpenAI: a JSON string
  const json args = json::parse(call["function"]["arguments"].get<std::string>());
  EXPECT_TRUE(args["city"] == "Paris" || args["city"] == "Oslo") << args;
  req["stream"] = true;
  r = post(server.port(), "/v1/chat/completions", req);
  bool done = false;
  std::vector<json> ev = events(r.body, &done);
  EXPECT_TRUE(done);
  int with_calls = 0;
  for (const json& e : ev) {
    if (!e["choices"].empty() && e["choices"][0]["delta"].contains("tool_calls")) ++with_calls;
  }
  EXPECT_EQ(with_calls, 1);
  EXPECT_EQ(ev.back()["choices"][0]["finish_reason"], "tool_calls");
}

TEST_F(OpenAI, Logprobs) {
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  Http r = post(server.port(), "/v1/chat/completions",
                {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
                 {"temperature", 0}, {"max_tokens", 5}, {"logprobs", true}, {"top_logprobs", 2}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json c = json::parse(r.body);
  const json& content = c["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 5u) << c;
  EXPECT_EQ(content[0]["top_logprobs"].size(), 2u);
  std::string text;
  for (const json& t : content) text += t["token"].get<std::string>();
  EXPECT_EQ(text, c["choices"][0]["message"]["content"]);
  // Without: null, as OpenAI.
  r = post(server.port(), "/v1/chat/completions",
           {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", "Once"}}}}, {"max_tokens", 2}});
  EXPECT_TRUE(json::parse(r.body)["choices"][0]["logprobs"].is_null());
}

TEST_F(OpenAI, CompletionsStreamedAndNot) {
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  json req = {{"model", "stories"}, {"prompt", "Once upon a time"}, {"temperature", 0}};
  Http r = post(server.port(), "/v1/completions", req);
  ASSERT_EQ(r.status, 200) << r.body;
  json c = json::parse(r.body);
  EXPECT_EQ(c["object"], "text_completion");
  EXPECT_EQ(c["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  EXPECT_EQ(c["choices"][0]["text"], kStory);
  EXPECT_EQ(c["choices"][0]["finish_reason"], "stop");
  EXPECT_GT(c["usage"]["total_tokens"].get<int>(), 0);
  req["stream"] = true;
  r = post(server.port(), "/v1/completions", req);
  bool done = false;
  std::vector<json> ev = events(r.body, &done);
  EXPECT_TRUE(done);
  std::string text;
  for (const json& e : ev) text += e["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(text, kStory);
  EXPECT_EQ(ev.back()["choices"][0]["finish_reason"], "stop");
}

TEST_F(OpenAI, ModelsAndEmbeddings) {
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  httplib::Client cli("127.0.0.1", server.port());
  auto res = cli.Get("/v1/models");
  ASSERT_TRUE(res);
  json list = json::parse(res->body);
  EXPECT_EQ(list["object"], "list");
  ASSERT_EQ(list["data"].size(), 1u);
  EXPECT_EQ(list["data"][0]["id"], "stories:latest");
  EXPECT_EQ(list["data"][0]["object"], "model");
  EXPECT_EQ(list["data"][0]["owned_by"], "library");
  EXPECT_GT(list["data"][0]["created"].get<int64_t>(), 1700000000);
  res = cli.Get("/v1/models/stories");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["id"], "stories");
  res = cli.Get("/v1/models/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(json::parse(res->body)["error"]["type"], "not_found_error");

  Http r = post(server.port(), "/v1/embeddings", {{"model", "stories"}, {"input", {"Lily", "Ben"}}});
  ASSERT_EQ(r.status, 200) << r.body;
  json e = json::parse(r.body);
  EXPECT_EQ(e["object"], "list");
  EXPECT_EQ(e["model"], "stories");
  ASSERT_EQ(e["data"].size(), 2u);
  EXPECT_EQ(e["data"][1]["index"], 1);
  EXPECT_EQ(e["data"][0]["object"], "embedding");
  ASSERT_EQ(e["data"][0]["embedding"].size(), 64u);
  EXPECT_GT(e["usage"]["prompt_tokens"].get<int>(), 0);
  // base64: the same floats, little-endian.
  r = post(server.port(), "/v1/embeddings", {{"model", "stories"}, {"input", "Lily"}, {"encoding_format", "base64"}});
  json b = json::parse(r.body);
  const std::string b64 = b["data"][0]["embedding"];
  EXPECT_EQ(b64.size(), 4u * ((64 * 4 + 2) / 3));
  // decode the first float by hand
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint32_t bits = 0;
  for (int i = 0; i < 4; ++i) bits = bits << 6 | static_cast<uint32_t>(alphabet.find(b64[i]));
  const uint8_t bytes[3] = {static_cast<uint8_t>(bits >> 16), static_cast<uint8_t>(bits >> 8), static_cast<uint8_t>(bits)};
  uint32_t partial = bytes[0] | bytes[1] << 8 | bytes[2] << 16;
  float f0 = e["data"][0]["embedding"][0].get<float>();
  uint32_t want = 0;
  std::memcpy(&want, &f0, 4);
  EXPECT_EQ(partial, want & 0xffffffu);
}

TEST_F(OpenAI, ErrorsHaveOpenAIsShape) {
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  Http r = post(server.port(), "/v1/chat/completions",
                {{"model", "nope"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}});
  EXPECT_EQ(r.status, 404);
  json e = json::parse(r.body);
  EXPECT_EQ(e["error"]["message"], "model 'nope' not found");
  EXPECT_EQ(e["error"]["type"], "not_found_error");
  EXPECT_TRUE(e["error"].contains("param"));
  r = post(server.port(), "/v1/chat/completions", {{"model", "stories"}, {"messages", json::array()}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["type"], "invalid_request_error");
  r = post(server.port(), "/v1/chat/completions",
           {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"temperature", "hot"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(json::parse(r.body)["error"]["message"].get<std::string>().find("temperature"), std::string::npos);
  r = post(server.port(), "/v1/embeddings", {{"model", "stories"}, {"input", json::array()}});
  EXPECT_EQ(r.status, 400);
  // Wrong JSON types are 400s that name the field, not server errors.
  r = post(server.port(), "/v1/chat/completions",
           {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"stream", true},
            {"stream_options", {{"include_usage", "yes"}}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(json::parse(r.body)["error"]["message"].get<std::string>().find("include_usage"), std::string::npos);
  r = post(server.port(), "/v1/chat/completions",
           {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", {{{"type", 7}}}}}}}});
  EXPECT_EQ(r.status, 400);
  r = post(server.port(), "/v1/chat/completions",
           {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"response_format", {{"type", 1}}}});
  EXPECT_EQ(r.status, 400);
  r = post(server.port(), "/v1/embeddings", {{"model", "stories"}, {"input", "x"}, {"encoding_format", 2}});
  EXPECT_EQ(r.status, 400);
  httplib::Client cli("127.0.0.1", server.port());
  auto bad = cli.Post("/v1/completions", "{", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["error"]["type"], "invalid_request_error");
}

}  // namespace
}  // namespace folio
