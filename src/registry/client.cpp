#include "registry/client.h"

#include <httplib.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace folio {

namespace {

constexpr const char* kUserAgent = "folio/" FOLIO_VERSION;

std::unique_ptr<httplib::Client> client_for(const std::string& origin) {
  auto c = std::make_unique<httplib::Client>(origin);
  c->set_follow_location(true);  // blobs are often served from a storage host
  c->set_connection_timeout(30);
  c->set_read_timeout(300);
  c->set_write_timeout(300);
  return c;
}

httplib::Headers to_headers(const HeaderList& list) {
  httplib::Headers h;
  for (const auto& [k, v] : list) h.emplace(k, v);
  h.emplace("User-Agent", kUserAgent);
  return h;
}

RegistryResponse from(const httplib::Response& res) {
  RegistryResponse r;
  r.status = res.status;
  r.body = res.body;
  for (const auto& [k, v] : res.headers) r.headers[to_lower(k)] = v;
  return r;
}

Error unreachable(const std::string& origin, httplib::Error e) {
  std::string why;
  switch (e) {
    case httplib::Error::Connection: why = "cannot connect (is it running, is the address right?)"; break;
    case httplib::Error::ConnectionTimeout: why = "timed out connecting"; break;
    case httplib::Error::Read: why = "the connection dropped while reading"; break;
    case httplib::Error::Write: why = "the connection dropped while writing"; break;
    case httplib::Error::SSLConnection: why = "the TLS handshake failed"; break;
    case httplib::Error::SSLServerVerification:
      why = "its TLS certificate is not signed by a CA this system trusts (use --insecure only for an http registry)";
      break;
    case httplib::Error::ExceedRedirectCount: why = "too many redirects"; break;
    default: why = httplib::to_string(e);
  }
  return make_error("cannot reach the registry at %s: %s", origin.c_str(), why.c_str());
}

// key="value" pairs of a WWW-Authenticate challenge.
std::map<std::string, std::string> challenge_params(const std::string& header) {
  std::map<std::string, std::string> out;
  size_t i = header.find(' ');
  while (i != std::string::npos && i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ',')) ++i;
    const size_t eq = header.find('=', i);
    if (eq == std::string::npos) break;
    const std::string key = to_lower(header.substr(i, eq - i));
    std::string value;
    size_t j = eq + 1;
    if (j < header.size() && header[j] == '"') {
      const size_t close = header.find('"', j + 1);
      value = header.substr(j + 1, close == std::string::npos ? std::string::npos : close - j - 1);
      j = close == std::string::npos ? header.size() : close + 1;
    } else {
      const size_t comma = header.find(',', j);
      value = header.substr(j, comma == std::string::npos ? std::string::npos : comma - j);
      j = comma;
    }
    out[key] = value;
    i = j;
  }
  return out;
}

}  // namespace

std::string RegistryResponse::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

std::pair<std::string, std::string> split_url(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return {"", url};
  const size_t path = url.find('/', scheme + 3);
  if (path == std::string::npos) return {url, "/"};
  return {url.substr(0, path), url.substr(path)};
}

RegistryClient::RegistryClient(RegistryTarget target) : target_(std::move(target)) {}

std::pair<std::string, std::string> RegistryClient::locate(const std::string& path_or_url) const {
  auto [origin, path] = split_url(path_or_url);
  return {origin.empty() ? target_.origin() : origin, path};
}

namespace {

// A request with the caller's headers and the authorization.
httplib::Request make_request(const std::string& method, const std::string& path, const HeaderList& headers,
                              const HeaderList& auth) {
  HeaderList all = headers;
  all.insert(all.end(), auth.begin(), auth.end());
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.headers = to_headers(all);
  return req;
}

}  // namespace

Result<RegistryResponse> RegistryClient::authorized(
    const std::function<Result<RegistryResponse>(const HeaderList&)>& attempt) {
  for (int round = 0;; ++round) {
    HeaderList auth;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!token_.empty()) auth.emplace_back("Authorization", "Bearer " + token_);
    }
    FOLIO_ASSIGN_OR_RETURN(RegistryResponse r, attempt(auth));
    const std::string challenge = r.header("www-authenticate");
    if (r.status != 401 || round > 0 || to_lower(challenge).rfind("bearer ", 0) != 0) return r;
    FOLIO_TRY(fetch_token(challenge));
  }
}

