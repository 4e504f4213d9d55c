#include "server/registry_routes.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "registry/pull.h"
#include "server/api.h"
#include "server/limits.h"
#include "store/name.h"
#include "store/store.h"

namespace folio {

using nlohmann::json;

namespace {

void send(httplib::Response& res, const api::Reply& r) {
  res.status = r.status;
  res.set_content(r.body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json; charset=utf-8");
}

void registry_route(httplib::Server& h, const char* path, bool pull, Store& store, std::mutex& write_mu) {
  h.Post(path, [&store, &write_mu, pull](const httplib::Request& req, httplib::Response& res) {
    auto body = api::parse_request_json(req.body);
    if (!body.ok()) return send(res, api::error(400, body.error().message));
    const std::string text = api::request_model(*body);
    if (text.empty()) return send(res, api::error(400, "model is required"));
    auto name = parse_model_name(text);
    if (!name.ok()) return send(res, api::error(400, name.error().message));
    auto insecure = api::bool_field(*body, "insecure", false);
    if (!insecure.ok()) return send(res, api::error(400, insecure.error().message));
    auto stream = api::bool_field(*body, "stream", true);
    if (!stream.ok()) return send(res, api::error(400, stream.error().message));
    // Pushing a model the store lacks is wrong on its face: a 404 before
    // any stream.
    if (!pull) {
      auto found = store.find(*name);
      if (!found.ok()) return send(res, api::error(500, found.error().message));
      if (!found->has_value()) return send(res, api::error(404, "model '" + name->display() + "' not found"));
    }
    RegistryOptions opts;
    opts.insecure = *insecure;
    opts.store_mu = &write_mu;
    const auto run = [&store, pull, opts, n = *name](const Progress& progress) {
      return pull ? pull_model(store, n, opts, progress) : push_model(store, n, opts, progress);
    };
    if (!*stream) {
      auto r = run([](const json&) {});
      if (!r.ok()) return send(res, api::error(500, r.error().message));
      return send(res, {200, json{{"status", "success"}}});
    }
    res.status = 200;
    res.set_chunked_content_provider("application/x-ndjson", [run](size_t, httplib::DataSink& sink) {
      bool gone = false;
      const auto put = [&](const json& j) {
        if (gone) return;
        const std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
        gone = !sink.is_writable() || !sink.write(line.data(), line.size());
      };
      try {
        if (auto r = run(put); !r.ok()) put(json{{"error", r.error().message}});
      } catch (const std::exception& e) {
        put(json{{"error", std::string("internal error: ") + e.what()}});
      }
      sink.done();
      return true;
    });
  });
}

}  // namespace

void add_registry_routes(httplib::Server& h, Store& store, std::mutex& write_mu) {
  registry_route(h, "/api/pull", true, store, write_mu);
  registry_route(h, "/api/push", false, store, write_mu);
}

}  // namespace folio
