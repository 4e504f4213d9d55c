#include "server/server.h"

#include <httplib.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "base/log.h"
#include "base/strings.h"
#include "server/access.h"
#include "server/api.h"
#include "server/inference.h"
#include "server/limits.h"
#include "server/openai_routes.h"
#include "server/peer_watch.h"
#include "server/registry_routes.h"

namespace folio {

using nlohmann::json;

struct Server::Impl {
  Impl(std::string dir, HostPort a, SchedulerConfig cfg, std::unique_ptr<RunnerFactory> factory)
      : store(std::move(dir)), address(std::move(a)),
        sched(cfg, factory ? std::move(factory) : make_engine_runner_factory()) {}
  Store store;
  HostPort address;
  Scheduler sched;
  httplib::Server http;
  int port = 0;
  std::mutex write_mu;  // create/copy/delete one at a time
  std::atomic<bool> log_requests{true};
};

namespace {

// Request headers a browser may send cross-origin (Ollama's list, with the
// OpenAI SDK's).
constexpr const char* kCorsHeaders =
    "Authorization, Content-Type, User-Agent, Accept, X-Requested-With, OpenAI-Beta, x-stainless-arch, "
    "x-stainless-async, x-stainless-custom-poll-interval, x-stainless-helper-method, x-stainless-lang, x-stainless-os, "
    "x-stainless-package-version, x-stainless-poll-helper, x-stainless-retry-count, x-stainless-runtime, "
    "x-stainless-runtime-version, x-stainless-timeout";

void send(httplib::Response& res, const api::Reply& r) {
  res.status = r.status;
  if (!r.body.is_null()) res.set_content(r.body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json; charset=utf-8");
}

// Parses the JSON body (server/limits.h); a bad one is a 400.
bool parse_body(const httplib::Request& req, httplib::Response& res, json* out) {
  auto j = api::parse_request_json(req.body);
  if (!j.ok()) {
    send(res, api::error(400, j.error().message));
    return false;
  }
  *out = std::move(*j);
  return true;
}

// A blob route's digest as the store names it: Ollama also accepts
// "sha256-<hex>" and upper-case hex.
std::string normal_digest(std::string d) {
  if (d.size() == 7 + 64 && d.compare(0, 7, "sha256-") == 0) d[6] = ':';
  return to_lower(d);
}

// Why bind failed, in words (httplib does not say).
std::string bind_failure(const HostPort& a) {
  const int fd = ::socket(a.host.find(':') != std::string::npos ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  std::string why = "cannot listen";
  if (fd >= 0) {
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(a.port));
    if (::inet_pton(AF_INET, a.host.c_str(), &sa.sin_addr) == 1 &&
        ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      why = std::strerror(errno);
    }
    ::close(fd);
  }
  return why;
}

}  // namespace

Server::Server(std::string models_dir, HostPort address, SchedulerConfig cfg, std::unique_ptr<RunnerFactory> factory)
    : impl_(std::make_unique<Impl>(std::move(models_dir), address, cfg, std::move(factory))) {
  httplib::Server& h = impl_->http;
  Impl* s = impl_.get();
  // httplib's default also sets SO_REUSEPORT, which would let a second
  // server share the port silently; only SO_REUSEADDR is wanted.
  h.set_socket_options([](socket_t sock) {
    int one = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  });
  // One thread per connection in flight: running and queued requests each
  // hold one while they wait for a slot (the scheduler answers 503 past
  // max_queue), plus some for quick calls such as /api/ps during a load.
  const size_t threads = 16 + static_cast<size_t>(std::min(cfg.max_queue, 112)) +
                         static_cast<size_t>(cfg.max_loaded) * static_cast<size_t>(cfg.num_parallel);
  h.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Replies go out at once (as Go's servers do): with Nagle's algorithm a
  // small reply waited on the client's delayed ACK, ~40 ms per request.
  h.set_tcp_nodelay(true);
  h.set_payload_max_length(uint64_t{1} << 40);  // blobs are large; other bodies are bounded below
  // Host (DNS-rebinding guard) and Origin (CORS) checks first, as Ollama's
  // middleware does (server/access.h); a CORS preflight is answered here.
  // Then the body size: httplib reads a whole body into memory before a
  // handler runs, so only blob uploads (streamed to disk) may be large.
  const std::string bind_host = address.host;
  const char* origins_env = std::getenv("FOLIO_ORIGINS");
  auto origins = std::make_shared<OriginPolicy>(origins_env != nullptr ? origins_env : "");
  h.set_pre_routing_handler([bind_host, origins](const httplib::Request& req, httplib::Response& res) {
    const std::string host = req.get_header_value("Host");
    if (!host_allowed(host, bind_host)) {
      send(res, api::error(403, "request for host '" + host + "' refused: folio listens on " + bind_host +
                                    " and answers only local host names (set FOLIO_HOST to listen beyond this machine)"));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_header("Origin")) {
      const std::string origin = req.get_header_value("Origin");
      if (!origins->allowed(origin)) {
        send(res, api::error(403, "origin '" + origin + "' is not allowed; add it to FOLIO_ORIGINS"));
        return httplib::Server::HandlerResponse::Handled;
      }
      if (req.method == "OPTIONS") {
        res.status = 204;
        res.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS");
        res.set_header("Access-Control-Allow-Headers", kCorsHeaders);
        res.set_header("Access-Control-Max-Age", "43200");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (req.path.rfind("/api/blobs/", 0) == 0) return httplib::Server::HandlerResponse::Unhandled;
    // A chunked body has no size to check before httplib reads it all
    // into memory: JSON bodies must say their length.
    if (req.has_header("Transfer-Encoding") &&
        to_lower(req.get_header_value("Transfer-Encoding")).find("chunked") != std::string::npos) {
      res.set_header("Connection", "close");
      send(res, api::error(411, "send the request body with a Content-Length (chunked bodies are taken only by "
                                "blob uploads)"));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!req.has_header("Content-Length")) return httplib::Server::HandlerResponse::Unhandled;
    const uint64_t n = std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10);
    if (n <= api::kMaxBodyBytes) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("Connection", "close");  // the body is not read
    send(res, api::error(413, "request body too large (" + human_bytes(n) + "; at most " + human_bytes(api::kMaxBodyBytes) + ")"));
    return httplib::Server::HandlerResponse::Handled;
  });
  // An allowed Origin is echoed on every answer (the pre-routing handler
  // refused the others), preflights included.
  h.set_post_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_header("Origin")) return;
    res.set_header("Access-Control-Allow-Origin", req.get_header_value("Origin"));
    res.set_header("Vary", "Origin");
  });
  h.set_logger([s](const httplib::Request& req, const httplib::Response& res) {
    if (!s->log_requests) return;
    std::fprintf(stderr, "[folio] %d | %s | %s %s\n", res.status, req.remote_addr.c_str(), req.method.c_str(),
                 req.path.c_str());
  });
  // Routes folio does not have (and methods a route does not take): a JSON
  // error naming them, rather than an empty 404.
  h.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404 && res.body.empty() && req.method != "HEAD") {
      send(res, api::error(404, "no route " + req.method + " " + req.path + " (see the API in README.md)"));
    }
  });
  h.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send(res, api::error(500, what));
  });
  h.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content("Folio is running", "text/plain"); });
  h.Get("/api/version", [](const httplib::Request&, httplib::Response& res) {
    send(res, {200, json{{"version", FOLIO_VERSION}}});
  });
  h.Get("/api/tags", [s](const httplib::Request&, httplib::Response& res) { send(res, api::tags(s->store)); });
  h.Post("/api/show", [s](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (parse_body(req, res, &body)) send(res, api::show(s->store, body));
  });
  h.Post("/api/copy", [s](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!parse_body(req, res, &body)) return;
    std::lock_guard<std::mutex> lock(s->write_mu);
    send(res, api::copy(s->store, body));
  });
  h.Delete("/api/delete", [s](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!parse_body(req, res, &body)) return;
    std::lock_guard<std::mutex> lock(s->write_mu);
    send(res, api::remove(s->store, body));
  });
  // HEAD is answered by the GET handler (without a body).
  h.Get(R"(/api/blobs/([^/]+))", [s](const httplib::Request& req, httplib::Response& res) {
    const std::string digest = normal_digest(req.matches[1]);
    if (!is_valid_digest(digest)) return send(res, api::error(400, "invalid digest '" + escape_for_display(digest) + "'"));
    res.status = s->store.has_blob(digest) ? 200 : 404;
  });
  h.Post(R"(/api/blobs/([^/]+))",
         [s](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
           const std::string digest = normal_digest(req.matches[1]);
           if (!is_valid_digest(digest)) {
             return send(res, api::error(400, "invalid digest '" + escape_for_display(digest) + "'"));
           }
           if (s->store.has_blob(digest)) {
             reader([](const char*, size_t) { return true; });  // drain
             res.status = 200;
             return;
           }
           // Streamed to disk as it arrives, hashed on the way; nothing is
           // kept unless the digest matches.
           auto w = s->store.start_blob(digest);
           if (!w.ok()) return send(res, api::error(500, w.error().message));
           Result<void> written;
           reader([&](const char* data, size_t n) {
             written = w->write(data, n);
             return written.ok();
           });
           if (!written.ok()) return send(res, api::error(500, written.error().message));
           auto r = w->finish();
           if (!r.ok()) return send(res, api::error(400, r.error().message));
           res.status = 201;
         });
  // Generation: prepared (status codes for every error up to here), then
  // streamed as NDJSON, or answered as one object with stream:false.
  for (auto [route, kind] : {std::pair{"/api/generate", api::Prepared::Kind::kGenerate},
                             std::pair{"/api/chat", api::Prepared::Kind::kChat}}) {
    h.Post(route, [s, kind = kind](const httplib::Request& req, httplib::Response& res) {
      json body;
      if (!parse_body(req, res, &body)) return;
      auto p = std::make_shared<api::Prepared>();
      if (api::Reply r = api::prepare(s->store, s->sched, kind, body, p.get(), client_gone(req)); r.status != 200) {
        return send(res, r);
      }
      if (!p->stream) {
        const json final = api::run(*p, [](const json&) { return true; });
        return send(res, {final.contains("error") ? 500 : 200, final});
      }
      res.status = 200;
      res.set_chunked_content_provider("application/x-ndjson", [p](size_t, httplib::DataSink& sink) {
        try {
          api::run(*p, [&](const json& j) {
            const std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
            // A client that went away stops generation and frees its slot.
            return sink.is_writable() && sink.write(line.data(), line.size());
          });
        } catch (const std::exception& e) {
          const std::string line = json{{"error", std::string("internal error: ") + e.what()}}.dump() + "\n";
          sink.write(line.data(), line.size());
        }
        p->lease.reset();
        sink.done();
        return true;
      });
    });
  }
  h.Post("/api/embed", [s](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (parse_body(req, res, &body)) send(res, api::embed(s->store, s->sched, body, client_gone(req)));
  });
  h.Post("/api/embeddings", [s](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (parse_body(req, res, &body)) send(res, api::embeddings(s->store, s->sched, body, client_gone(req)));
  });
  add_openai_routes(h, s->store, s->sched);
  add_registry_routes(h, s->store, s->write_mu);
  h.Get("/api/ps", [s](const httplib::Request&, httplib::Response& res) { send(res, api::ps(s->store, s->sched)); });
  h.Post("/api/create", [s](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!parse_body(req, res, &body)) return;
    const bool stream = !body.contains("stream") || !body["stream"].is_boolean() || body["stream"].get<bool>();
    if (!stream) {
      std::lock_guard<std::mutex> lock(s->write_mu);
      return send(res, api::create(s->store, body, [](const json&) {}));
    }
    // A request that is wrong on its face gets its status code; after that
    // progress streams as NDJSON while the model is made, and a failure
    // arrives as a last {"error": ...} line, as Ollama does.
    if (api::Reply bad = api::check_create_request(body); bad.status != 200) return send(res, bad);
    res.status = 200;
    res.set_chunked_content_provider("application/x-ndjson", [s, body](size_t, httplib::DataSink& sink) {
      const auto put = [&](const json& j) {
        const std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
        sink.write(line.data(), line.size());  // a client that left just stops reading
      };
      std::lock_guard<std::mutex> lock(s->write_mu);
      // Runs after routing, outside httplib's exception handler: anything
      // thrown here must end as the stream's last line, not the process.
      try {
        put(api::create(s->store, body, put).body);
      } catch (const std::exception& e) {
        put(json{{"error", std::string("internal error: ") + e.what()}});
      }
      sink.done();
      return true;
    });
  });
}

Server::~Server() = default;

Result<void> Server::bind() {
  const HostPort& a = impl_->address;
  if (a.port == 0) {
    impl_->port = impl_->http.bind_to_any_port(a.host);
    if (impl_->port < 0) return make_error("cannot listen on %s: %s", a.url().c_str(), bind_failure(a).c_str());
    return {};
  }
  if (!impl_->http.bind_to_port(a.host, a.port)) {
    const std::string why = bind_failure(a);
    return make_error("cannot listen on %s:%d: %s; is folio (or ollama) already running? Set FOLIO_HOST to another "
                      "address, e.g. FOLIO_HOST=127.0.0.1:11435",
                      a.host.c_str(), a.port, why.c_str());
  }
  impl_->port = a.port;
  return {};
}

int Server::port() const { return impl_->port; }

void Server::run() { impl_->http.listen_after_bind(); }

void Server::stop() { impl_->http.stop(); }

void Server::set_request_log(bool on) { impl_->log_requests = on; }

}  // namespace folio
