#include "server/access.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace folio {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The host part of a Host header: "h", "h:port", "[v6]", "[v6]:port", "v6".
std::string host_part(std::string_view h) {
  if (!h.empty() && h.front() == '[') {
    const size_t close = h.find(']');
    return std::string(h.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  const size_t colon = h.find(':');
  if (colon != std::string_view::npos && h.find(':', colon + 1) == std::string_view::npos) return std::string(h.substr(0, colon));
  return std::string(h);
}

struct Ip {
  int family = 0;  // AF_INET, AF_INET6, 0: not an address
  unsigned char b[16] = {};
};

Ip parse_ip(const std::string& s) {
  Ip ip;
  if (inet_pton(AF_INET, s.c_str(), ip.b) == 1) ip.family = AF_INET;
  else if (inet_pton(AF_INET6, s.c_str(), ip.b) == 1) ip.family = AF_INET6;
  return ip;
}

bool is_loopback(const Ip& ip) {
  if (ip.family == AF_INET) return ip.b[0] == 127;
  static const unsigned char v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return ip.family == AF_INET6 && std::memcmp(ip.b, v6, 16) == 0;
}

bool is_private_or_unspecified(const Ip& ip) {
  if (ip.family == AF_INET) {
    const unsigned char* b = ip.b;
    return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) ||
           (b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0);
  }
  if (ip.family == AF_INET6) {
    static const unsigned char zero[16] = {};
    return (ip.b[0] & 0xFE) == 0xFC || std::memcmp(ip.b, zero, 16) == 0;
  }
  return false;
}

bool is_interface_address(const Ip& ip) {
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (struct ifaddrs* a = list; a != nullptr && !found; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != ip.family) continue;
    if (ip.family == AF_INET) {
      found = std::memcmp(&reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, ip.b, 4) == 0;
    } else {
      found = std::memcmp(&reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, ip.b, 16) == 0;
    }
  }
  freeifaddrs(list);
  return found;
}

bool bound_to_loopback(std::string_view bind_host) {
  const std::string h = lower(host_part(bind_host));
  if (h == "localhost") return true;
  return is_loopback(parse_ip(h));
}

}  // namespace

bool host_allowed(std::string_view host_header, std::string_view bind_host) {
  if (!bound_to_loopback(bind_host)) return true;  // listening beyond this machine: the user chose so
  const std::string host = lower(host_part(host_header));
  if (host.empty() || host == "localhost") return true;
  const Ip ip = parse_ip(host);
  if (ip.family != 0) return is_loopback(ip) || is_private_or_unspecified(ip) || is_interface_address(ip);
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) == 0 && host == lower(name)) return true;
  return ends_with(host, ".localhost") || ends_with(host, ".local") || ends_with(host, ".internal");
}

OriginPolicy::OriginPolicy(std::string_view origins_env) {
  size_t at = 0;
  while (at <= origins_env.size() && !origins_env.empty()) {
    const size_t comma = std::min(origins_env.find(',', at), origins_env.size());
    std::string o = lower(origins_env.substr(at, comma - at));
    o.erase(0, o.find_first_not_of(" \t"));
    o.erase(o.find_last_not_of(" \t") + 1);
    if (!o.empty()) patterns_.push_back(o);
    at = comma + 1;
  }
  for (const char* host : {"localhost", "127.0.0.1", "0.0.0.0"}) {
    for (const char* scheme : {"http://", "https://"}) {
      patterns_.push_back(std::string(scheme) + host);
      patterns_.push_back(std::string(scheme) + host + ":*");
    }
  }
  for (const char* p : {"app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*"}) patterns_.push_back(p);
}

bool OriginPolicy::allowed(std::string_view origin_in) const {
  const std::string origin = lower(origin_in);
  // Browser extensions, as gin-contrib/cors' AllowBrowserExtensions.
  for (const char* ext : {"chrome-extension://", "moz-extension://", "safari-extension://", "ms-browser-extension://"}) {
    if (origin.rfind(ext, 0) == 0) return true;
  }
  for (const std::string& p : patterns_) {
    if (p == "*") return true;
    const size_t star = p.find('*');
    if (star == std::string::npos) {
      if (origin == p) return true;
      continue;
    }
    const std::string_view prefix(p.data(), star), suffix(p.data() + star + 1, p.size() - star - 1);
    if (origin.size() >= prefix.size() + suffix.size() && origin.compare(0, prefix.size(), prefix) == 0 &&
        ends_with(origin, suffix)) {
      return true;
    }
  }
  return false;
}

}  // namespace folio
