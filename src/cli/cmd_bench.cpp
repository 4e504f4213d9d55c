// folio bench FILE.gguf [-p 512] [-n 128] [-r 5] [-t THREADS] [-b 512] [-o md|json]
// In the spirit of llama-bench: prompt processing (pp: p tokens evaluated
// in batches of b on an empty cache) and token generation (tg: n tokens one
// at a time on an empty cache), tokens per second as mean and standard
// deviation over r repetitions after one warm-up run. Token generation is
// memory bound: each token reads every weight once, so the tg rows also
// give the bandwidth bound (weight bytes read per token over the read
// bandwidth measured at start with the same threads) and the fraction of
// it reached. -p/-n/-t take comma-separated lists; 0 skips a test.
// --parallel P (> 1) adds tg tests with P sequences decoded together, one
// forward pass per step for all (the server's batched decoding of its
// FOLIO_NUM_PARALLEL slots): the tokens/s is the aggregate of the P.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "base/cpu.h"
#include "cli/commands.h"
#include "engine/loader.h"
#include "gguf/summary.h"
#include "kernels/argmax.h"
#include "memory/bandwidth.h"
#include "memory/proc_status.h"
#include "memory/system.h"

namespace folio::cli {

namespace {

struct BenchCli {
  std::vector<std::string> models;
  std::vector<int64_t> prompt{512};
  std::vector<int64_t> gen{128};
  std::vector<int> threads;
  std::vector<int> parallel{1};
  int reps = 5;
  int64_t batch = 512;
  std::string output = "md";
};

struct Row {
  std::string model, type, test;
  uint64_t size = 0, params = 0;
  int threads = 0;
  int parallel = 1;
  int64_t n_prompt = 0, n_gen = 0;
  std::vector<double> samples;  // tokens/s
  double bandwidth = 0;         // bytes/s measured (tg rows)
  double bytes_per_token = 0;   // weight bytes read per generated token
  double disk_per_token = 0;    // bytes read from storage per generated token (paged weights)
  double mean() const {
    double s = 0;
    for (double v : samples) s += v;
    return samples.empty() ? 0 : s / static_cast<double>(samples.size());
  }
  double stddev() const {
    if (samples.size() < 2) return 0;
    const double m = mean();
    double s = 0;
    for (double v : samples) s += (v - m) * (v - m);
    return std::sqrt(s / static_cast<double>(samples.size() - 1));
  }
  double bound() const { return bytes_per_token > 0 ? bandwidth / bytes_per_token : 0; }
};

// Weight bytes one generated token reads: every tensor but the embedding
// table, of which it reads one row (the whole table when it doubles as the
// output matrix). Of the routed experts (*_exps tensors) a token reads
// expert_used_count of expert_count.
double bytes_per_token(const ModelFile& f, const Hparams& hp) {
  const gguf::TensorInfo* embd = f.find_tensor("token_embd.weight");
  const bool tied = f.find_tensor("output.weight") == nullptr;
  double b = static_cast<double>(f.tensor_bytes());
  if (embd != nullptr && !tied) b -= static_cast<double>(embd->nbytes) - static_cast<double>(embd->nbytes) / static_cast<double>(embd->n_rows());
  if (hp.n_expert > 0) {
    for (const auto& t : f.tensors()) {
      if (t.name.find("_exps.") == std::string::npos) continue;
      b -= static_cast<double>(t.nbytes) * (1.0 - static_cast<double>(hp.n_expert_used) / static_cast<double>(hp.n_expert));
    }
  }
  return b;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(b) / (1ull << 30));
  else std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(b) / (1ull << 20));
  return buf;
}

std::string human_count(uint64_t n) {
  char buf[32];
  if (n >= 1000000000ull) std::snprintf(buf, sizeof buf, "%.2f B", static_cast<double>(n) / 1e9);
  else if (n >= 1000000ull) std::snprintf(buf, sizeof buf, "%.2f M", static_cast<double>(n) / 1e6);
  else std::snprintf(buf, sizeof buf, "%.2f K", static_cast<double>(n) / 1e3);
  return buf;
}

// A "disk read/token" column appears when weights were read from storage
// during a tg test (paged models).
void print_md(const std::vector<Row>& rows) {
  bool disk = false;
  for (const Row& r : rows) disk = disk || r.disk_per_token >= (1 << 20);
  std::printf("| model | size | params | type | threads | test | t/s | tg bound t/s | of bound |%s\n",
              disk ? " disk read/token |" : "");
  std::printf("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |%s\n", disk ? " ---: |" : "");
  for (const Row& r : rows) {
    char bound[64] = "", frac[32] = "", read[48] = "";
    if (r.bound() > 0 && r.parallel == 1) {
      std::snprintf(bound, sizeof bound, "%.2f", r.bound());
      std::snprintf(frac, sizeof frac, "%.0f%%", 100 * r.mean() / r.bound());
    }
    if (disk) {
      std::snprintf(read, sizeof read, " %s |",
                    r.n_gen > 0 && r.parallel == 1 ? human_bytes(static_cast<uint64_t>(r.disk_per_token)).c_str() : "");
    }
    std::printf("| %s | %s | %s | %s | %d | %s | %.2f ± %.2f | %s | %s |%s\n", r.model.c_str(), human_bytes(r.size).c_str(),
                human_count(r.params).c_str(), r.type.c_str(), r.threads, r.test.c_str(), r.mean(), r.stddev(), bound, frac,
                read);
  }
}

