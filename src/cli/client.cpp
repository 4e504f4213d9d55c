#include "cli/client.h"

#include <httplib.h>

#include <cstdio>

#include "base/fs.h"
#include "base/strings.h"

namespace folio::cli {

using nlohmann::json;

// The longest NDJSON line a stream may send (see stream_until).
constexpr size_t kMaxStreamLine = size_t{64} << 20;

struct ApiClient::Impl {
  explicit Impl(HostPort a) : address(std::move(a)), http(address.host, address.port) {
    http.set_read_timeout(3600, 0);  // quantizing a large model takes a while
    http.set_write_timeout(3600, 0);
  }
  HostPort address;
  httplib::Client http;

  Error unreachable(const httplib::Error& e) const {
    return make_error("could not connect to a folio server at %s (%s); start one with `folio serve`, or set FOLIO_HOST",
                      address.url().c_str(), httplib::to_string(e).c_str());
  }
};

namespace {

Error from_response(int status, const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return Error{j["error"].get<std::string>()};
  return make_error("the server answered %d", status);
}

}  // namespace

ApiClient::ApiClient(HostPort address) : impl_(std::make_unique<Impl>(std::move(address))) {}
ApiClient::ApiClient(ApiClient&&) noexcept = default;
ApiClient::~ApiClient() = default;

Result<ApiClient> ApiClient::from_env() {
  FOLIO_ASSIGN_OR_RETURN(HostPort a, host_from_env());
  if (a.host == "0.0.0.0" || a.host.empty()) a.host = "127.0.0.1";
  if (a.host == "::") a.host = "::1";
  return ApiClient(a);
}

Result<json> ApiClient::call(const std::string& method, const std::string& path, const json& body) {
  const std::string text = body.is_null() ? "" : body.dump();
  httplib::Result r = method == "GET"      ? impl_->http.Get(path)
                      : method == "DELETE" ? impl_->http.Delete(path, text, "application/json")
                                           : impl_->http.Post(path, text, "application/json");
  if (!r) return impl_->unreachable(r.error());
  if (r->status < 200 || r->status >= 300) return from_response(r->status, r->body);
  if (r->body.empty()) return json(nullptr);
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return make_error("the server sent invalid JSON");
  return j;
}

const HostPort& ApiClient::address() const { return impl_->address; }

Result<void> ApiClient::stream(const std::string& path, const json& body,
                               const std::function<void(const json&)>& on_line) {
  FOLIO_TRY(stream_until(path, body, [&](const json& j) {
    on_line(j);
    return true;
  }));
  return {};
}

Result<bool> ApiClient::stream_until(const std::string& path, const json& body,
                                     const std::function<bool(const json&)>& on_line) {
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  std::string pending, body_text;
  Error failure;
  bool failed = false, stopped = false;
  int status = 0;
  req.response_handler = [&](const httplib::Response& res) {
    status = res.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (status < 200 || status >= 300) {
      body_text.append(data, n);
      return true;
    }
    pending.append(data, n);
    // One NDJSON line is one object (a final reply with its context is the
    // largest); a server that sends more without a newline is not folio's
    // or Ollama's.
    if (pending.size() > kMaxStreamLine && pending.find('\n') == std::string::npos) {
      failure = Error{"the server sent a streamed line longer than " + human_bytes(kMaxStreamLine) + "; is it an Ollama API?"};
      failed = true;
      return false;
    }
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      const json j = json::parse(pending.substr(0, nl), nullptr, false);
      pending.erase(0, nl + 1);
      if (!j.is_object()) continue;
      if (j.contains("error")) {
        failure = Error{j["error"].is_string() ? j["error"].get<std::string>() : j["error"].dump()};
        failed = true;
        return false;
      }
      if (!on_line(j)) {
        stopped = true;
        return false;
      }
    }
    return true;
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  const bool ok = impl_->http.send(req, res, err);
  if (failed) return failure;
  if (stopped) return true;
  if (!ok && status == 0) return impl_->unreachable(err);
  if (status < 200 || status >= 300) return from_response(status, body_text);
  return false;
}

Result<int> ApiClient::head(const std::string& path) {
  auto r = impl_->http.Head(path);
  if (!r) return impl_->unreachable(r.error());
  return r->status;
}

Result<void> ApiClient::upload(const std::string& path, const std::string& file,
                               const std::function<void(uint64_t, uint64_t)>& progress) {
  FOLIO_ASSIGN_OR_RETURN(uint64_t size, file_size(file));
  FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) return make_error("cannot open %s", file.c_str());
  auto r = impl_->http.Post(
      path, size,
      [f, size, &progress](size_t offset, size_t length, httplib::DataSink& sink) {
        std::string buf(std::min<size_t>(length, 1 << 20), '\0');
        std::fseek(f, static_cast<long>(offset), SEEK_SET);
        const size_t n = std::fread(buf.data(), 1, buf.size(), f);
        if (n == 0) return false;
        sink.write(buf.data(), n);
        if (progress) progress(offset + n, size);
        return true;
      },
      "application/octet-stream");
  std::fclose(f);
  if (!r) return impl_->unreachable(r.error());
  if (r->status != 200 && r->status != 201) return from_response(r->status, r->body);
  return {};
}

}  // namespace folio::cli
