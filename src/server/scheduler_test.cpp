// The scheduler with fake runners: reuse, slots, keep_alive, eviction by
// count and by memory, reloads on changed options, the queue limit.
#include "server/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <thread>

namespace folio {
namespace {

using namespace std::chrono_literals;

struct World {
  uint64_t capacity = 1000;  // "RAM" for models
  std::map<std::string, uint64_t> sizes;
  std::atomic<uint64_t> used{0};
  std::atomic<int> loads{0};
  std::mutex mu;
  std::vector<std::string> log;  // "load x", "unload x"
  void note(const std::string& s) {
    std::lock_guard<std::mutex> l(mu);
    log.push_back(s);
  }
};

class FakeRunner : public Runner {
 public:
  FakeRunner(World* w, std::string name, uint64_t size) : w_(w), name_(std::move(name)), size_(size) {
    w_->used += size_;
    w_->note("load " + name_);
  }
  ~FakeRunner() override {
    w_->used -= size_;
    w_->note("unload " + name_);
  }
  Result<GenerateStats> complete(int, const std::string& prompt, const Options&,
                                 const std::function<bool(std::string_view)>& on_text,
                                 std::vector<TokenLogprob>*) override {
    on_text(prompt);
    return GenerateStats{};
  }
  Result<std::vector<int32_t>> tokenize(const std::string&, bool) override { return std::vector<int32_t>{}; }
  std::string detokenize(const std::vector<int32_t>&) override { return ""; }
  Result<EmbedResult> embed(int, const std::vector<int32_t>&) override { return make_error("no embeddings"); }
  RunnerInfo info() const override {
    RunnerInfo i;
    i.size = size_;
    i.load_mode = "fake";
    return i;
  }
  uint64_t resident_bytes() const override { return size_; }

 private:
  World* w_;
  std::string name_;
  uint64_t size_;
};

class FakeFactory : public RunnerFactory {
 public:
  explicit FakeFactory(World* w) : w_(w) {}
  Result<Fit> fit(const LoadSpec& spec) override {
    if (spec.path == "bad") return make_error("bad.gguf: not a GGUF file");
    Fit f;
    f.fits = w_->used + w_->sizes[spec.name] <= w_->capacity;
    if (!f.fits) f.reason = "cannot load " + spec.name + ": needs " + std::to_string(w_->sizes[spec.name]);
    return f;
  }
  Result<std::unique_ptr<Runner>> load(const LoadSpec& spec) override {
    ++w_->loads;
    return std::unique_ptr<Runner>(new FakeRunner(w_, spec.name, w_->sizes[spec.name]));
  }

 private:
  World* w_;
};

LoadSpec spec(const std::string& name, int64_t num_ctx = 2048) {
  LoadSpec s;
  s.name = name;
  s.path = name + ".gguf";
  s.options.num_ctx = num_ctx;
  return s;
}

SchedulerConfig config(int max_loaded = 3, int max_queue = 512) {
  SchedulerConfig c;
  c.max_loaded = max_loaded;
  c.max_queue = max_queue;
  return c;
}

TEST(KeepAlive, ParsesAsOllama) {
  EXPECT_EQ(parse_keep_alive_text("5m")->duration, 300000ms);
  EXPECT_EQ(parse_keep_alive_text("1h30m")->duration, 5400000ms);
  EXPECT_EQ(parse_keep_alive_text("1.5h")->duration, 5400000ms);
  EXPECT_EQ(parse_keep_alive_text("300ms")->duration, 300ms);
  EXPECT_EQ(parse_keep_alive_text("0")->duration, 0ms);
  EXPECT_FALSE(parse_keep_alive_text("0")->forever);
  EXPECT_TRUE(parse_keep_alive_text("-1s")->forever);
  EXPECT_TRUE(parse_keep_alive_text("-5m")->forever);
  EXPECT_EQ(parse_keep_alive_text("10").error().message, "missing unit in duration \"10\"");
  EXPECT_EQ(parse_keep_alive_text("5 minutes").error().message, "unknown unit \" minutes\" in duration \"5 minutes\"");
  EXPECT_FALSE(parse_keep_alive_text("").ok());
  EXPECT_EQ(parse_keep_alive_seconds(90)->duration, 90000ms);
  EXPECT_TRUE(parse_keep_alive_seconds(-1)->forever);
}

TEST(Scheduler, ReusesALoadedModelAndQueuesForItsSlot) {
  World w;
  Scheduler s(config(), std::make_unique<FakeFactory>(&w));
  auto a = s.acquire(spec("a"), std::nullopt);
  ASSERT_EQ(a.status, 200) << a.error;
  // The one slot is taken: a second request waits until it is released.
  auto waiter = std::async(std::launch::async, [&] { return s.acquire(spec("a"), std::nullopt); });
  EXPECT_EQ(waiter.wait_for(150ms), std::future_status::timeout);
  a.lease.reset();
  auto b = waiter.get();
  ASSERT_EQ(b.status, 200);
  EXPECT_EQ(w.loads, 1);
  const auto ps = s.ps();
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].active, 1);
  EXPECT_EQ(ps[0].info.load_mode, "fake");
}