void print_json(const std::vector<Row>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const Row& r : rows) {
    nlohmann::json j = {{"model", r.model},        {"type", r.type},         {"size", r.size},
                        {"params", r.params},      {"threads", r.threads},   {"test", r.test},
                        {"n_prompt", r.n_prompt},  {"n_gen", r.n_gen},       {"avg_ts", r.mean()},
                        {"stddev_ts", r.stddev()}, {"samples_ts", r.samples}, {"parallel", r.parallel}};
    if (r.bound() > 0 && r.parallel == 1) {
      j["bandwidth_bytes_per_s"] = r.bandwidth;
      j["weight_bytes_per_token"] = r.bytes_per_token;
      j["bound_ts"] = r.bound();
      j["of_bound"] = r.mean() / r.bound();
      j["disk_read_bytes_per_token"] = r.disk_per_token;
    }
    out.push_back(std::move(j));
  }
  std::printf("%s\n", out.dump(2).c_str());
}

// Evaluates n random tokens from position 0 in batches of `batch`.
double time_prompt(const Model& m, Context& ctx, int64_t n, int64_t batch, std::mt19937& rng, std::vector<float>& logits) {
  const int64_t n_vocab = m.hparams().n_vocab;
  std::vector<int32_t> toks(static_cast<size_t>(n));
  for (auto& t : toks) t = static_cast<int32_t>(rng() % static_cast<uint32_t>(n_vocab));
  ctx.set_n_past(0);
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < n; i += batch) m.forward(ctx, toks.data() + i, std::min(batch, n - i), false, logits.data());
  return seconds_since(t0);
}

// Generates n tokens one at a time from position 0 (greedy on the logits,
// which costs the same as sampling from them).
double time_gen(const Model& m, Context& ctx, int64_t n, std::vector<float>& logits) {
  const int64_t n_vocab = m.hparams().n_vocab;
  ctx.set_n_past(0);
  int32_t tok = 1 % static_cast<int32_t>(n_vocab);
  const ArgmaxFn argmax = argmax_kernel();
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < n; ++i) {
    m.forward(ctx, &tok, 1, false, logits.data());
    tok = static_cast<int32_t>(argmax(logits.data(), n_vocab));
  }
  return seconds_since(t0);
}

// P sequences generating n tokens each, one forward pass per step for all.
double time_gen_parallel(const Model& m, const std::vector<std::unique_ptr<Context>>& ctxs, int64_t n,
                         std::vector<float>& logits) {
  const int64_t n_vocab = m.hparams().n_vocab, p = static_cast<int64_t>(ctxs.size());
  std::vector<Context*> cs;
  for (const auto& c : ctxs) {
    c->set_n_past(0);
    cs.push_back(c.get());
  }
  logits.resize(static_cast<size_t>(p * n_vocab));
  std::vector<int32_t> toks(static_cast<size_t>(p));
  for (int64_t s = 0; s < p; ++s) toks[static_cast<size_t>(s)] = static_cast<int32_t>((1 + s) % n_vocab);
  const ArgmaxFn argmax = argmax_kernel();
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < n; ++i) {
    m.decode(cs.data(), toks.data(), p, logits.data());
    for (int64_t s = 0; s < p; ++s) {
      toks[static_cast<size_t>(s)] = static_cast<int32_t>(argmax(logits.data() + s * n_vocab, n_vocab));
    }
  }
  return seconds_since(t0);
}

