// /api/generate, /api/chat, /api/embed and /api/ps, free of HTTP plumbing. A request is
// prepared first (the model found, options checked, the prompt rendered, a
// slot acquired), so every error up to there has its status code; then it
// runs, emitting Ollama's NDJSON objects as text is generated.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/options.h"
#include "server/api.h"
#include "server/scheduler.h"
#include "server/tool_calls.h"
#include "store/store.h"

namespace folio::api {

struct Prepared {
  enum class Kind { kGenerate, kChat };
  Kind kind = Kind::kGenerate;
  std::string model;  // the name as the client gave it, echoed back
  std::unique_ptr<Scheduler::Lease> lease;
  std::string prompt;  // rendered
  Options options;
  bool stream = true;
  bool load_only = false;        // empty prompt / no messages: just load (or unload)
  bool unload_after = false;     // keep_alive 0 with nothing to do
  double load_seconds = 0;
  std::chrono::steady_clock::time_point start;
  std::vector<int32_t> context;  // /api/generate's "context" carried over
  std::unique_ptr<ToolCallParser> tools;  // chat with tools: calls parsed from the output
  std::function<bool()> cancelled;        // the client went away (stops a wait or a stream:false answer)
};

// Errors are Replies with Ollama's codes: 400 bad request, 404 unknown
// model, 499 client gone, 500 load failure (the planner's words), 503 busy.
// cancelled (may be empty) is asked while the request waits for a slot and,
// with stream:false, between tokens.
Reply prepare(Store& store, Scheduler& sched, Prepared::Kind kind, const nlohmann::json& req, Prepared* out,
              const std::function<bool()>& cancelled = nullptr);

// Runs a prepared request: emit gets each streamed object (returning false
// stops generation: the client went away) and the final one, which is also
// returned (with the whole text when not streaming).
nlohmann::json run(Prepared& p, const std::function<bool(const nlohmann::json&)>& emit);

// POST /api/embed: input (a string or a list), truncate, dimensions,
// options, keep_alive; unit-length vectors.
Reply embed(Store& store, Scheduler& sched, const nlohmann::json& req,
            const std::function<bool()>& cancelled = nullptr);
// POST /api/embeddings (older): prompt; one vector, not normalized.
Reply embeddings(Store& store, Scheduler& sched, const nlohmann::json& req,
                 const std::function<bool()>& cancelled = nullptr);

// GET /api/ps.
Reply ps(const Store& store, const Scheduler& sched);

}  // namespace folio::api
