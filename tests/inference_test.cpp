// /api/generate, /api/chat and /api/ps end to end against a `folio serve`
// child: the bundled stories model in an Ollama-layout store (PARAMETER
// temperature 0, stop "Lily"; TEMPLATE {{ .Prompt }}), so answers are
// deterministic and known.
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/sha256.h"
#include "ollama_store.h"
#include "test_util.h"

namespace folio {
namespace {

using nlohmann::json;
using testing::ServerProcess;

constexpr const char* kStory = ", there was a little girl named ";  // up to the stop "Lily"

struct Reply {
  int status = 0;
  json body;                // the object, or the last NDJSON line
  std::vector<json> lines;  // NDJSON lines when streaming
};

Reply post(int port, const std::string& path, const json& body) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(300, 0);
  auto res = cli.Post(path.c_str(), body.dump(), "application/json");
  Reply r;
  if (!res) return r;
  r.status = res->status;
  std::istringstream in(res->body);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) r.lines.push_back(json::parse(line, nullptr, false));
  }
  if (!r.lines.empty()) r.body = r.lines.back();
  return r;
}

json get(int port, const std::string& path) {
  httplib::Client cli("127.0.0.1", port);
  auto res = cli.Get(path.c_str());
  return res ? json::parse(res->body, nullptr, false) : json();
}

// The text of a streamed answer: every chunk's response / message.content.
std::string streamed_text(const Reply& r) {
  std::string text;
  for (const json& l : r.lines) {
    if (l.contains("response")) text += l["response"].get<std::string>();
    if (l.contains("message")) text += l["message"]["content"].get<std::string>();
  }
  return text;
}

class Inference : public ::testing::Test {
 protected:
  testing::OllamaStore store;
};

TEST_F(Inference, GenerateAnswersAsOllamaDoesStreamedOrNot) {
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  const json req = {{"model", "stories"}, {"prompt", "Once upon a time"}, {"stream", false}};
  Reply r = post(server.port(), "/api/generate", req);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.body["model"], "stories");
  EXPECT_EQ(r.body["response"], kStory);
  EXPECT_EQ(r.body["done"], true);
  EXPECT_EQ(r.body["done_reason"], "stop");
  ASSERT_TRUE(r.body["context"].is_array());
  EXPECT_GT(r.body["context"].size(), 5u);
  EXPECT_GT(r.body["prompt_eval_count"].get<int>(), 0);
  EXPECT_GT(r.body["eval_count"].get<int>(), 5);
  // Durations are nanoseconds: a load of even a tiny model is over 10 us.
  EXPECT_GT(r.body["load_duration"].get<int64_t>(), 10'000);
  EXPECT_GE(r.body["total_duration"].get<int64_t>(),
            r.body["eval_duration"].get<int64_t>() + r.body["prompt_eval_duration"].get<int64_t>());
  EXPECT_TRUE(r.body["created_at"].is_string());

  // Streamed: the same text in pieces, one object per line, then the final one.
  json sreq = req;
  sreq["stream"] = true;
  Reply s = post(server.port(), "/api/generate", sreq);
  ASSERT_EQ(s.status, 200);
  ASSERT_GT(s.lines.size(), 3u);
  for (size_t i = 0; i + 1 < s.lines.size(); ++i) EXPECT_EQ(s.lines[i]["done"], false) << s.lines[i];
  EXPECT_EQ(streamed_text(s), kStory);
  EXPECT_EQ(s.body["done"], true);
  EXPECT_EQ(s.body["response"], "");
  EXPECT_EQ(s.body["context"], r.body["context"]);
  // Nothing to recompute the second time: the prompt is in the slot's cache.
  EXPECT_EQ(s.body["prompt_eval_count"], 1) << s.body;

  // Options: the request's replace the model's (stop) and add (num_predict).
  json lreq = req;
  lreq["options"] = {{"num_predict", 4}, {"stop", json::array()}};
  r = post(server.port(), "/api/generate", lreq);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["done_reason"], "length");
  EXPECT_EQ(r.body["eval_count"], 4);
  EXPECT_EQ(r.body["response"], ", there was a");

  // raw skips the template; system goes through it (here {{ .Prompt }}
  // ignores it); context continues an earlier answer.
  json creq = {{"model", "stories"}, {"prompt", " She"}, {"context", r.body["context"]}, {"stream", false},
               {"options", {{"num_predict", 3}}}};
  Reply c = post(server.port(), "/api/generate", creq);
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_FALSE(c.body["response"].get<std::string>().empty());
  EXPECT_GT(c.body["context"].size(), r.body["context"].size());
}