int run_bench(const BenchCli& c) {
  if (c.output != "md" && c.output != "json") return fail("unknown output format '" + c.output + "': use md or json");
  if (c.reps < 1) return fail("-r must be at least 1");
  if (c.batch < 1) return fail("-b must be at least 1");
  for (int64_t v : c.prompt) if (v < 0) return fail("-p takes token counts >= 0");
  for (int64_t v : c.gen) if (v < 0) return fail("-n takes token counts >= 0");
  std::vector<int> threads = c.threads.empty() ? std::vector<int>{physical_cores()} : c.threads;
  for (int t : threads) if (t < 1) return fail("-t takes thread counts >= 1");
  for (int p : c.parallel) if (p < 1 || p > 64) return fail("--parallel takes sequence counts from 1 to 64");
  const int64_t max_p = *std::max_element(c.prompt.begin(), c.prompt.end());
  const int64_t max_n = *std::max_element(c.gen.begin(), c.gen.end());
  std::vector<Row> rows;
  // Measured before any model is loaded: the kernel's read-ahead of a
  // just-mapped file would compete for the same bandwidth.
  // Its buffer takes at most a quarter of the memory a load may use (under
  // a tight cgroup limit a 512 MiB buffer would get the process killed).
  std::map<int, double> bandwidth;  // per thread count
  const size_t probe = static_cast<size_t>(std::min<uint64_t>(uint64_t{512} << 20, probe_system().anon_budget() / 4));
  for (int nt : threads) {
    ThreadPool pool(nt);
    bandwidth[nt] = measure_read_bandwidth(pool, std::max<size_t>(probe, size_t{16} << 20)).bytes_per_second;
  }
  std::mt19937 rng(1234);
  for (const std::string& path : c.models) {
    for (int nt : threads) {
      Options opts;
      opts.num_ctx = std::max<int64_t>(std::max(max_p, max_n), 16);
      opts.num_thread = nt;
      opts.num_batch = c.batch;
      // Planned with a KV cache per parallel sequence, so a test that cannot
      // fit is refused up front like any load.
      auto loaded = load_for_inference(path, opts, *std::max_element(c.parallel.begin(), c.parallel.end()));
      if (!loaded.ok()) return fail(loaded.error().message);
      if (loaded->n_ctx < std::max(max_p, max_n)) {
        return fail(path + ": the model's context (" + std::to_string(loaded->n_ctx) +
                    " tokens) is shorter than the test; lower -p/-n");
      }
      auto ctx = loaded->new_context();
      if (!ctx.ok()) return fail(ctx.error().message);
      const Model& m = *loaded->model;
      const ModelFile& f = *loaded->file;
      const gguf::ModelSummary s = gguf::summarize(f.meta(), f.tensors(), f.file_bytes());
      std::vector<float> logits(static_cast<size_t>(m.hparams().n_vocab));
      std::string name = path.substr(path.find_last_of('/') + 1);
      Row base;
      base.model = s.architecture + " " + name;
      base.type = s.file_type;
      base.size = f.tensor_bytes();
      base.params = f.n_params();
      base.threads = nt;
      for (int64_t p : c.prompt) {
        if (p == 0) continue;
        Row r = base;
        r.test = "pp" + std::to_string(p);
        r.n_prompt = p;
        time_prompt(m, **ctx, std::min(p, c.batch), c.batch, rng, logits);  // warm-up
        for (int i = 0; i < c.reps; ++i) r.samples.push_back(static_cast<double>(p) / time_prompt(m, **ctx, p, c.batch, rng, logits));
        rows.push_back(std::move(r));
      }
      for (int64_t n : c.gen) {
        if (n == 0) continue;
        Row r = base;
        r.test = "tg" + std::to_string(n);
        r.n_gen = n;
        r.bandwidth = bandwidth[nt];
        r.bytes_per_token = bytes_per_token(f, m.hparams());
        for (int p : c.parallel) {
          Row rp = r;
          rp.parallel = p;
          if (p == 1) {
            time_gen(m, **ctx, 1, logits);  // warm-up
            const uint64_t read0 = storage_read_bytes();
            for (int i = 0; i < c.reps; ++i) rp.samples.push_back(static_cast<double>(n) / time_gen(m, **ctx, n, logits));
            rp.disk_per_token = static_cast<double>(storage_read_bytes() - read0) / static_cast<double>(n * c.reps);
          } else {
            rp.test += " x" + std::to_string(p);
            std::vector<std::unique_ptr<Context>> ctxs;
            for (int s = 0; s < p; ++s) {
              auto cs = loaded->new_context();
              if (!cs.ok()) return fail(cs.error().message);
              ctxs.push_back(std::move(cs).value());
            }
            std::vector<float> lp;
            time_gen_parallel(m, ctxs, 1, lp);  // warm-up
            for (int i = 0; i < c.reps; ++i) {
              rp.samples.push_back(static_cast<double>(n * p) / time_gen_parallel(m, ctxs, n, lp));
            }
          }
          rows.push_back(std::move(rp));
        }
      }
    }
  }
  if (c.output == "json") {
    print_json(rows);
  } else {
    for (const auto& [nt, bw] : bandwidth) std::printf("memory read bandwidth: %.1f GB/s with %d threads\n\n", bw / 1e9, nt);
    print_md(rows);
  }
  return 0;
}

}  // namespace

void add_bench(CLI::App& app, int* exit_code) {
  auto c = std::make_shared<BenchCli>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure prompt processing and generation speed (like llama-bench)");
  cmd->add_option("model", c->models, "GGUF files")->required();
  cmd->add_option("-p,--n-prompt", c->prompt, "Prompt tokens, comma-separated (default 512)")->delimiter(',');
  cmd->add_option("-n,--n-gen", c->gen, "Generated tokens, comma-separated (default 128)")->delimiter(',');
  cmd->add_option("-r,--repetitions", c->reps, "Repetitions of each test (default 5)");
  cmd->add_option("-t,--threads", c->threads, "Threads, comma-separated (default: physical cores)")->delimiter(',');
  cmd->add_option("-b,--batch-size", c->batch, "Prompt tokens per forward pass (default 512)");
  cmd->add_option("--parallel", c->parallel, "Sequences decoded together in tg tests, comma-separated (default 1)")
      ->delimiter(',');
  cmd->add_option("-o,--output", c->output, "md or json (default md)");
  cmd->callback([c, exit_code] { *exit_code = run_bench(*c); });
}

}  // namespace folio::cli
