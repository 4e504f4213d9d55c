// /api/generate, /api/chat, /api/ps (ref: ollama server/routes.go
// GenerateHandler, ChatHandler, chatPrompt; api/types.go).
#include "server/inference.h"

#include <chrono>
#include <ctime>
#include <random>

#include "base/log.h"
#include "base/strings.h"
#include "engine/json_constraint.h"
#include "server/chat_messages.h"
#include "server/limits.h"
#include "server/request.h"
#include "template/chat.h"

namespace folio::api {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// Ollama's TokenLogprob: token, logprob, bytes (the token may be part of
// a UTF-8 character), and top_logprobs.
json token_json(const std::string& token, float logprob) {
  json bytes = json::array();
  for (unsigned char c : token) bytes.push_back(c);
  return {{"token", token}, {"logprob", logprob}, {"bytes", bytes}};
}

json logprob_json(const TokenLogprob& t) {
  json j = token_json(t.token, t.logprob);
  if (!t.top.empty()) {
    json top = json::array();
    for (const auto& [token, lp] : t.top) top.push_back(token_json(token, lp));
    j["top_logprobs"] = std::move(top);
  }
  return j;
}

// Ollama's tool call ids: "call_" and eight random letters or digits.
std::string tool_call_id() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  const char* letters = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id = "call_";
  for (int i = 0; i < 8; ++i) id += letters[rng() % 36];
  return id;
}