TEST(Scheduler, ParallelSlotsServeAtOnce) {
  World w;
  Scheduler s(config(), std::make_unique<FakeFactory>(&w));
  LoadSpec sp = spec("a");
  sp.num_parallel = 3;
  auto a = s.acquire(sp, std::nullopt), b = s.acquire(sp, std::nullopt), c = s.acquire(sp, std::nullopt);
  ASSERT_TRUE(a.lease && b.lease && c.lease);
  EXPECT_NE(a.lease->slot(), b.lease->slot());
  EXPECT_NE(b.lease->slot(), c.lease->slot());
  EXPECT_EQ(s.ps()[0].active, 3);
}

TEST(Scheduler, KeepAliveZeroUnloadsAtOnceAndDurationsExpire) {
  World w;
  Scheduler s(config(), std::make_unique<FakeFactory>(&w));
  s.acquire(spec("a"), KeepAlive{false, 0ms});  // lease dropped at once
  EXPECT_TRUE(s.ps().empty());
  s.acquire(spec("b"), KeepAlive{false, 200ms});
  EXPECT_EQ(s.ps().size(), 1u);
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(s.ps().empty()) << "b should have expired";
  s.acquire(spec("c"), KeepAlive{true, {}});
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(s.ps().size(), 1u);
  EXPECT_TRUE(s.ps()[0].forever);
  EXPECT_TRUE(s.unload("c"));
  EXPECT_TRUE(s.ps().empty());
  EXPECT_FALSE(s.unload("c"));
}

TEST(Scheduler, EvictsTheLeastRecentlyUsedIdleModelPastTheCount) {
  World w;
  Scheduler s(config(2), std::make_unique<FakeFactory>(&w));
  s.acquire(spec("a"), std::nullopt);
  s.acquire(spec("b"), std::nullopt);
  s.acquire(spec("a"), std::nullopt);  // a is now the more recent
  s.acquire(spec("c"), std::nullopt);
  std::vector<std::string> names;
  for (const auto& m : s.ps()) names.push_back(m.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "c"}));
}

TEST(Scheduler, MakesRoomInMemoryOrRefusesWithThePlannersReason) {
  World w;
  w.capacity = 1000;
  w.sizes = {{"a", 600}, {"b", 600}, {"huge", 5000}};
  Scheduler s(config(), std::make_unique<FakeFactory>(&w));
  auto a = s.acquire(spec("a"), std::nullopt);
  ASSERT_EQ(a.status, 200);
  // b does not fit next to a busy a: it waits for a to become idle, then a leaves.
  auto waiter = std::async(std::launch::async, [&] { return s.acquire(spec("b"), std::nullopt); });
  EXPECT_EQ(waiter.wait_for(150ms), std::future_status::timeout);
  a.lease.reset();
  auto b = waiter.get();
  ASSERT_EQ(b.status, 200) << b.error;
  EXPECT_EQ(s.ps().size(), 1u);
  EXPECT_EQ(s.ps()[0].name, "b");
  b.lease.reset();
  // Nothing can make room for huge: refused with the reason, nothing lost.
  auto h = s.acquire(spec("huge"), std::nullopt);
  EXPECT_EQ(h.status, 500);
  EXPECT_EQ(h.error, "cannot load huge: needs 5000");
  EXPECT_TRUE(s.ps().empty()) << "idle b was evicted trying";
  auto bad = s.acquire([] {
    LoadSpec x = spec("x");
    x.path = "bad";
    return x;
  }(), std::nullopt);
  EXPECT_EQ(bad.status, 500);
  EXPECT_EQ(bad.error, "bad.gguf: not a GGUF file");
}

TEST(Scheduler, ReloadsWhenLoadOptionsChange) {
  World w;
  Scheduler s(config(), std::make_unique<FakeFactory>(&w));
  s.acquire(spec("a", 2048), std::nullopt);
  s.acquire(spec("a", 2048), std::nullopt);
  EXPECT_EQ(w.loads, 1);
  s.acquire(spec("a", 8192), std::nullopt);
  EXPECT_EQ(w.loads, 2);
  EXPECT_EQ(s.ps().size(), 1u);
  EXPECT_EQ(w.log, (std::vector<std::string>{"load a", "unload a", "load a"}));
}

TEST(Scheduler, QueueLimitAndCancellation) {
  World w;
  Scheduler s(config(3, 1), std::make_unique<FakeFactory>(&w));
  auto a = s.acquire(spec("a"), std::nullopt);
  std::atomic<bool> cancel{false};
  auto waiter = std::async(std::launch::async, [&] { return s.acquire(spec("a"), std::nullopt, [&] { return cancel.load(); }); });
  std::this_thread::sleep_for(100ms);
  auto over = s.acquire(spec("a"), std::nullopt);
  EXPECT_EQ(over.status, 503);
  EXPECT_EQ(over.error, "server busy, please try again.  maximum pending requests exceeded (FOLIO_MAX_QUEUE=1)");
  cancel = true;
  EXPECT_EQ(waiter.get().status, 499);
  // The freed queue place is usable again.
  a.lease.reset();
  EXPECT_EQ(s.acquire(spec("a"), std::nullopt).status, 200);
}

}  // namespace
}  // namespace folio
