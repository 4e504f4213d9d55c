#include "memory/mapped_file.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cstring>

#include "memory/model_file.h"
#include "memory/proc_status.h"
#include "synth/synth.h"
#include "sanitizers.h"
#include "test_util.h"

namespace folio {
namespace {

using folio::testing::TempDir;

TEST(MappedFile, BothModesSeeTheFileBytes) {
  TempDir dir;
  std::vector<uint8_t> bytes(100000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 13 + 1);
  testing::write_file(dir.file("f"), bytes);
  for (LoadMode mode : {LoadMode::kMmap, LoadMode::kRead}) {
    auto m = MappedFile::open(dir.file("f"), {mode, false});
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->mode(), mode);
    ASSERT_EQ(m->size(), bytes.size());
    EXPECT_EQ(0, std::memcmp(m->data(), bytes.data(), bytes.size()));
    m->advise_willneed(99990, 1000);  // past the end: clamped, no crash
    m->advise_random();
    MappedFile moved = std::move(m).value();
    EXPECT_EQ(moved.size(), bytes.size());
  }
}

// use_huge_pages may replace the mapping in place and drop the file's cached
// pages: the address and every byte must stay as they were.
TEST(MappedFile, HugePagesKeepTheAddressAndTheBytes) {
  TempDir dir;
  std::vector<uint8_t> bytes((9u << 20) + 4321);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 29 + (i >> 12));
  testing::write_file(dir.file("f"), bytes);
  for (auto recache : {MappedFile::Recache::kWhenSmall, MappedFile::Recache::kAlways}) {
    auto m = MappedFile::open(dir.file("f"), {LoadMode::kMmap, false});
    ASSERT_TRUE(m.ok()) << m.error().message;
    const uint8_t* addr = m->data();
    ASSERT_EQ(0, std::memcmp(addr, bytes.data(), bytes.size()));  // cached and mapped in small pages
    m->use_huge_pages(recache);
    EXPECT_EQ(m->data(), addr);
    EXPECT_EQ(0, std::memcmp(m->data(), bytes.data(), bytes.size()));
    EXPECT_LE(m->huge_mapped_bytes(), bytes.size());
    std::printf("  [ memory   ] %s: %.1f of %.1f MiB in huge pages\n",
                recache == MappedFile::Recache::kAlways ? "recached" : "as cached", m->huge_mapped_bytes() / 1048576.0,
                bytes.size() / 1048576.0);
  }
  // Read into memory: nothing to do, and the anonymous copy is untouched.
  auto r = MappedFile::open(dir.file("f"), {LoadMode::kRead, false});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->use_huge_pages(MappedFile::Recache::kAlways));
  EXPECT_EQ(0, std::memcmp(r->data(), bytes.data(), bytes.size()));
}

TEST(MappedFile, SmapsHugeBytesCountsOnlyTheMappingsInRange) {
  const std::string smaps =
      "7f0000000000-7f0000400000 r--s 00000000 fe:00 1234 /models/a.gguf\n"
      "Size:               4096 kB\n"
      "AnonHugePages:         0 kB\n"
      "FilePmdMapped:      2048 kB\n"
      "VmFlags: rd sh mr mw me ms hg\n"
      "7f0000400000-7f0000600000 r--s 00400000 fe:00 1234 /models/a.gguf\n"
      "FilePmdMapped:      2048 kB\n"
      "7f1000000000-7f1000200000 rw-p 00000000 00:00 0 \n"
      "AnonHugePages:      2048 kB\n"
      "FilePmdMapped:         0 kB\n";
  EXPECT_EQ(smaps_huge_bytes(smaps, 0x7f0000000000, 0x7f0000600000), 4096u * 1024);
  EXPECT_EQ(smaps_huge_bytes(smaps, 0x7f0000000000, 0x7f0000400000), 2048u * 1024);
  EXPECT_EQ(smaps_huge_bytes(smaps, 0x7f1000000000, 0x7f1000200000), 2048u * 1024);
  EXPECT_EQ(smaps_huge_bytes(smaps, 0x7e0000000000, 0x7e0000200000), 0u);
  EXPECT_EQ(smaps_huge_bytes("", 0, ~uintptr_t{0}), 0u);
}