// Ollama's chatPrompt: the newest messages that fit num_ctx (system
// messages always kept, the last message always included).
Result<std::string> chat_prompt(const tmpl::ChatTemplate& t, std::vector<tmpl::Message> msgs, const tmpl::ChatValues& base,
                                Runner& runner, int64_t num_ctx) {
  const auto render_from = [&](size_t i) -> Result<std::string> {
    tmpl::ChatValues v = base;
    for (size_t j = 0; j < i; ++j) {
      if (msgs[j].role == "system") v.messages.push_back(msgs[j]);
    }
    v.messages.insert(v.messages.end(), msgs.begin() + static_cast<std::ptrdiff_t>(i), msgs.end());
    return t.render(v);
  };
  const auto fits = [&](const std::string& s) -> Result<bool> {
    FOLIO_ASSIGN_OR_RETURN(std::vector<int32_t> ids, runner.tokenize(s, true));
    return static_cast<int64_t>(ids.size()) <= num_ctx;
  };
  // Usually the whole conversation fits: one render, one tokenization.
  FOLIO_ASSIGN_OR_RETURN(std::string whole, render_from(0));
  FOLIO_ASSIGN_OR_RETURN(bool all_fit, fits(whole));
  if (all_fit || msgs.size() < 2) return whole;
  // Else the oldest first message from which the rest fits (the last
  // message is always kept). Fewer messages never take more tokens, so a
  // binary search finds it, as Ollama's walk back from the newest would.
  size_t lo = 1, first = msgs.size() - 1;  // msgs[first..] is known to be kept
  for (size_t hi = first; lo < hi;) {
    const size_t mid = lo + (hi - lo) / 2;
    FOLIO_ASSIGN_OR_RETURN(std::string s, render_from(mid));
    FOLIO_ASSIGN_OR_RETURN(bool ok, fits(s));
    if (ok) {
      first = hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  FOLIO_LOG_INFO("chat: dropping the %zu oldest messages to fit num_ctx=%lld", first, static_cast<long long>(num_ctx));
  return render_from(first);
}

}  // namespace

Reply prepare(Store& store, Scheduler& sched, Prepared::Kind kind, const json& req, Prepared* out,
              const std::function<bool()>& cancelled) {
  out->start = Clock::now();
  out->kind = kind;
  out->model = request_model(req);
  // The request's shape first (wrong types are 400 whether or not the model
  // exists, as Ollama's JSON binding answers), then the model.
  if (req.contains("model") && !req["model"].is_null() && !req["model"].is_string()) {
    return error(400, std::string("model must be a string, not ") + req["model"].type_name());
  }
  std::shared_ptr<const JsonGrammar> format;
  if (req.contains("format") && !req["format"].is_null() && req["format"] != json("")) {
    const json& f = req["format"];
    if (f == json("json")) {
      format = JsonGrammar::any_object();
    } else if (f.is_object()) {
      auto g = JsonGrammar::from_schema(f);
      if (!g.ok()) return error(400, g.error().message);
      format = *g;
    } else {
      return error(400, "invalid format: expected \"json\" or a JSON schema object");
    }
  }
  auto logprobs = bool_field(req, "logprobs", false);
  if (!logprobs.ok()) return error(400, logprobs.error().message);
  int64_t top_logprobs = -1;
  if (req.contains("top_logprobs") && !req["top_logprobs"].is_null()) {
    const json& t = req["top_logprobs"];
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > 20) {
      return error(400, "top_logprobs must be between 0 and 20");
    }
    top_logprobs = t.get<int64_t>();
  }
  auto raw_field = bool_field(req, "raw", false);
  if (!raw_field.ok()) return error(400, raw_field.error().message);
  const bool raw = *raw_field;
  for (const char* field : {"prompt", "system", "template", "suffix"}) {
    if (req.contains(field) && !req[field].is_null() && !req[field].is_string()) {
      return error(400, std::string(field) + " must be a string");
    }
  }
  std::vector<tmpl::Message> messages;
  if (kind == Prepared::Kind::kChat && req.contains("messages") && !req["messages"].is_null()) {
    if (!req["messages"].is_array()) return error(400, "messages must be a list");
    if (req["messages"].size() > kMaxMessages) {
      return error(400, "too many messages (" + std::to_string(req["messages"].size()) + "; at most " +
                            std::to_string(kMaxMessages) + " in one request)");
    }
    for (const auto& m : req["messages"]) {
      auto msg = message_from_json(m);
      if (!msg.ok()) return error(400, msg.error().message);
      messages.push_back(*msg);
    }
  }
  if (kind == Prepared::Kind::kChat && req.contains("tools") && !req["tools"].is_null()) {
    if (auto r = check_tools(req["tools"]); !r.ok()) return error(400, r.error().message);
  }
  if (kind == Prepared::Kind::kGenerate && req.contains("context") && !req["context"].is_null()) {
    if (!req["context"].is_array()) return error(400, "context must be a list of token ids");
    for (const auto& id : req["context"]) {
      if (!id.is_number_integer()) return error(400, "context must be a list of token ids");
      out->context.push_back(id.get<int32_t>());
    }
  }

  Target target;
  if (Reply r = resolve(store, sched, req, &target); r.status != 200) return r;
  const Record& rec = target.rec;
  out->options = target.options;
  if (format) out->options.format = format;
  out->options.logprobs = *logprobs;
  if (top_logprobs >= 0) out->options.top_logprobs = top_logprobs;
  if (kind == Prepared::Kind::kGenerate && req.contains("images") && req["images"].is_array() && !req["images"].empty()) {
    return error(400, "this model does not support images");
  }
  const std::optional<KeepAlive> keep = target.keep;
  if (raw && kind == Prepared::Kind::kGenerate &&
      ((req.contains("template") && req["template"] != json("") && !req["template"].is_null()) ||
       (req.contains("system") && req["system"] != json("") && !req["system"].is_null()) ||
       (req.contains("context") && req["context"].is_array() && !req["context"].empty()))) {
    return error(400, "raw mode does not support template, system, or context");
  }
  out->stream = !req.contains("stream") || !req["stream"].is_boolean() || req["stream"].get<bool>();

  const auto str = [&](const char* field) { return req.contains(field) && req[field].is_string() ? req[field].get<std::string>() : ""; };
  out->load_only = kind == Prepared::Kind::kChat ? messages.empty() : str("prompt").empty() && str("suffix").empty();
  // keep_alive 0 with nothing to do unloads without loading.
  if (out->load_only && keep.has_value() && !keep->forever && keep->duration.count() == 0) {
    out->unload_after = true;
    sched.unload(rec.stored.name.display());
    return {200, nullptr};
  }
  std::string template_text = rec.tmpl;
  if (kind == Prepared::Kind::kGenerate && !str("template").empty()) template_text = str("template");
  auto chat_template = tmpl::ChatTemplate::parse(template_text);
  if (!chat_template.ok()) return error(400, "template error: " + chat_template.error().message);

  out->cancelled = cancelled;
  Scheduler::Acquired got = sched.acquire(target.spec, keep, cancelled);
  if (!got.lease) return error(got.status, got.error);
  out->lease = std::move(got.lease);
  out->load_seconds = got.load_seconds;
  if (out->load_only) return {200, nullptr};
  Runner& runner = out->lease->runner();

  if (kind == Prepared::Kind::kChat) {
    std::vector<tmpl::Message> all = rec.messages;
    all.insert(all.end(), messages.begin(), messages.end());
    if (!rec.system.empty() && (all.empty() || all.front().role != "system")) {
      all.insert(all.begin(), tmpl::Message("system", rec.system));
    }
    tmpl::ChatValues base;
    if (req.contains("tools") && req["tools"].is_array() && !req["tools"].empty()) {
      base.tools_json = req["tools"].dump();
      out->tools = std::make_unique<ToolCallParser>(chat_template->tool_call_tag(), ToolCallParser::names_of(req["tools"]));
    }
    if (req.contains("think") && req["think"].is_boolean()) {
      base.think = req["think"].get<bool>();
      base.is_think_set = true;
    }
    auto p = chat_prompt(*chat_template, all, base, runner, runner.info().n_ctx);
    if (!p.ok()) return error(500, "template error: " + p.error().message);
    out->prompt = *p;
    return {200, nullptr};
  }
  // /api/generate
  if (raw) {
    out->prompt = str("prompt");
  } else {
    tmpl::ChatValues v;
    if (!str("suffix").empty()) {
      v.prompt = str("prompt");
      v.suffix = str("suffix");
    } else {
      if (!str("system").empty()) v.messages.emplace_back("system", str("system"));
      else if (!rec.system.empty()) v.messages.emplace_back("system", rec.system);
      if (out->context.empty()) v.messages.insert(v.messages.end(), rec.messages.begin(), rec.messages.end());
      v.messages.emplace_back("user", str("prompt"));
    }
    auto p = chat_template->render(v);
    // The request's own template failing is the client's error; the
    // stored model's is the server's (as Ollama answers).
    if (!p.ok()) return error(str("template").empty() ? 500 : 400, "template error: " + p.error().message);
    out->prompt = *p;
  }
  if (!out->context.empty()) out->prompt = runner.detokenize(out->context) + out->prompt;
  return {200, nullptr};
}

