// Every fuzz target (fuzz/*_fuzz.cpp) over its committed inputs: the seed
// corpus (fuzz/corpus/<target>) and the inputs the fuzzers found and that
// were fixed (fuzz/regressions/<target>), so a fixed crash stays fixed in
// the plain and ASan+UBSan test builds. A target that fails aborts the
// test binary, naming the input first.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "fuzz_target.h"
#include "test_util.h"

namespace folio {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> inputs(const std::string& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FuzzRegression, EveryTargetHasASeedCorpus) {
  const auto& targets = fuzz::targets();
  std::vector<std::string> names;
  for (const auto& t : targets) names.push_back(t.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"gguf", "modelfile", "request", "template", "tokenizer"}));
  for (const auto& t : targets) {
    EXPECT_FALSE(inputs(std::string(FOLIO_FUZZ_DIR) + "/corpus/" + t.name).empty()) << t.name;
  }
}

TEST(FuzzRegression, EveryTargetTakesItsCorpusAndFoundInputs) {
  for (const auto& t : fuzz::targets()) {
    size_t n = 0;
    for (const char* kind : {"corpus", "regressions"}) {
      for (const fs::path& p : inputs(std::string(FOLIO_FUZZ_DIR) + "/" + kind + "/" + t.name)) {
        const std::vector<uint8_t> bytes = testing::read_file(p.string());
        SCOPED_TRACE(p.string());
        EXPECT_EQ(t.fn(bytes.data(), bytes.size()), 0) << p;
        ++n;
      }
    }
    std::printf("  [ fuzz ] %-10s %zu inputs\n", t.name.c_str(), n);
  }
}

}  // namespace
}  // namespace folio
