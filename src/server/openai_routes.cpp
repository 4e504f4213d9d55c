// /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models: each
// request converted to Ollama's (server/openai.cpp), run by the same
// handlers as /api/*, and the answer converted back; streams are SSE.
#include "server/openai_routes.h"

#include <httplib.h>

#include <memory>

#include "server/inference.h"
#include "server/limits.h"
#include "server/openai.h"
#include "server/peer_watch.h"
#include "store/store.h"

namespace folio {

using nlohmann::json;
namespace oa = api::openai;

namespace {

void send(httplib::Response& res, const api::Reply& r) {
  res.status = r.status;
  res.set_content(r.body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send(res, {status, oa::error_body(status, message)});
}

bool parse(const httplib::Request& req, httplib::Response& res, json* out) {
  auto j = api::parse_request_json(req.body);
  if (!j.ok()) {
    send_error(res, 400, j.error().message);
    return false;
  }
  *out = std::move(*j);
  return true;
}

// Chat and completions share everything but the conversions.
void generation_route(httplib::Server& h, const char* path, api::Prepared::Kind kind, Store& store, Scheduler& sched) {
  h.Post(path, [&store, &sched, kind](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!parse(req, res, &body)) return;
    const bool chat = kind == api::Prepared::Kind::kChat;
    auto converted = chat ? oa::chat_request(body) : oa::completion_request(body);
    if (!converted.ok()) return send_error(res, 400, converted.error().message);
    auto p = std::make_shared<api::Prepared>();
    if (api::Reply r = api::prepare(store, sched, kind, *converted, p.get(), client_gone(req)); r.status != 200) {
      return send(res, oa::error_reply(r));
    }
    const std::string id = oa::new_id(chat ? "chatcmpl" : "cmpl");
    if (!p->stream) {
      const json final = api::run(*p, [](const json&) { return true; });
      if (final.contains("error")) return send_error(res, 500, final["error"].get<std::string>());
      return send(res, {200, chat ? oa::chat_completion(id, final) : oa::completion(id, final)});
    }
    auto usage = api::bool_field(body.value("stream_options", json::object()), "include_usage", false);
    if (!usage.ok()) return send_error(res, 400, "stream_options." + usage.error().message);
    auto stream = std::make_shared<oa::Stream>(chat ? oa::Stream::Kind::kChat : oa::Stream::Kind::kCompletion, id, *usage);
    res.status = 200;
    res.set_chunked_content_provider("text/event-stream", [p, stream](size_t, httplib::DataSink& sink) {
      const auto put = [&](const json& j) {
        for (const std::string& e : stream->events(j)) {
          if (!sink.is_writable() || !sink.write(e.data(), e.size())) return false;  // client gone: stop
        }
        return true;
      };
      try {
        api::run(*p, put);
      } catch (const std::exception& e) {
        put(json{{"error", std::string("internal error: ") + e.what()}});
      }
      p->lease.reset();
      sink.done();
      return true;
    });
  });
}

}  // namespace

void add_openai_routes(httplib::Server& h, Store& store, Scheduler& sched) {
  generation_route(h, "/v1/chat/completions", api::Prepared::Kind::kChat, store, sched);
  generation_route(h, "/v1/completions", api::Prepared::Kind::kGenerate, store, sched);
  h.Post("/v1/embeddings", [&store, &sched](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!parse(req, res, &body)) return;
    auto converted = oa::embed_request(body);
    if (!converted.ok()) return send_error(res, 400, converted.error().message);
    auto format = api::string_field(body, "encoding_format", "float");
    if (!format.ok()) return send_error(res, 400, format.error().message);
    api::Reply r = api::embed(store, sched, *converted, client_gone(req));
    if (r.status != 200) return send(res, oa::error_reply(r));
    send(res, {200, oa::embedding_list(api::request_model(body), r.body, *format)});
  });
  h.Get("/v1/models", [&store](const httplib::Request&, httplib::Response& res) {
    send(res, {200, oa::model_list(api::tags(store).body["models"])});
  });
  h.Get(R"(/v1/models/(.+))", [&store](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    if (auto name = parse_model_name(id); name.ok()) {
      if (auto found = store.find(*name); found.ok() && found->has_value()) {
        return send(res, {200, oa::model_entry(id, static_cast<int64_t>((*found)->modified))});
      }
    }
    send_error(res, 404, "model '" + id + "' not found");
  });
}

}  // namespace folio
