#include "server/address.h"

#include <gtest/gtest.h>

namespace folio {
namespace {

HostPort parsed(const std::string& s) {
  auto r = parse_host(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.error().message;
  return r.ok() ? *r : HostPort{};
}

TEST(Address, FormsOllamaAccepts) {
  EXPECT_EQ(parsed("").url(), "http://127.0.0.1:11434");
  EXPECT_EQ(parsed("0.0.0.0").url(), "http://0.0.0.0:11434");
  EXPECT_EQ(parsed(":8080").url(), "http://127.0.0.1:8080");
  EXPECT_EQ(parsed("example.com:1").url(), "http://example.com:1");
  EXPECT_EQ(parsed("http://10.0.0.2:9000/").url(), "http://10.0.0.2:9000");
  EXPECT_EQ(parsed("https://h").url(), "http://h:11434");
  EXPECT_EQ(parsed("[::1]:11435").url(), "http://[::1]:11435");
  EXPECT_EQ(parsed("[::1]").host, "::1");
  EXPECT_EQ(parsed("127.0.0.1:0").port, 0);
}

TEST(Address, BadValuesSayWhat) {
  EXPECT_EQ(parse_host("h:port").error().message, "FOLIO_HOST 'h:port': 'port' is not a port (0-65535)");
  EXPECT_EQ(parse_host("h:70000").error().message, "FOLIO_HOST 'h:70000': '70000' is not a port (0-65535)");
  EXPECT_EQ(parse_host("[::1").error().message, "FOLIO_HOST '[::1': unclosed '['");
  EXPECT_EQ(parse_host("[::1]x").error().message, "FOLIO_HOST '[::1]x': expected :port after ']'");
}

}  // namespace
}  // namespace folio
