// Models larger than the memory a process may use: folio runs as a child
// under a cgroup memory limit smaller than the model (mmap: same tokens as
// without the limit; use_mmap=false: refused by the planner, not killed),
// under a lowered RLIMIT_MEMLOCK, and without limits (anonymous RSS stays
// within the plan's KV cache and scratch).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "base/strings.h"
#include "engine/loader.h"
#include "kernels/packed.h"
#include "memory/model_file.h"
#include "synth/synth.h"
#include "sanitizers.h"
#include "test_util.h"

namespace folio {
namespace {

using testing::RunResult;
using testing::TempDir;

constexpr uint64_t kLimit = 128ull << 20;

// A folio synth model, F16 unless asked (random weights, the bundled vocabulary) of
// preset's shape as `adjust` changes it; made once per test program.
std::string synth_model(const char* preset, const char* file, void (*adjust)(synth::ModelShape&), const char* quant = "F16") {
  static TempDir dir;  // for the test program; removed at exit (a leaked one left 560 MB in /tmp per run)
  synth::SynthOptions o;
  o.shape = *synth::find_preset(preset);
  adjust(o.shape);
  o.quant = quant;
  o.vocab_path = std::string(FOLIO_MODELS_DIR) + "/stories260K.gguf";
  const std::string p = dir.file(file);
  auto r = synth::synthesize(o, p);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return p;
}

// A dense llama of about 270 MB, twice the limit and more.
const std::string& big_model() {
  static const std::string path = synth_model("tiny", "big-f16.gguf", [](synth::ModelShape& s) {
    s.n_embd = 1024;
    s.n_head = 8;
    s.n_head_kv = 8;
    s.n_ff = 4096;
    s.n_layer = 8;
  });
  return path;
}

// A deepseek2 (latent attention, 8 experts of which 2 are routed per
// token, 1 shared) of about 300 MB: each token reads only a quarter of the
// expert weights.
const std::string& big_moe_model() {
  static const std::string path = synth_model("tiny-deepseek2", "big-moe-f16.gguf", [](synth::ModelShape& s) {
    s.n_embd = 1024;
    s.n_head = 8;
    s.n_head_kv = 8;
    s.q_lora_rank = 384;
    s.n_ff = 2048;
    s.n_ff_exp = 1024;
    s.n_expert = 8;
    s.n_layer = 6;
  });
  return path;
}

// Drops the file's pages from the page cache, so the next reader faults them
// in from disk (and is charged for them in its cgroup).
void drop_cache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

// A fresh memory cgroup with a limit, or "" with *why set when this
// machine does not let us create one.
std::string make_cgroup(uint64_t limit, std::string* why) {
  const std::string v1 = "/sys/fs/cgroup/memory";
  const std::string name = "/folio-test-" + std::to_string(::getpid());
  if (::access((v1 + "/memory.limit_in_bytes").c_str(), W_OK) == 0 || ::access(v1.c_str(), W_OK) == 0) {
    const std::string dir = v1 + name;
    if (::mkdir(dir.c_str(), 0755) == 0) {
      std::ofstream(dir + "/memory.limit_in_bytes") << limit;
      return dir;
    }
  }
  const std::string v2 = "/sys/fs/cgroup";
  std::ifstream controllers(v2 + "/cgroup.controllers");
  std::string c;
  bool has_memory = false;
  while (controllers >> c) has_memory |= c == "memory";
  if (has_memory && ::access(v2.c_str(), W_OK) == 0) {
    std::ofstream(v2 + "/cgroup.subtree_control") << "+memory";
    const std::string dir = v2 + name;
    if (::mkdir(dir.c_str(), 0755) == 0) {
      std::ofstream(dir + "/memory.max") << limit;
      std::ofstream(dir + "/memory.swap.max") << 0;
      return dir;
    }
  }
  *why = "no writable memory cgroup (v1 " + v1 + " or v2 " + v2 + ") on this machine";
  return "";
}

// Runs folio inside the cgroup: a shell moves itself in, then execs folio.
RunResult run_in_cgroup(const std::string& cg, const std::vector<std::string>& args) {
  std::string cmd = "echo $$ > " + cg + "/cgroup.procs && exec \"$0\" \"$@\"";
  std::vector<std::string> argv = {"/bin/sh", "-c", cmd, testing::folio_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::run_process(argv);
}

const std::vector<std::string> kGreedy = {"-p", "temperature=0", "-p", "num_predict=8", "-p", "num_ctx=256"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

// model, at least twice the limit, runs under it from the mapping with the
// same tokens as without the limit.
void expect_same_tokens_under_limit(const std::string& cg, const std::string& model) {
  ASSERT_GE(*file_size(model), 2 * kLimit);
  const RunResult free_run = testing::run_folio(with({"run", model, "Once upon a time"}, kGreedy));
  ASSERT_EQ(free_run.exit_code, 0) << free_run.err;

  drop_cache(model);
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult limited = run_in_cgroup(cg, with({"run", model, "Once upon a time", "--verbose"}, kGreedy));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(limited.signal, 0) << limited.err;
  EXPECT_EQ(limited.exit_code, 0) << limited.err;
  EXPECT_EQ(limited.out, free_run.out);  // the same tokens
  EXPECT_NE(limited.err.find("plan: mmap, paged from disk"), std::string::npos) << limited.err;
  const size_t at = limited.err.find("read from disk:");
  std::printf("  [ cgroup   ] %s limit, %.0f MB model: same output in %.1f s; %s\n", human_bytes(kLimit).c_str(),
              *file_size(model) / 1e6, secs,
              at == std::string::npos ? "" : limited.err.substr(at, limited.err.find('\n', at) - at).c_str());
}

TEST(MemoryLimits, MmapRunsUnderACgroupLimitSmallerThanTheModel) {
  std::string why;
  const std::string cg = make_cgroup(kLimit, &why);
  if (cg.empty()) GTEST_SKIP() << why;
  const std::string model = big_model();
  expect_same_tokens_under_limit(cg, model);

  const auto t1 = std::chrono::steady_clock::now();
  const RunResult refused = run_in_cgroup(cg, with({"run", model, "Once upon a time", "-p", "use_mmap=false"}, kGreedy));
  const double refuse_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  EXPECT_EQ(refused.signal, 0) << "killed instead of refused";
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("cannot load"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("the cgroup memory limit leaves"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("use_mmap=true"), std::string::npos) << refused.err;
  EXPECT_LT(refuse_secs, 5.0);
  ::rmdir(cg.c_str());
}

// The same for a mixture of experts: a token touches the routed experts
// only, and the paged mapping serves them.
TEST(MemoryLimits, MoeRunsUnderACgroupLimitSmallerThanTheModel) {
  std::string why;
  const std::string cg = make_cgroup(kLimit, &why);
  if (cg.empty()) GTEST_SKIP() << why;
  expect_same_tokens_under_limit(cg, big_moe_model());
  ::rmdir(cg.c_str());
}

TEST(MemoryLimits, MlockBeyondALoweredRlimitIsRefused) {
  const std::string model = big_model();
  std::vector<std::string> argv = {"/bin/sh", "-c", "ulimit -l 64 && exec \"$@\"", "sh"};
  // Root has CAP_IPC_LOCK, which lifts the limit: drop it for the child.
  if (::geteuid() == 0) {
    if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "running as root without setpriv to drop CAP_IPC_LOCK";
    argv.insert(argv.end(), {"/usr/bin/setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock"});
  }
  argv.insert(argv.end(), {testing::folio_binary(), "run", model, "hi", "-p", "use_mlock=true", "-p", "num_predict=1"});
  const RunResult r = testing::run_process(argv);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("RLIMIT_MEMLOCK allows 65 KB"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ulimit -l"), std::string::npos) << r.err;
}

#if defined(FOLIO_ASAN)
#define FOLIO_SKIP_UNDER_ASAN() GTEST_SKIP() << "the ASan build's RSS includes its shadow memory"
#else
#define FOLIO_SKIP_UNDER_ASAN() (void)0
#endif

TEST(MemoryLimits, MmapAnonymousRssStaysWithinKvCacheAndScratch) {
  FOLIO_SKIP_UNDER_ASAN();
  const std::string model = big_model();
  Options opts;
  opts.num_ctx = 256;
  auto plan = plan_model(model, opts);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  const RunResult r = testing::run_folio(with({"run", model, "Once upon a time", "--verbose"}, kGreedy));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t at = r.err.find("peak anonymous RSS:");
  ASSERT_NE(at, std::string::npos) << r.err;
  const uint64_t peak = std::strtoull(r.err.c_str() + r.err.find('(', at) + 1, nullptr, 10);
  const uint64_t planned = plan->plan.kv_cache + plan->plan.compute + plan->plan.output;
  std::printf("  [ memory   ] %.0f MB model with mmap: peak RssAnon %.1f MB, plan KV+scratch %.1f MB\n",
              *file_size(model) / 1e6, peak / 1e6, planned / 1e6);
  EXPECT_LT(peak, planned + (16ull << 20));  // + the process's own few MB
}

// A Q8_0 llama whose matrices the CPU's kernels read repacked
// (kernels/packed.h): the plan moves them from the mapping to process
// memory, and the process's anonymous RSS stays within that plan; with
// FOLIO_REPACK=off nothing is repacked and the RSS is the buffers' again.
TEST(MemoryLimits, RepackedWeightsAreProcessMemoryInThePlan) {
  FOLIO_SKIP_UNDER_ASAN();
  if (packed_kernel(TensorType::kQ8_0) == nullptr) GTEST_SKIP() << "no packed kernel on this CPU";
  static const std::string model = synth_model("tiny", "packed-q8_0.gguf", [](synth::ModelShape& s) {
    s.n_embd = 1024;
    s.n_head = 8;
    s.n_head_kv = 4;
    s.n_ff = 4096;
    s.n_layer = 6;
  }, "Q8_0");
  Options opts;
  opts.num_ctx = 256;
  auto plan = plan_model(model, opts);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  const Plan& p = plan->plan;
  ASSERT_EQ(p.verdict, Verdict::kFits);
  ASSERT_GT(p.weights_packed, 90ull << 20);  // every matrix: 100 MB
  EXPECT_EQ(p.weights_mapped + p.weights_anonymous, plan->file->tensor_bytes());
  auto peak_of = [](const RunResult& r) {
    const size_t at = r.err.find("peak anonymous RSS:");
    EXPECT_NE(at, std::string::npos) << r.err;
    return at == std::string::npos ? 0 : std::strtoull(r.err.c_str() + r.err.find('(', at) + 1, nullptr, 10);
  };
  const RunResult r = testing::run_folio(with({"run", model, "Once upon a time", "--verbose"}, kGreedy));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("repacked"), std::string::npos) << r.err;
  const uint64_t peak = peak_of(r), planned = p.anonymous;
  std::printf("  [ memory   ] %.0f MB Q8_0 model, %.0f MB repacked: peak RssAnon %.1f MB, plan %.1f MB\n",
              *file_size(model) / 1e6, p.weights_packed / 1e6, peak / 1e6, planned / 1e6);
  EXPECT_GT(peak, p.weights_packed);  // the copy is process memory
  EXPECT_LT(peak, planned + (16ull << 20));
  // In process: the copies replace the mapped bytes in the resident count
  // (what `ps` reports), and their sizes are the plan's.
  {
    auto loaded = load_for_inference(model, opts);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    uint64_t sources = 0;
    for (const Model::Span& r : loaded->model->packed_sources()) sources += r.bytes;
    EXPECT_EQ(sources, p.weights_packed);
    EXPECT_GE(loaded->weights_resident(), p.weights_packed);
    EXPECT_LE(loaded->weights_resident(), loaded->file->tensor_bytes());
  }
  const RunResult off = testing::run_process(
      {"/usr/bin/env", "FOLIO_REPACK=off", testing::folio_binary(), "run", model, "Once upon a time", "--verbose", "-p",
       "temperature=0", "-p", "num_predict=8", "-p", "num_ctx=256"});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(off.err.find("repacked"), std::string::npos) << off.err;
  EXPECT_LT(peak_of(off), p.anonymous - p.weights_packed + (16ull << 20));
}

}  // namespace
}  // namespace folio