TEST_F(Inference, LogprobsPerTokenStreamedOrNot) {
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  json req = {{"model", "stories"}, {"prompt", "Once upon a time"}, {"stream", false}, {"logprobs", true},
              {"top_logprobs", 3}, {"options", {{"num_predict", 6}, {"stop", json::array()}}}};
  Reply r = post(server.port(), "/api/generate", req);
  ASSERT_EQ(r.status, 200) << r.body;
  const json& lps = r.body["logprobs"];
  ASSERT_EQ(lps.size(), 6u) << r.body;
  std::string text;
  for (const json& l : lps) {
    text += l["token"].get<std::string>();
    EXPECT_LE(l["logprob"].get<double>(), 0.0);
    EXPECT_EQ(l["bytes"].size(), l["token"].get<std::string>().size());
    ASSERT_EQ(l["top_logprobs"].size(), 3u);
    EXPECT_EQ(l["top_logprobs"][0]["token"], l["token"]);  // temperature 0: the most likely
  }
  EXPECT_EQ(text, r.body["response"]);
  // Streamed: each chunk carries its tokens' logprobs, the same ones.
  req["stream"] = true;
  Reply s = post(server.port(), "/api/generate", req);
  json streamed = json::array();
  for (const json& l : s.lines) {
    if (l.contains("logprobs")) streamed.insert(streamed.end(), l["logprobs"].begin(), l["logprobs"].end());
  }
  EXPECT_EQ(streamed, lps);
  // Chat too; without logprobs none come.
  Reply c = post(server.port(), "/api/chat", {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
                                               {"stream", false}, {"logprobs", true}, {"options", {{"num_predict", 4}}}});
  EXPECT_EQ(c.body["logprobs"].size(), 4u) << c.body;
  EXPECT_FALSE(c.body["logprobs"][0].contains("top_logprobs"));
  req.erase("logprobs");
  req["stream"] = false;
  EXPECT_FALSE(post(server.port(), "/api/generate", req).body.contains("logprobs"));
  req["logprobs"] = true;
  req["top_logprobs"] = 21;
  r = post(server.port(), "/api/generate", req);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"], "top_logprobs must be between 0 and 20");
}

TEST_F(Inference, ChatRendersTheTemplateAndAnswersAsAssistant) {
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  json req = {{"model", "stories:latest"},
              {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
              {"stream", false}};
  Reply r = post(server.port(), "/api/chat", req);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["model"], "stories:latest");
  EXPECT_EQ(r.body["message"]["role"], "assistant");
  EXPECT_EQ(r.body["message"]["content"], kStory);
  EXPECT_EQ(r.body["done_reason"], "stop");
  EXPECT_FALSE(r.body.contains("context"));
  req["stream"] = true;
  Reply s = post(server.port(), "/api/chat", req);
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(streamed_text(s), kStory);
  EXPECT_EQ(s.body["done"], true);
  // Unknown options are ignored; wrong types are refused naming the option.
  req["options"] = {{"no_such_option", 1}};
  EXPECT_EQ(post(server.port(), "/api/chat", req).status, 200);
  req["options"] = {{"temperature", "hot"}};
  r = post(server.port(), "/api/chat", req);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body["error"].get<std::string>().find("temperature"), std::string::npos) << r.body;
}

