#include "memory/planner.h"

#include <gtest/gtest.h>

namespace folio {
namespace {

constexpr uint64_t GB = 1000ull * 1000 * 1000, MB = 1000ull * 1000;

SystemFacts machine(uint64_t available) {
  SystemFacts f;
  f.mem_total = available + GB;
  f.mem_available = available;
  f.thp_mode = "madvise";
  return f;
}

ModelNeeds model(uint64_t weights, uint64_t kv_per_token = 128 * 1024) {
  ModelNeeds n;
  n.weight_bytes = weights;
  n.kv_bytes_per_token = kv_per_token;
  n.compute_bytes = 50 * MB;
  n.output_bytes = 1 * MB;
  return n;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v) {
    if (x.find(s) != std::string::npos) return true;
  }
  return false;
}

// The story: a 250 GB Q2_K DeepSeek quant on a machine with 200 GB of RAM
// and no swap.
TEST(Planner, TheStoryModelRunsPagedWithMmap) {
  const SystemFacts f = machine(195 * GB);
  PlanRequest req;
  req.num_ctx = 4096;
  const Plan p = make_plan(model(250 * GB), req, f);
  EXPECT_EQ(p.verdict, Verdict::kPaged);
  EXPECT_EQ(p.mode, LoadMode::kMmap);
  EXPECT_FALSE(p.prefetch);  // prefetching 250 GB into 195 GB would thrash
  EXPECT_EQ(p.weights_anonymous, 0u);
  EXPECT_EQ(p.weights_mapped, 250 * GB);
  EXPECT_NE(p.summary().find("paged from disk"), std::string::npos) << p.summary();
}

// Weights repacked for the CPU's kernels move from the mapping to process
// memory (the total stays): only when the plan fits with the copy in the
// budget, never when paged, locked or turned off.
TEST(Planner, RepackedWeightsAreAnonymousAndOnlyWhenTheyFit) {
  PlanRequest req;
  ModelNeeds n = model(4 * GB);
  n.packable_bytes = 3 * GB;
  const Plan p = make_plan(n, req, machine(16 * GB));
  EXPECT_EQ(p.verdict, Verdict::kFits);
  EXPECT_EQ(p.weights_packed, 3 * GB);
  EXPECT_EQ(p.weights_mapped, 1 * GB);
  EXPECT_EQ(p.weights_anonymous, 3 * GB);
  EXPECT_EQ(p.weights_mapped + p.weights_anonymous, 4 * GB);
  EXPECT_EQ(p.anonymous, 3 * GB + p.kv_cache + p.compute + p.output);
  EXPECT_NE(p.summary().find("repacked"), std::string::npos) << p.summary();
  const Plan unpacked = make_plan(model(4 * GB), req, machine(16 * GB));
  EXPECT_EQ(p.headroom, unpacked.headroom);  // the same bytes resident
  EXPECT_EQ(unpacked.weights_packed, 0u);

  EXPECT_EQ(make_plan(n, req, machine(3 * GB)).weights_packed, 0u);  // paged: no copy
  PlanRequest off = req;
  off.repack = false;
  EXPECT_EQ(make_plan(n, off, machine(16 * GB)).weights_packed, 0u);
  PlanRequest locked = req;
  locked.use_mlock = true;
  EXPECT_EQ(make_plan(n, locked, machine(16 * GB)).weights_packed, 0u);
  PlanRequest read = req;
  read.use_mmap = false;  // read into memory: the copy replaces the read bytes
  const Plan r = make_plan(n, read, machine(16 * GB));
  EXPECT_EQ(r.weights_packed, 3 * GB);
  EXPECT_EQ(r.weights_anonymous, 4 * GB);
  EXPECT_EQ(r.anonymous, make_plan(model(4 * GB), read, machine(16 * GB)).anonymous);
  SystemFacts pool = machine(16 * GB);
  pool.hugepages_free = 4096;  // 8 GiB of 2 MiB pages: the read copy goes there and cannot shrink
  pool.hugepage_size = 2u << 20;
  ASSERT_EQ(make_plan(n, read, pool).anon_pages, AnonPages::kHugetlb);
  EXPECT_EQ(make_plan(n, read, pool).weights_packed, 0u);
  EXPECT_EQ(make_plan(n, req, pool).weights_packed, 3 * GB);  // mapped: the copy is THP, the pool holds the KV cache
}

// Mapped weights go in transparent huge pages only when they stay in RAM
// and the kernel allows THP; never for weights read into memory (those use
// anon_pages) or with FOLIO_HUGEPAGES=off.
TEST(Planner, MappedWeightsUseHugePagesOnlyWhenTheyFit) {
  PlanRequest req;
  EXPECT_TRUE(make_plan(model(4 * GB), req, machine(16 * GB)).huge_mapped);
  EXPECT_NE(make_plan(model(4 * GB), req, machine(16 * GB)).summary().find("weights in transparent huge pages"),
            std::string::npos);
  EXPECT_FALSE(make_plan(model(250 * GB), req, machine(195 * GB)).huge_mapped);  // paged
  SystemFacts never = machine(16 * GB);
  never.thp_mode = "never";
  EXPECT_FALSE(make_plan(model(4 * GB), req, never).huge_mapped);
  PlanRequest off = req;
  off.hugepages = HugepagesMode::kOff;
  EXPECT_FALSE(make_plan(model(4 * GB), off, machine(16 * GB)).huge_mapped);
  PlanRequest read = req;
  read.use_mmap = false;
  EXPECT_FALSE(make_plan(model(4 * GB), read, machine(16 * GB)).huge_mapped);
}

TEST(Planner, TheStoryModelIsRefusedWhenRead) {
  PlanRequest req;
  req.use_mmap = false;
  req.num_ctx = 4096;
  const Plan p = make_plan(model(250 * GB), req, machine(195 * GB));
  ASSERT_EQ(p.verdict, Verdict::kRefused);
  EXPECT_EQ(p.limit_name, "MemAvailable");
  const std::string msg = p.refusal();
  EXPECT_NE(msg.find("needs 250 GB of process memory"), std::string::npos) << msg;
  EXPECT_NE(msg.find("weights 250 GB read into memory"), std::string::npos) << msg;
  EXPECT_NE(msg.find("MemAvailable leaves 195 GB"), std::string::npos) << msg;
  EXPECT_TRUE(has(p.advice, "use_mmap=true")) << msg;
}

TEST(Planner, SmallModelFitsAndIsPrefetched) {
  PlanRequest req;
  req.num_ctx = 2048;
  const Plan p = make_plan(model(800 * MB, 32 * 1024), req, machine(20 * GB));
  EXPECT_EQ(p.verdict, Verdict::kFits);
  EXPECT_TRUE(p.prefetch);
  EXPECT_EQ(p.kv_cache, 2048u * 32 * 1024);
  EXPECT_EQ(p.anonymous, p.kv_cache + 51 * MB);
  EXPECT_GT(p.headroom, 0);
  EXPECT_NE(p.summary().find("mmap, fits in RAM"), std::string::npos) << p.summary();
  // Read mode fits too and holds the weights in process memory.
  req.use_mmap = false;
  const Plan r = make_plan(model(800 * MB, 32 * 1024), req, machine(20 * GB));
  EXPECT_EQ(r.verdict, Verdict::kFits);
  EXPECT_EQ(r.weights_anonymous, 800 * MB);
  EXPECT_FALSE(r.prefetch);
}

TEST(Planner, CgroupLimitBelowMemAvailableWins) {
  SystemFacts f = machine(20 * GB);
  f.cgroup_limit = 2 * GB;
  f.cgroup_anon = 500 * MB;
  EXPECT_EQ(f.anon_budget(), 1500 * MB);
  EXPECT_STREQ(f.anon_limit_name(), "the cgroup memory limit");
  PlanRequest req;
  req.num_ctx = 2048;
  const Plan mapped = make_plan(model(3 * GB, 32 * 1024), req, f);
  EXPECT_EQ(mapped.verdict, Verdict::kPaged);  // weights beyond the limit: paged, not refused
  req.use_mmap = false;
  const Plan read = make_plan(model(3 * GB, 32 * 1024), req, f);
  ASSERT_EQ(read.verdict, Verdict::kRefused);
  EXPECT_NE(read.refusal().find("the cgroup memory limit leaves 1.5 GB"), std::string::npos) << read.refusal();
  EXPECT_TRUE(has(read.advice, "raise the memory limit"));
}

TEST(Planner, KvCacheAloneTooLargeIsRefusedEvenWithMmap) {
  PlanRequest req;
  req.num_ctx = 131072;  // 131072 x 128 KiB = 17.2 GB
  const Plan p = make_plan(model(1 * GB), req, machine(8 * GB));
  ASSERT_EQ(p.verdict, Verdict::kRefused);
  EXPECT_EQ(p.mode, LoadMode::kMmap);
  EXPECT_NE(p.refusal().find("KV cache 17 GB for num_ctx=131072"), std::string::npos) << p.refusal();
  // (8 GB - 51 MB) / 128 KiB = 60648 positions, rounded down to 256.
  EXPECT_TRUE(has(p.advice, "lower num_ctx to 60416")) << p.refusal();
  req.num_ctx = 60416;
  EXPECT_NE(make_plan(model(1 * GB), req, machine(8 * GB)).verdict, Verdict::kRefused);
}

TEST(Planner, ParallelSlotsMultiplyTheCache) {
  PlanRequest req;
  req.num_ctx = 8192;
  req.num_parallel = 4;
  const Plan p = make_plan(model(1 * GB), req, machine(4 * GB));
  ASSERT_EQ(p.verdict, Verdict::kRefused);
  EXPECT_EQ(p.kv_cache, 4ull * 8192 * 128 * 1024);
  EXPECT_TRUE(has(p.advice, "num_parallel"));
}

TEST(Planner, MlockBeyondRlimitMemlock) {
  SystemFacts f = machine(20 * GB);
  f.memlock_limit = 64 * 1024;
  f.can_lock_any = false;
  PlanRequest req;
  req.use_mlock = true;
  const Plan p = make_plan(model(800 * MB), req, f);
  ASSERT_EQ(p.verdict, Verdict::kRefused);
  EXPECT_EQ(p.limit_name, "RLIMIT_MEMLOCK");
  EXPECT_NE(p.refusal().find("use_mlock needs 800 MB locked but RLIMIT_MEMLOCK allows 65 KB"), std::string::npos)
      << p.refusal();
  EXPECT_NE(p.refusal().find("ulimit -l"), std::string::npos);
  f.can_lock_any = true;  // CAP_IPC_LOCK
  const Plan ok = make_plan(model(800 * MB), req, f);
  EXPECT_EQ(ok.verdict, Verdict::kFits);
  EXPECT_EQ(ok.locked, 800 * MB);
  // Locked weights cannot be paged: beyond RAM they are refused.
  f.mem_available = 500 * MB;
  const Plan big = make_plan(model(800 * MB), req, f);
  ASSERT_EQ(big.verdict, Verdict::kRefused);
  EXPECT_TRUE(has(big.advice, "without use_mlock"));
}

TEST(Planner, HugepagesOnWithAnEmptyPool) {
  SystemFacts f = machine(20 * GB);
  f.thp_mode = "never";
  f.hugepages_free = 0;
  PlanRequest req;
  req.hugepages = HugepagesMode::kOn;
  const Plan p = make_plan(model(800 * MB), req, f);
  ASSERT_EQ(p.verdict, Verdict::kRefused);
  EXPECT_EQ(p.limit_name, "the hugepage pool");
  EXPECT_NE(p.refusal().find("nr_hugepages"), std::string::npos) << p.refusal();
  req.hugepages = HugepagesMode::kAuto;  // auto falls back to normal pages
  const Plan a = make_plan(model(800 * MB), req, f);
  EXPECT_EQ(a.verdict, Verdict::kFits);
  EXPECT_EQ(a.anon_pages, AnonPages::kNormal);
  f.thp_mode = "madvise";
  EXPECT_EQ(make_plan(model(800 * MB), req, f).anon_pages, AnonPages::kTransparent);
  f.hugepages_free = 1000;  // 2 GB pool
  req.hugepages = HugepagesMode::kOn;
  EXPECT_EQ(make_plan(model(800 * MB), req, f).anon_pages, AnonPages::kHugetlb);
}

// K and V are separate buffers, each a whole number of huge pages: one free
// page cannot hold two (a plan that said otherwise died with SIGBUS).
TEST(Planner, HugetlbCountsWholePagesPerBuffer) {
  SystemFacts f = machine(20 * GB);
  f.hugepage_size = 2u << 20;
  f.hugepages_free = 1;
  ModelNeeds n = model(1 * MB, 640);  // KV: 163 KB for 256 positions
  n.compute_bytes = n.output_bytes = 0;
  PlanRequest req;
  req.num_ctx = 256;
  EXPECT_EQ(make_plan(n, req, f).anon_pages, AnonPages::kTransparent);
  f.hugepages_free = 2;
  const Plan p = make_plan(n, req, f);
  EXPECT_EQ(p.anon_pages, AnonPages::kHugetlb);
  EXPECT_EQ(p.hugepage_size, 2u << 20);
  // Absurd sizes saturate and are refused, never wrap around.
  req.num_ctx = int64_t{1} << 30;
  const Plan huge = make_plan(model(1 * GB, UINT64_MAX / 4), req, f);
  EXPECT_EQ(huge.verdict, Verdict::kRefused);
  EXPECT_EQ(huge.kv_cache, UINT64_MAX);
}

TEST(Planner, SwapTakesAnonymousOverflowWithAWarning) {
  SystemFacts f = machine(1 * GB);
  f.swap_free = 4 * GB;
  PlanRequest req;
  req.use_mmap = false;
  const Plan p = make_plan(model(2 * GB, 1024), req, f);
  EXPECT_EQ(p.verdict, Verdict::kFits);
  EXPECT_TRUE(has(p.reasons, "swap"));
  // Mapped weights are never checked against RAM + swap.
  req.use_mmap = true;
  EXPECT_EQ(make_plan(model(200 * GB, 1024), req, f).verdict, Verdict::kPaged);
}

TEST(Planner, HugepagesModeNames) {
  EXPECT_EQ(parse_hugepages_mode("on"), HugepagesMode::kOn);
  EXPECT_EQ(parse_hugepages_mode("OFF"), HugepagesMode::kOff);
  EXPECT_EQ(parse_hugepages_mode("auto"), HugepagesMode::kAuto);
  EXPECT_FALSE(parse_hugepages_mode("sometimes").has_value());
}

TEST(SystemProbe, ReadsThisMachine) {
  const SystemFacts f = probe_system();
  EXPECT_GT(f.mem_total, 0u);
  EXPECT_GT(f.mem_available, 0u);
  EXPECT_LE(f.mem_available, f.mem_total);
  EXPECT_GT(f.hugepage_size, 0u);
  EXPECT_LE(f.anon_budget(), f.mem_available);
}

}  // namespace
}  // namespace folio