TEST(MappedFile, ErrorsNameThePath) {
  TempDir dir;
  auto missing = MappedFile::open(dir.file("nope.gguf"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, dir.file("nope.gguf") + ": no such file");
  auto d = MappedFile::open(dir.path());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("not a regular file"), std::string::npos);
  testing::write_file(dir.file("empty"), {});
  auto empty = MappedFile::open(dir.file("empty"));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 0u);
}

TEST(MappedFile, LockKeepsPagesResident) {
  TempDir dir;
  testing::write_file(dir.file("f"), std::vector<uint8_t>(1 << 20, 7));
  struct rlimit rl{};
  getrlimit(RLIMIT_MEMLOCK, &rl);
  auto m = MappedFile::open(dir.file("f"), {LoadMode::kMmap, true});
  if (!m.ok()) {
    // Without CAP_IPC_LOCK and with a small RLIMIT_MEMLOCK the lock fails;
    // the message must say why and what to do.
    EXPECT_NE(m.error().message.find("RLIMIT_MEMLOCK"), std::string::npos) << m.error().message;
    EXPECT_NE(m.error().message.find("use_mlock"), std::string::npos);
    return;
  }
  EXPECT_TRUE(m->locked());
#if !defined(FOLIO_ASAN)  // ASan turns mlock into a no-op
  EXPECT_GE(read_proc_memory().vm_lck, 1u << 20);
#endif
}

// Generates a model of about 270 MB with folio's own tooling.
std::string make_big_model(const TempDir& dir) {
  synth::SynthOptions o;
  o.shape = *synth::find_preset("tiny");
  o.shape.n_embd = 1024;
  o.shape.n_head = 8;
  o.shape.n_head_kv = 8;
  o.shape.n_ff = 4096;
  o.shape.n_layer = 8;
  o.quant = "F16";
  o.vocab_path = std::string(FOLIO_MODELS_DIR) + "/stories260K.gguf";
  const std::string path = dir.file("big.gguf");
  auto r = synth::synthesize(o, path);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return path;
}

// Reads every page of every tensor, so all weights are resident.
uint64_t touch_all(const ModelFile& m) {
  uint64_t sum = 0;
  for (const auto& t : m.tensors()) {
    for (uint64_t i = 0; i < t.nbytes; i += 4096) sum += t.data[i];
  }
  return sum;
}

#if defined(FOLIO_ASAN)
#define FOLIO_SKIP_UNDER_ASAN() GTEST_SKIP() << "ASan's shadow memory distorts RssAnon"
#else
#define FOLIO_SKIP_UNDER_ASAN() (void)0
#endif

// The zero-copy promise: with mmap, opening a model and touching all of its
// weights costs page cache (RssFile), not anonymous memory; with
// use_mmap=false the weights are copied into anonymous memory.
TEST(ModelFileMemory, MmapCostsNoAnonymousMemory) {
  FOLIO_SKIP_UNDER_ASAN();
  TempDir dir;
  const std::string path = make_big_model(dir);
  const uint64_t size = *file_size(path);
  ASSERT_GT(size, 250u << 20);
  {
    const ProcMemory before = read_proc_memory();
    auto m = ModelFile::open(path, {LoadMode::kMmap, false});
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_NE(touch_all(*m), 0u);
    const ProcMemory after = read_proc_memory();
    const int64_t anon = static_cast<int64_t>(after.rss_anon) - static_cast<int64_t>(before.rss_anon);
    const int64_t file = static_cast<int64_t>(after.rss_file) - static_cast<int64_t>(before.rss_file);
    std::printf("  [ memory   ] mmap: model %.1f MB, RssAnon %+.1f MB, RssFile %+.1f MB\n", size / 1e6, anon / 1e6,
                file / 1e6);
    EXPECT_LT(anon, 16 << 20);
    EXPECT_GT(file, static_cast<int64_t>(size * 9 / 10));
  }
  {
    const ProcMemory before = read_proc_memory();
    auto m = ModelFile::open(path, {LoadMode::kRead, false});
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_NE(touch_all(*m), 0u);
    const ProcMemory after = read_proc_memory();
    const int64_t anon = static_cast<int64_t>(after.rss_anon) - static_cast<int64_t>(before.rss_anon);
    std::printf("  [ memory   ] read: model %.1f MB, RssAnon %+.1f MB\n", size / 1e6, anon / 1e6);
    EXPECT_GT(anon, static_cast<int64_t>(size * 95 / 100));
    EXPECT_LT(anon, static_cast<int64_t>(size + (16 << 20)));
  }
}

}  // namespace
}  // namespace folio
