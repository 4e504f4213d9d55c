#include <gtest/gtest.h>

#include "base/fs.h"
#include "base/strings.h"
#include "base/threads.h"
#include "test_util.h"

namespace folio {
namespace {

TEST(Strings, HumanCountAsOllama) {
  EXPECT_EQ(human_count(999), "999");
  EXPECT_EQ(human_count(292800), "293K");
  EXPECT_EQ(human_count(1312000), "1.31M");
  EXPECT_EQ(human_count(494032768), "494.03M");
  EXPECT_EQ(human_count(8030261248ull), "8.0B");
  EXPECT_EQ(human_count(1026400000000ull), "1026.4B");  // no T, as Ollama's HumanNumber
  EXPECT_EQ(human_count(7000000000ull), "7B");
  EXPECT_EQ(human_count(671000000000ull), "671B");
  EXPECT_EQ(human_count(116829156672ull), "116.8B");
}

TEST(Strings, HumanBytes) {
  EXPECT_EQ(human_bytes(12), "12 B");
  EXPECT_EQ(human_bytes(1185376), "1.2 MB");
  EXPECT_EQ(human_bytes(4920000000ull), "4.9 GB");
  EXPECT_EQ(human_bytes(755232), "755 KB");
}

TEST(Strings, ParseSize) {
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("100M"), 100000000u);
  EXPECT_EQ(parse_size("1.5G"), 1500000000u);
  EXPECT_EQ(parse_size("64KiB"), 65536u);
  EXPECT_FALSE(parse_size("").has_value());
  EXPECT_FALSE(parse_size("12 parsecs").has_value());
  EXPECT_FALSE(parse_size("-3").has_value());
}

TEST(AtomicFile, UncommittedLeavesNothingCommittedAppears) {
  testing::TempDir dir;
  {
    auto f = AtomicFile::create(dir.file("a"));
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->write("hello", 5).ok());
    for (const std::string& name : dir.list()) EXPECT_NE(name, "a");  // at most a hidden temporary
  }
  EXPECT_TRUE(dir.list().empty());
  auto f = AtomicFile::create(dir.file("b"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(f->write("hello", 5).ok());
  ASSERT_TRUE(f->write_zeros(3).ok());
  ASSERT_TRUE(f->commit().ok());
  EXPECT_EQ(dir.list(), std::vector<std::string>{"b"});
  EXPECT_EQ(testing::read_file(dir.file("b")).size(), 8u);
  auto bad = AtomicFile::create(dir.path() + "/missing/dir/c");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("missing/dir"), std::string::npos);
}

TEST(Threads, ParallelForCoversEveryIndexOnce) {
  std::vector<int> hits(1000, 0);
  parallel_for(1000, 4, 10, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) ++hits[i];
  });
  for (int h : hits) ASSERT_EQ(h, 1);
  EXPECT_GE(available_cpus(), 1);
}

}  // namespace
}  // namespace folio