TEST_F(Inference, ErrorsHaveOllamasShapeAndStatus) {
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  Reply r = post(server.port(), "/api/generate", {{"model", "nope"}, {"prompt", "hi"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, json({{"error", "model 'nope' not found"}}));
  r = post(server.port(), "/api/chat", {{"model", "nope"}, {"messages", json::array()}});
  EXPECT_EQ(r.status, 404);
  httplib::Client cli("127.0.0.1", server.port());
  auto bad = cli.Post("/api/generate", "{\"model\": ", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_TRUE(json::parse(bad->body)["error"].is_string());
  r = post(server.port(), "/api/generate", {{"model", "stories"}, {"prompt", "hi"}, {"keep_alive", "soon"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body["error"].get<std::string>().find("soon"), std::string::npos) << r.body;
  r = post(server.port(), "/api/chat",
           {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", 3}}}}});
  EXPECT_EQ(r.status, 400);
  // Fields of the wrong JSON type are the client's error, naming the field.
  r = post(server.port(), "/api/generate", {{"model", "stories"}, {"prompt", "hi"}, {"raw", "yes"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"], "raw must be true or false, not string");
  r = post(server.port(), "/api/generate", {{"model", "stories"}, {"prompt", "hi"}, {"raw", true}, {"system", "s"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"], "raw mode does not support template, system, or context");
  r = post(server.port(), "/api/chat",
           {{"model", "stories"}, {"messages", {{{"role", "assistant"}, {"tool_calls", {{{"function", 1}}}}}}}});
  EXPECT_EQ(r.status, 400);
  // A prompt longer than the context is refused with the numbers.
  r = post(server.port(), "/api/generate",
           {{"model", "stories"}, {"prompt", std::string(2000, 'a')}, {"stream", false}, {"options", {{"num_ctx", 64}}}});
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body["error"].get<std::string>().find("num_ctx"), std::string::npos) << r.body;
}

TEST_F(Inference, LoadKeepAliveUnloadAndPs) {
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  EXPECT_EQ(get(server.port(), "/api/ps"), json({{"models", json::array()}}));
  // An empty prompt loads.
  Reply r = post(server.port(), "/api/generate", {{"model", "stories"}, {"keep_alive", "10m"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["done_reason"], "load");
  EXPECT_EQ(r.body["response"], "");
  json ps = get(server.port(), "/api/ps");
  ASSERT_EQ(ps["models"].size(), 1u) << ps;
  const json& m = ps["models"][0];
  EXPECT_EQ(m["name"], "stories:latest");
  EXPECT_EQ(m["digest"], sha256_hex(store.manifest_text));
  EXPECT_GT(m["size"].get<int64_t>(), 1'000'000);
  EXPECT_EQ(m["size_vram"], 0);
  EXPECT_EQ(m["load_mode"], "mmap");
  EXPECT_EQ(m["weights_bytes"].get<int64_t>() > 1'000'000, true) << m;
  EXPECT_GT(m["kv_cache_bytes"].get<int64_t>(), 0);
  EXPECT_LE(m["weights_resident_bytes"].get<int64_t>(), m["weights_bytes"].get<int64_t>());
  EXPECT_EQ(m["active_requests"], 0);
  EXPECT_EQ(m["details"]["format"], "gguf");
  EXPECT_EQ(m["details"]["family"], "llama");
  // expires_at about ten minutes from now (RFC 3339).
  EXPECT_EQ(m["expires_at"].get<std::string>().size(), 20u) << m;
  // keep_alive negative: forever.
  r = post(server.port(), "/api/generate", {{"model", "stories"}, {"keep_alive", -1}});
  EXPECT_EQ(get(server.port(), "/api/ps")["models"][0]["expires_at"], "2318-01-01T00:00:00Z");
  // keep_alive 0 with an empty prompt unloads.
  r = post(server.port(), "/api/generate", {{"model", "stories"}, {"keep_alive", 0}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["done_reason"], "unload");
  EXPECT_EQ(get(server.port(), "/api/ps")["models"].size(), 0u);
  // keep_alive 0 with a prompt: answers, then unloads.
  r = post(server.port(), "/api/chat",
           {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
            {"keep_alive", "0s"}, {"stream", false}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["message"]["content"], kStory);
  json after;
  for (int i = 0; i < 100; ++i) {  // the unload follows the answer
    after = get(server.port(), "/api/ps");
    if (after["models"].empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(after["models"].size(), 0u) << after;
  // A changed load option (num_ctx) reloads the model with it.
  post(server.port(), "/api/generate", {{"model", "stories"}, {"options", {{"num_ctx", 256}}}});
  EXPECT_EQ(get(server.port(), "/api/ps")["models"][0]["context_length"], 256);
  post(server.port(), "/api/generate", {{"model", "stories"}, {"options", {{"num_ctx", 512}}}});
  ps = get(server.port(), "/api/ps");
  ASSERT_EQ(ps["models"].size(), 1u);
  EXPECT_EQ(ps["models"][0]["context_length"], 512);
}

TEST_F(Inference, EightConcurrentChatStreamsAllComplete) {
  ServerProcess server(store.dir.path(), {"FOLIO_NUM_PARALLEL=2"});
  ASSERT_TRUE(server.ready());
  std::vector<std::string> texts(8);
  std::vector<int> status(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      // Half continue the story differently, to check slots do not mix.
      const std::string prompt = i % 2 ? "Once upon a time" : "Lily and Ben";
      Reply r = post(server.port(), "/api/chat",
                     {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", prompt}}}},
                      {"options", {{"num_predict", 40}, {"stop", json::array()}}}});
      status[i] = r.status;
      texts[i] = r.body.is_object() && r.body.value("done", false) ? streamed_text(r) : "(unfinished) " + r.body.dump();
    });
  }
  for (auto& t : threads) t.join();
  // Each answer equals the one the same prompt gets alone.
  for (const char* prompt : {"Once upon a time", "Lily and Ben"}) {
    Reply alone = post(server.port(), "/api/chat",
                       {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", prompt}}}},
                        {"options", {{"num_predict", 40}, {"stop", json::array()}}}, {"stream", false}});
    ASSERT_EQ(alone.status, 200) << alone.body;
    const std::string expected = alone.body["message"]["content"];
    EXPECT_GT(expected.size(), 40u);
    for (int i = 0; i < 8; ++i) {
      if ((i % 2 == 1) != (std::string(prompt) == "Once upon a time")) continue;
      EXPECT_EQ(status[i], 200) << i;
      EXPECT_EQ(texts[i], expected) << "stream " << i;
    }
  }
}

TEST_F(Inference, FormatConstrainsTheOutputToTheSchema) {
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  // A story model knows nothing of JSON; the constraint makes it comply.
  const json schema = {{"type", "object"},
                       {"properties", {{"ok", {{"type", "boolean"}}}, {"mood", {{"enum", {"happy", "sad"}}}}}},
                       {"required", {"ok", "mood"}}};
  Reply r = post(server.port(), "/api/generate",
                 {{"model", "stories"}, {"prompt", "Once upon a time"}, {"format", schema}, {"stream", false},
                  {"options", {{"stop", json::array()}, {"num_predict", 200}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["done_reason"], "stop") << r.body;
  const json out = json::parse(r.body["response"].get<std::string>(), nullptr, false);
  ASSERT_TRUE(out.is_object()) << r.body["response"];
  EXPECT_TRUE(out["ok"].is_boolean()) << out;
  EXPECT_TRUE(out["mood"] == "happy" || out["mood"] == "sad") << out;
  EXPECT_EQ(out.size(), 2u) << out;
  // Chat too, and "json": whatever comes is a JSON object (or its start,
  // when num_predict cuts it).
  Reply c = post(server.port(), "/api/chat",
                 {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
                  {"format", "json"}, {"stream", false}, {"options", {{"stop", json::array()}, {"num_predict", 40}}}});
  ASSERT_EQ(c.status, 200) << c.body;
  const std::string text = c.body["message"]["content"];
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text[0], '{') << text;
  if (c.body["done_reason"] == "stop") {
    EXPECT_TRUE(json::parse(text, nullptr, false).is_object()) << text;
  }
  // Bad formats are the client's error.
  r = post(server.port(), "/api/generate", {{"model", "stories"}, {"prompt", "x"}, {"format", "yaml"}});
  EXPECT_EQ(r.status, 400);
  r = post(server.port(), "/api/generate", {{"model", "stories"}, {"prompt", "x"}, {"format", {{"type", "thing"}}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body["error"].get<std::string>().find("thing"), std::string::npos) << r.body;
}

// A tool call the stories model is made to write (format pins the JSON),
// parsed from its output: the template has no tool-call tag, so a bare
// JSON object naming a tool is a call.
const json kWeatherTool = {{"type", "function"},
                           {"function", {{"name", "get_weather"},
                                         {"description", "The weather in a city"},
                                         {"parameters", {{"type", "object"},
                                                         {"properties", {{"city", {{"type", "string"}}}}},
                                                         {"required", {"city"}}}}}}};
const json kCallSchema = {
    {"type", "object"},
    {"properties", {{"name", {{"enum", {"get_weather"}}}},
                    {"arguments", {{"type", "object"},
                                   {"properties", {{"city", {{"enum", {"Paris", "Oslo"}}}}}},
                                   {"required", {"city"}}}}}},
    {"required", {"name", "arguments"}}};

TEST_F(Inference, ToolCallsAreParsedFromTheOutput) {
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  json req = {{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", "What is the weather in Paris?"}}}},
              {"tools", {kWeatherTool}}, {"format", kCallSchema}, {"stream", false},
              {"options", {{"stop", json::array()}, {"num_predict", 100}}}};
  Reply r = post(server.port(), "/api/chat", req);
  ASSERT_EQ(r.status, 200) << r.body;
  const json& m = r.body["message"];
  EXPECT_EQ(m["content"], "") << m;
  ASSERT_EQ(m["tool_calls"].size(), 1u) << m;
  const json& call = m["tool_calls"][0];
  EXPECT_EQ(call["id"].get<std::string>().rfind("call_", 0), 0u) << call;
  EXPECT_EQ(call["function"]["name"], "get_weather");
  EXPECT_EQ(call["function"]["index"], 0);
  const json city = call["function"]["arguments"]["city"];
  EXPECT_TRUE(city == "Paris" || city == "Oslo") << call;
  // Streamed: the call arrives in a chunk of its own, no text around it.
  req["stream"] = true;
  Reply s = post(server.port(), "/api/chat", req);
  ASSERT_EQ(s.status, 200);
  int with_calls = 0;
  for (const json& l : s.lines) {
    if (l["message"].contains("tool_calls")) {
      ++with_calls;
      EXPECT_EQ(l["message"]["tool_calls"][0]["function"]["arguments"], call["function"]["arguments"]);
    }
  }
  EXPECT_EQ(with_calls, 1);
  EXPECT_EQ(streamed_text(s), "");
  // Without tools the same JSON is just content.
  req.erase("tools");
  req["stream"] = false;
  r = post(server.port(), "/api/chat", req);
  EXPECT_FALSE(r.body["message"].contains("tool_calls"));
  EXPECT_EQ(json::parse(r.body["message"]["content"].get<std::string>())["name"], "get_weather");
}

double norm(const json& v) {
  double s = 0;
  for (const auto& x : v) s += x.get<double>() * x.get<double>();
  return std::sqrt(s);
}

TEST_F(Inference, EmbedGivesUnitVectorsThatMatchTheOlderEndpoint) {
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  Reply r = post(server.port(), "/api/embed", {{"model", "stories"}, {"input", {"Once upon a time", "Lily"}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["model"], "stories");
  ASSERT_EQ(r.body["embeddings"].size(), 2u);
  const json a = r.body["embeddings"][0], b = r.body["embeddings"][1];
  EXPECT_EQ(a.size(), 64u);  // stories260K's embedding length
  EXPECT_NEAR(norm(a), 1.0, 1e-5);
  EXPECT_NEAR(norm(b), 1.0, 1e-5);
  EXPECT_NE(a, b);
  EXPECT_GT(r.body["prompt_eval_count"].get<int>(), 4);
  EXPECT_GT(r.body["total_duration"].get<int64_t>(), 0);
  // One input alone gives the same vector as inside a list.
  Reply one = post(server.port(), "/api/embed", {{"model", "stories"}, {"input", "Lily"}});
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.body["embeddings"][0], b);
  // dimensions: the first n values, normalized again.
  Reply d = post(server.port(), "/api/embed", {{"model", "stories"}, {"input", "Lily"}, {"dimensions", 16}});
  ASSERT_EQ(d.status, 200) << d.body;
  ASSERT_EQ(d.body["embeddings"][0].size(), 16u);
  EXPECT_NEAR(norm(d.body["embeddings"][0]), 1.0, 1e-5);
  EXPECT_NEAR(d.body["embeddings"][0][0].get<double>() * norm(json(std::vector<json>(b.begin(), b.begin() + 16))),
              b[0].get<double>(), 1e-5);
  // The older endpoint: the same direction, not normalized.
  Reply old = post(server.port(), "/api/embeddings", {{"model", "stories"}, {"prompt", "Lily"}});
  ASSERT_EQ(old.status, 200) << old.body;
  const json& v = old.body["embedding"];
  ASSERT_EQ(v.size(), 64u);
  const double n = norm(v);
  EXPECT_GT(std::fabs(n - 1.0), 0.01);
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i].get<double>() / n, b[i].get<double>(), 1e-5) << i;
  // Nothing to embed loads the model and answers empty lists.
  r = post(server.port(), "/api/embed", {{"model", "stories"}});
  EXPECT_EQ(r.body, json({{"model", "stories"}, {"embeddings", json::array()}}));
  r = post(server.port(), "/api/embeddings", {{"model", "stories"}});
  EXPECT_EQ(r.body, json({{"embedding", json::array()}}));
  // Past the context: cut by default, refused with truncate false.
  const std::string long_text(3000, 'a');
  r = post(server.port(), "/api/embed", {{"model", "stories"}, {"input", long_text}, {"options", {{"num_ctx", 64}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["prompt_eval_count"], 64);
  r = post(server.port(), "/api/embed",
           {{"model", "stories"}, {"input", long_text}, {"truncate", false}, {"options", {{"num_ctx", 64}}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"], "the input length exceeds the context length");
  r = post(server.port(), "/api/embed", {{"model", "stories"}, {"input", {1, 2}}});
  EXPECT_EQ(r.status, 400);
  r = post(server.port(), "/api/embed", {{"model", "nope"}, {"input", "x"}});
  EXPECT_EQ(r.status, 404);
  // Generation after embeddings on the same slot is unaffected.
  r = post(server.port(), "/api/generate", {{"model", "stories"}, {"prompt", "Once upon a time"}, {"stream", false},
                                            {"options", {{"num_ctx", 64}}}});
  EXPECT_EQ(r.body["response"], kStory);
}

// A model whose answer can run for minutes: the tiny synthetic shape with
// a 64K context (generation stops only when the context is full).
void create_long_model(const ServerProcess& server, const testing::TempDir& work) {
  auto r = testing::run_folio({"synth", work.file("long.gguf"), "--preset", "tiny", "--ctx", "65536", "-t", "F32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ofstream(work.file("Modelfile")) << "FROM " << work.file("long.gguf") << "\nPARAMETER temperature 0\n";
  r = testing::run_folio({"create", "long", "-f", work.file("Modelfile")}, "", server.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

const json kEndless = {{"model", "long"}, {"prompt", "Once upon a time"},
                       {"options", {{"num_ctx", 65536}, {"num_predict", -1}}}};
const json kShort = {{"model", "long"}, {"prompt", "Hi"}, {"stream", false},
                     {"options", {{"num_ctx", 65536}, {"num_predict", 3}}}};

// Sends a request on a raw socket without reading the answer; the caller
// closes the socket to hang up.
int send_request(int port, const char* path, const json& body) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  const std::string b = body.dump();
  const std::string req = std::string("POST ") + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
                          "Content-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Opens a streaming generate on a raw socket, reads the first chunk, and
// returns the socket (the caller closes it to hang up).
int start_stream(int port, const json& body) {
  const int fd = send_request(port, "/api/generate", body);
  if (fd < 0) return -1;
  char buf[4096];
  std::string got;
  while (got.find("\"done\":false") == std::string::npos) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return fd;
}

// /api/ps once the (only) model has `active` requests running, or after
// 20 s: the caller checks.
json ps_when_active(int port, int active) {
  json ps;
  for (int i = 0; i < 400; ++i) {
    ps = get(port, "/api/ps");
    if (!ps["models"].empty() && ps["models"][0]["active_requests"] == active) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ps;
}

TEST_F(Inference, ACancelledStreamFreesItsSlot) {
  ServerProcess server(store.dir.path(), {"FOLIO_NUM_PARALLEL=1"});
  ASSERT_TRUE(server.ready());
  testing::TempDir work;
  create_long_model(server, work);
  // A 64K-token answer (minutes of work) that the client abandons.
  const int fd = start_stream(server.port(), kEndless);
  ASSERT_GE(fd, 0);
  json ps = get(server.port(), "/api/ps");
  ASSERT_EQ(ps["models"].size(), 1u);
  EXPECT_EQ(ps["models"][0]["active_requests"], 1) << ps;
  ::close(fd);
  // The slot is free again long before the answer could have finished,
  // and the next request (same load options) gets it.
  ps = ps_when_active(server.port(), 0);
  EXPECT_EQ(ps["models"][0]["active_requests"], 0) << ps;
  Reply r = post(server.port(), "/api/generate", kShort);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["eval_count"], 3);
}

// The status of a request, or 0 when none came within timeout_ms (it is
// waiting; the client then hangs up).
int status_within(int port, const json& body, int timeout_ms) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(0, timeout_ms * 1000);
  auto res = cli.Post("/api/generate", body.dump(), "application/json");
  return res ? res->status : 0;
}

TEST_F(Inference, AQueuedRequestWhoseClientLeavesLeavesTheQueue) {
  ServerProcess server(store.dir.path(), {"FOLIO_NUM_PARALLEL=1", "FOLIO_MAX_QUEUE=1"});
  ASSERT_TRUE(server.ready());
  testing::TempDir work;
  create_long_model(server, work);
  const int busy = start_stream(server.port(), kEndless);  // holds the only slot
  ASSERT_GE(busy, 0);
  // A request that waits for the slot, filling the queue: others get 503.
  const int queued = send_request(server.port(), "/api/generate", kShort);
  ASSERT_GE(queued, 0);
  int status = 0;
  for (int i = 0; i < 100 && status != 503; ++i) status = status_within(server.port(), kShort, 2000);
  ASSERT_EQ(status, 503) << "the queue never filled";
  // Its client hangs up: its place in the queue is free again, so the next
  // request waits (no answer within a second) instead of a 503. That one's
  // client gives up too, and the queue has room once more.
  ::close(queued);
  for (int round = 0; round < 2; ++round) {
    status = 503;
    for (int i = 0; i < 40 && status == 503; ++i) {
      status = status_within(server.port(), kShort, 1000);
      if (status == 503) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(status, 0) << "round " << round << ": a request was still turned away";
  }
  ::close(busy);
  Reply r;
  for (int i = 0; i < 40 && r.status != 200; ++i) {  // the last one may take a poll (50 ms) to leave
    r = post(server.port(), "/api/generate", kShort);
    if (r.status == 503) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    else break;
  }
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["eval_count"], 3);
  // The abandoned requests never ran: the log has them as 499s.
  size_t n499 = 0;
  for (size_t at = 0; (at = server.log().find("[folio] 499 ", at)) != std::string::npos; ++at) ++n499;
  EXPECT_EQ(n499, 3u) << server.log();
}

TEST_F(Inference, AStreamFalseAnswerStopsWhenItsClientLeaves) {
  ServerProcess server(store.dir.path(), {"FOLIO_NUM_PARALLEL=1"});
  ASSERT_TRUE(server.ready());
  testing::TempDir work;
  create_long_model(server, work);
  json endless = kEndless;
  endless["stream"] = false;
  const int fd = send_request(server.port(), "/api/generate", endless);  // minutes of work
  ASSERT_GE(fd, 0);
  json ps = ps_when_active(server.port(), 1);
  ASSERT_EQ(ps["models"][0]["active_requests"], 1) << ps;
  ::close(fd);
  ps = ps_when_active(server.port(), 0);
  EXPECT_EQ(ps["models"][0]["active_requests"], 0) << ps;
}

TEST_F(Inference, QueueOverflowIs503) {
  ServerProcess server(store.dir.path(), {"FOLIO_NUM_PARALLEL=1", "FOLIO_MAX_QUEUE=1"});
  ASSERT_TRUE(server.ready());
  testing::TempDir work;
  create_long_model(server, work);
  const int busy = start_stream(server.port(), kEndless);  // holds the only slot
  ASSERT_GE(busy, 0);
  // One request may wait; the other is turned away at once.
  std::atomic<int> status[2] = {0, 0};
  std::string error[2];
  std::vector<std::thread> clients;
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back([&, i] {
      Reply r = post(server.port(), "/api/generate", kShort);
      if (r.status != 200) error[i] = r.body.value("error", "");
      status[i] = r.status;
    });
  }
  int refused = -1;
  for (int t = 0; t < 600 && refused < 0; ++t) {
    for (int i = 0; i < 2; ++i) if (status[i] != 0) refused = i;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GE(refused, 0);
  EXPECT_EQ(status[refused], 503);
  EXPECT_NE(error[refused].find("FOLIO_MAX_QUEUE"), std::string::npos) << error[refused];
  EXPECT_EQ(status[1 - refused], 0) << "the other request waits for the slot";
  ::close(busy);  // hang up: the waiting request gets the slot
  for (auto& t : clients) t.join();
  EXPECT_EQ(status[1 - refused], 200);
}

}  // namespace
}  // namespace folio
