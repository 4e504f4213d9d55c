// The official `ollama` and `openai` npm clients against `folio serve`:
// runs tests/js/clients.test.mjs with node (the packages are installed by
// `make test`: npm ci in tests/js).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <regex>

#include "ollama_store.h"
#include "test_util.h"

namespace folio {
namespace {

bool exists(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0;
}

TEST(JsClients, OfficialOllamaAndOpenAIPackages) {
  const std::string dir = std::string(FOLIO_TEST_DATA) + "/../js";
  std::string node;
  for (const char* p : {"/usr/bin/node", "/usr/local/bin/node", "/usr/bin/nodejs"}) {
    if (exists(p)) {
      node = p;
      break;
    }
  }
  ASSERT_FALSE(node.empty()) << "node is not installed: run `make test` (scripts/install-deps.sh installs nodejs)";
  ASSERT_TRUE(exists(dir + "/node_modules/ollama") && exists(dir + "/node_modules/openai"))
      << "the npm packages are missing: run `make test` (it runs npm ci in tests/js)";
  testing::OllamaStore store;
  testing::ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  const testing::RunResult r =
      testing::run_process({node, "--test", "--test-reporter=tap", dir + "/clients.test.mjs"}, "", server.env());
  std::smatch m;
  const bool has_pass = std::regex_search(r.out, m, std::regex(R"(# pass (\d+))"));
  const int passed = has_pass ? std::stoi(m[1]) : 0;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("# fail 0"), std::string::npos) << r.out;
  EXPECT_GE(passed, 17) << "the JS suite ran fewer tests than it has: " << r.out;
}

}  // namespace
}  // namespace folio
