#include "server/access.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace folio {
namespace {

// Ollama's allowedHostsMiddleware rules, on a server bound to loopback.
TEST(Access, LoopbackServerAnswersOnlyLocalHostNames) {
  for (const char* h : {"", "localhost", "LOCALHOST:11434", "127.0.0.1", "127.0.0.1:11434", "127.5.6.7", "[::1]:11434",
                        "::1", "10.1.2.3", "172.16.0.1:80", "192.168.1.10", "0.0.0.0", "app.localhost",
                        "printer.local:631", "db.internal"}) {
    EXPECT_TRUE(host_allowed(h, "127.0.0.1")) << h;
  }
  for (const char* h : {"evil.example.com", "evil.example.com:11434", "8.8.8.8", "172.32.0.1", "[2001:db8::1]:80",
                        "localhost.evil.com", "local", "internal.example"}) {
    EXPECT_FALSE(host_allowed(h, "127.0.0.1")) << h;
  }
  char name[256] = {};
  ASSERT_EQ(gethostname(name, sizeof name - 1), 0);
  EXPECT_TRUE(host_allowed(std::string(name) + ":11434", "127.0.0.1"));
  EXPECT_FALSE(host_allowed("evil.example.com", "localhost"));
  EXPECT_FALSE(host_allowed("evil.example.com", "::1"));
}

// Bound beyond this machine (FOLIO_HOST=0.0.0.0 or an interface address),
// the user chose to be reachable: any Host is answered.
TEST(Access, NonLoopbackServerAnswersAnyHost) {
  EXPECT_TRUE(host_allowed("evil.example.com", "0.0.0.0"));
  EXPECT_TRUE(host_allowed("evil.example.com", "192.168.1.5"));
  EXPECT_TRUE(host_allowed("evil.example.com", "::"));
}

TEST(Access, OriginsAsOllamaAllowsThem) {
  const OriginPolicy none("");
  for (const char* o : {"http://localhost", "https://localhost", "http://localhost:3000", "https://127.0.0.1:8443",
                        "http://0.0.0.0:80", "app://obsidian.md", "file://", "tauri://localhost",
                        "vscode-webview://abc", "vscode-file://vscode-app", "chrome-extension://abcdef",
                        "moz-extension://1234", "HTTP://LOCALHOST:3000"}) {
    EXPECT_TRUE(none.allowed(o)) << o;
  }
  for (const char* o : {"http://evil.example.com", "http://localhost.evil.com", "https://127.0.0.1.nip.io",
                        "null", "http://192.168.1.2:3000"}) {
    EXPECT_FALSE(none.allowed(o)) << o;
  }
  const OriginPolicy mine(" https://my.app , http://*.example.org ,http://192.168.1.2:3000");
  EXPECT_TRUE(mine.allowed("https://my.app"));
  EXPECT_FALSE(mine.allowed("https://my.app.evil"));
  EXPECT_TRUE(mine.allowed("http://a.example.org"));
  EXPECT_FALSE(mine.allowed("https://a.example.org"));
  EXPECT_TRUE(mine.allowed("http://192.168.1.2:3000"));
  EXPECT_TRUE(mine.allowed("http://localhost:5173"));  // the defaults stay
  EXPECT_TRUE(OriginPolicy("*").allowed("http://anything.example"));
}

}  // namespace
}  // namespace folio
