// POST /api/embed and the older /api/embeddings (ref: ollama
// server/routes.go EmbedHandler, EmbeddingsHandler; api/types.go).
#include <charconv>
#include <chrono>

#include "engine/embed.h"
#include "server/inference.h"
#include "server/request.h"

namespace folio::api {

using nlohmann::json;

namespace {

// A float as JSON with its shortest float (not double) decimal form, as Go
// writes a float32: 0.1f is 0.1, not 0.10000000149011612.
json float_json(float v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  double d = 0;
  std::from_chars(buf, r.ptr, d);
  return d;
}

struct Embedded {
  std::vector<float> values;
  int64_t tokens = 0;
};

// Tokenizes and embeds one text; past the context it is cut (truncate) or
// refused.
Reply embed_one(Runner& runner, int slot, const std::string& text, bool truncate, Embedded* out) {
  auto ids = runner.tokenize(text, true);
  if (!ids.ok()) return error(400, ids.error().message);
  const int64_t n_ctx = runner.info().n_ctx;
  if (static_cast<int64_t>(ids->size()) > n_ctx) {
    if (!truncate) return error(400, "the input length exceeds the context length");
    ids->resize(static_cast<size_t>(n_ctx));
  }
  auto e = runner.embed(slot, *ids);
  if (!e.ok()) return error(400, e.error().message);
  out->values = std::move(e->values);
  out->tokens = e->tokens;
  return {200, nullptr};
}

}  // namespace

Reply embed(Store& store, Scheduler& sched, const json& req, const std::function<bool()>& cancelled) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> input;
  if (req.contains("input")) {
    const json& in = req["input"];
    if (in.is_string()) {
      if (!in.get<std::string>().empty()) input.push_back(in.get<std::string>());
    } else if (in.is_array()) {
      for (const auto& x : in) {
        if (!x.is_string()) return error(400, "invalid input type: input must be a string or a list of strings");
        input.push_back(x.get<std::string>());
      }
    } else if (!in.is_null()) {
      return error(400, "invalid input type: input must be a string or a list of strings");
    }
  }
  bool truncate = true;
  if (req.contains("truncate") && !req["truncate"].is_null()) {
    if (!req["truncate"].is_boolean()) return error(400, "truncate must be true or false");
    truncate = req["truncate"].get<bool>();
  }
  int64_t dimensions = 0;
  if (req.contains("dimensions") && !req["dimensions"].is_null()) {
    if (!req["dimensions"].is_number_integer()) return error(400, "dimensions must be an integer");
    dimensions = req["dimensions"].get<int64_t>();
  }
  Target target;
  if (Reply r = resolve(store, sched, req, &target); r.status != 200) return r;
  Scheduler::Acquired got = sched.acquire(target.spec, target.keep, cancelled);
  if (!got.lease) return error(got.status, got.error);
  const auto loaded = std::chrono::steady_clock::now();
  const std::string model = request_model(req);
  if (input.empty()) return {200, json{{"model", model}, {"embeddings", json::array()}}};

  json embeddings = json::array();
  int64_t tokens = 0;
  for (const std::string& text : input) {
    Embedded e;
    if (Reply r = embed_one(got.lease->runner(), got.lease->slot(), text, truncate, &e); r.status != 200) return r;
    if (auto n = normalize(e.values); !n.ok()) return error(400, n.error().message);
    if (dimensions > 0 && dimensions < static_cast<int64_t>(e.values.size())) {
      e.values.resize(static_cast<size_t>(dimensions));
      if (auto n = normalize(e.values); !n.ok()) return error(400, n.error().message);
    }
    json v = json::array();
    for (float x : e.values) v.push_back(float_json(x));
    embeddings.push_back(std::move(v));
    tokens += e.tokens;
  }
  const auto seconds = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  return {200, json{{"model", model},
                    {"embeddings", std::move(embeddings)},
                    {"total_duration", nanos(seconds(start, std::chrono::steady_clock::now()))},
                    {"load_duration", nanos(seconds(start, loaded))},
                    {"prompt_eval_count", tokens}}};
}

Reply embeddings(Store& store, Scheduler& sched, const json& req, const std::function<bool()>& cancelled) {
  if (req.contains("prompt") && !req["prompt"].is_null() && !req["prompt"].is_string()) {
    return error(400, "prompt must be a string");
  }
  Target target;
  if (Reply r = resolve(store, sched, req, &target); r.status != 200) return r;
  Scheduler::Acquired got = sched.acquire(target.spec, target.keep, cancelled);
  if (!got.lease) return error(got.status, got.error);
  const std::string prompt = req.value("prompt", json("")).is_string() ? req.value("prompt", "") : "";
  if (prompt.empty()) return {200, json{{"embedding", json::array()}}};
  Embedded e;
  if (Reply r = embed_one(got.lease->runner(), got.lease->slot(), prompt, false, &e); r.status != 200) {
    return error(500, r.body["error"].get<std::string>());
  }
  json v = json::array();
  for (float x : e.values) v.push_back(static_cast<double>(x));  // float64 in Ollama's reply
  return {200, json{{"embedding", std::move(v)}}};
}

}  // namespace folio::api