json run(Prepared& p, const std::function<bool(const json&)>& emit) {
  const bool chat = p.kind == Prepared::Kind::kChat;
  json final = {{"model", p.model}, {"created_at", now_rfc3339()}};
  if (chat) final["message"] = {{"role", "assistant"}, {"content", ""}};
  else final["response"] = "";
  final["done"] = true;
  if (p.unload_after || p.load_only) {
    final["done_reason"] = p.unload_after ? "unload" : "load";
    emit(final);
    return final;
  }
  std::string text;
  json calls = json::array();  // tool calls, as Ollama's message.tool_calls
  std::vector<TokenLogprob> logprobs;  // per generated token, when asked
  size_t logprobs_sent = 0;
  const auto take_logprobs = [&](json& into) {
    if (!p.options.logprobs || logprobs_sent == logprobs.size()) return;
    json list = json::array();
    for (; logprobs_sent < logprobs.size(); ++logprobs_sent) list.push_back(logprob_json(logprobs[logprobs_sent]));
    into["logprobs"] = std::move(list);
  };
  const auto on_text = [&](std::string_view piece) {
    std::string shown(piece);
    json new_calls = json::array();
    if (p.tools) {
      auto [found, content] = p.tools->add(piece);
      shown = std::move(content);
      for (const ToolCall& c : found) {
        new_calls.push_back({{"id", tool_call_id()},
                             {"function", {{"index", c.index}, {"name", c.name}, {"arguments", c.arguments}}}});
      }
      calls.insert(calls.end(), new_calls.begin(), new_calls.end());
    }
    text += shown;
    if (!p.stream) return !(p.cancelled && p.cancelled());  // nothing to write: ask
    if (shown.empty() && new_calls.empty()) return true;
    json chunk = {{"model", p.model}, {"created_at", now_rfc3339()}};
    if (chat) {
      chunk["message"] = {{"role", "assistant"}, {"content", shown}};
      if (!new_calls.empty()) chunk["message"]["tool_calls"] = new_calls;
    } else {
      chunk["response"] = shown;
    }
    chunk["done"] = false;
    take_logprobs(chunk);
    return emit(chunk);
  };
  Runner& runner = p.lease->runner();
  auto st = runner.complete(p.lease->slot(), p.prompt, p.options, on_text, &logprobs);
  if (!st.ok()) {
    json err = {{"error", st.error().message}};
    emit(err);
    return err;
  }
  final["created_at"] = now_rfc3339();
  // Text held back as a possible tool call that was not one.
  const std::string rest = p.tools ? p.tools->content() : "";
  if (!p.stream) {
    if (chat) final["message"]["content"] = text + rest;
    else final["response"] = text;
    if (!calls.empty()) final["message"]["tool_calls"] = calls;
  } else if (!rest.empty()) {
    final["message"]["content"] = rest;
  }
  final["done_reason"] = st->done_reason;
  take_logprobs(final);  // all of them, or those not streamed yet
  if (!chat) {
    std::vector<int32_t> context = st->prompt_tokens;
    context.insert(context.end(), st->tokens.begin(), st->tokens.end());
    final["context"] = context;
  }
  final["total_duration"] = nanos(std::chrono::duration<double>(Clock::now() - p.start).count());
  final["load_duration"] = nanos(p.load_seconds);
  final["prompt_eval_count"] = st->prompt_eval_count;
  final["prompt_eval_duration"] = nanos(st->prompt_eval_seconds);
  final["eval_count"] = st->eval_count;
  final["eval_duration"] = nanos(st->eval_seconds);
  emit(final);
  return final;
}