Result<void> RegistryClient::fetch_token(const std::string& challenge) {
  const auto p = challenge_params(challenge);
  const auto realm = p.find("realm");
  if (realm == p.end()) return make_error("the registry asked for a token without saying where to get it");
  std::string query;
  for (const char* key : {"service", "scope"}) {
    if (const auto it = p.find(key); it != p.end()) {
      query += (query.empty() ? "?" : "&") + std::string(key) + "=" + httplib::detail::encode_query_param(it->second);
    }
  }
  const auto [origin, path] = split_url(realm->second);
  if (origin.empty()) return make_error("the registry's token realm '%s' is not a URL", realm->second.c_str());
  auto c = client_for(origin);
  auto res = c->Get(path + query, to_headers({}));
  if (!res) return unreachable(origin, res.error());
  if (res->status != 200) {
    return make_error("the registry refused a token (%s)", registry_error(from(*res)).c_str());
  }
  const auto j = nlohmann::json::parse(res->body, nullptr, false);
  std::string token;
  for (const char* key : {"token", "access_token"}) {
    if (j.is_object() && j.contains(key) && j[key].is_string()) token = j[key].get<std::string>();
    if (!token.empty()) break;
  }
  if (token.empty()) return make_error("the registry's token answer has no token");
  std::lock_guard<std::mutex> lock(mu_);
  token_ = token;
  return {};
}

Result<RegistryResponse> RegistryClient::request(const std::string& method, const std::string& path_or_url,
                                                 const HeaderList& headers, const std::string& body,
                                                 const std::string& content_type) {
  const auto [origin, path] = locate(path_or_url);
  return authorized([&, origin = origin, path = path](const HeaderList& auth) -> Result<RegistryResponse> {
    auto c = client_for(origin);
    httplib::Request req = make_request(method, path, headers, auth);
    if (!body.empty() || method == "PUT" || method == "POST") {
      req.body = body;
      if (!content_type.empty()) req.set_header("Content-Type", content_type);
    }
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    if (!c->send(req, res, err)) return unreachable(origin, err);
    return from(res);
  });
}

Result<RegistryResponse> RegistryClient::download(const std::string& path_or_url, const HeaderList& headers,
                                                  const std::function<bool(const char*, size_t)>& on_data) {
  const auto [origin, path] = locate(path_or_url);
  return authorized([&, origin = origin, path = path](const HeaderList& auth) -> Result<RegistryResponse> {
    auto c = client_for(origin);
    int status = 0;
    std::string error_body;
    bool stopped = false;
    httplib::Request req = make_request("GET", path, headers, auth);
    req.response_handler = [&](const httplib::Response& r) {
      status = r.status;
      return true;
    };
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      if (status < 200 || status >= 300) {
        if (error_body.size() < 65536) error_body.append(data, n);
        return true;
      }
      if (!on_data(data, n)) {
        stopped = true;
        return false;
      }
      return true;
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    const bool ok = c->send(req, res, err);
    if (stopped) return make_error("download stopped");
    if (!ok) return unreachable(origin, err);
    RegistryResponse r = from(res);
    if (r.status < 200 || r.status >= 300) r.body = error_body;
    return r;
  });
}

Result<RegistryResponse> RegistryClient::upload(const std::string& path_or_url, int fd, uint64_t size,
                                                const std::function<void(uint64_t)>& progress) {
  const auto [origin, path] = locate(path_or_url);
  return authorized([&, origin = origin, path = path](const HeaderList& auth) -> Result<RegistryResponse> {
    auto c = client_for(origin);
    Error read_error;
    bool failed = false;
    auto res = c->Put(
        path, to_headers(auth), static_cast<size_t>(size),
        [&](size_t offset, size_t length, httplib::DataSink& sink) {
          char buf[1 << 16];
          const size_t want = std::min(length, sizeof buf);
          const ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(offset));
          if (n <= 0) {
            read_error = make_error("cannot read the blob being pushed");
            failed = true;
            return false;
          }
          if (!sink.write(buf, static_cast<size_t>(n))) return false;
          if (progress) progress(offset + static_cast<uint64_t>(n));
          return true;
        },
        "application/octet-stream");
    if (failed) return read_error;
    if (!res) return unreachable(origin, res.error());
    return from(*res);
  });
}

std::string registry_error(const RegistryResponse& r) {
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty() &&
      j["errors"][0].is_object()) {
    const auto& e = j["errors"][0];
    std::string msg = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "error";
    if (e.contains("code") && e["code"].is_string()) msg += " (" + e["code"].get<std::string>() + ")";
    return msg;
  }
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  std::string text = r.body.substr(0, 200);
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return "HTTP " + std::to_string(r.status) + (text.empty() ? "" : ": " + text);
}

}  // namespace folio