Reply ps(const Store& store, const Scheduler& sched) {
  json models = json::array();
  for (const LoadedInfo& m : sched.ps()) {
    const std::time_t t = std::chrono::system_clock::to_time_t(m.expires_at);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    // Ollama's ID and details come from the stored model (when it is
    // still there under that name).
    std::string digest = m.digest.size() > 7 ? m.digest.substr(7) : m.digest;
    json details = {{"parent_model", ""}, {"format", "gguf"}};
    if (auto name = parse_model_name(m.name); name.ok()) {
      if (auto found = store.find(*name); found.ok() && found->has_value()) {
        digest = (*found)->digest;
        details = config_details(store, **found);
      }
    }
    models.push_back({{"name", m.name},
                      {"model", m.name},
                      {"size", m.info.size},
                      {"digest", digest},
                      {"details", details},
                      {"expires_at", m.forever ? std::string("2318-01-01T00:00:00Z") : std::string(buf)},
                      {"size_vram", 0},
                      {"context_length", m.info.n_ctx},
                      // folio's memory view, beside Ollama's fields
                      {"load_mode", m.info.load_mode},
                      {"memory", m.info.verdict},
                      {"weights_bytes", m.info.weights},
                      {"weights_resident_bytes", m.resident},
                      {"kv_cache_bytes", m.info.kv_cache},
                      {"active_requests", m.active}});
  }
  return {200, json{{"models", models}}};
}

}  // namespace folio::api
