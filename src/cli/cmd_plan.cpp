// folio plan FILE.gguf [-p NAME=VALUE ...]: the memory plan for this
// machine, without loading the model.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "base/strings.h"
#include "cli/commands.h"
#include "engine/loader.h"

namespace folio::cli {

namespace {

std::string b(uint64_t n) { return n == kUnlimited ? "unlimited" : human_bytes(n); }

void row(const char* k, const std::string& v) { std::printf("    %-22s%s\n", k, v.c_str()); }

int run_plan(const std::string& model, const std::vector<std::string>& params) {
  Options opts;
  for (const std::string& p : params) {
    auto r = set_option_assignment(opts, p);
    if (!r.ok()) return fail(r.error().message);
  }
  auto m = plan_model(model, opts);
  if (!m.ok()) return fail(m.error().message);
  const SystemFacts& f = m->facts;
  const Plan& p = m->plan;
  std::printf("  Machine\n");
  row("memory", b(f.mem_total) + " total, " + b(f.mem_available) + " available");
  row("swap", f.swap_total ? b(f.swap_free) + " free of " + b(f.swap_total) : "none");
  row("cgroup limit", f.cgroup_limit == kUnlimited ? "none" : b(f.cgroup_limit) + " (v" + std::to_string(f.cgroup_version) + ", " + b(f.cgroup_anon) + " anonymous in use)");
  row("RLIMIT_MEMLOCK", b(f.memlock_limit) + (f.can_lock_any ? " (CAP_IPC_LOCK: not enforced)" : ""));
  row("huge pages", strfmt("%llu of %llu free (%s each), THP %s", static_cast<unsigned long long>(f.hugepages_free),
                           static_cast<unsigned long long>(f.hugepages_total), b(f.hugepage_size).c_str(),
                           f.thp_mode.empty() ? "unavailable" : f.thp_mode.c_str()));
  row("model file", f.fs_type + ", " + b(f.file_cached) + " of " + b(m->file->file_bytes()) + " in the page cache");
  std::printf("\n  Plan (num_ctx %lld, %d threads)\n", static_cast<long long>(m->n_ctx), m->n_threads);
  row("load mode", std::string(load_mode_name(p.mode)) + (p.lock ? ", locked" : ""));
  const std::string weights = b(p.weights_mapped + p.weights_anonymous);
  if (p.mode != LoadMode::kMmap) row("weights", weights + " anonymous");
  else if (p.weights_packed == 0) row("weights", weights + " file-backed (page cache)");
  else row("weights", weights + ", of which " + b(p.weights_mapped) + " file-backed (page cache)");
  if (p.weights_packed > 0) row("repacked", b(p.weights_packed) + " of them, anonymous, for the CPU's kernels (FOLIO_REPACK=off: none)");
  row("KV cache", b(p.kv_cache));
  row("compute + output", b(p.compute + p.output));
  row("anonymous total", b(p.anonymous) + (p.anon_pages == AnonPages::kHugetlb ? " (hugetlbfs)" : p.anon_pages == AnonPages::kTransparent ? " (transparent huge pages)" : ""));
  row("budget", b(p.budget) + " (" + p.limit_name + ")");
  const char* verdict = p.verdict == Verdict::kFits ? "fits in RAM" : p.verdict == Verdict::kPaged ? "runs paged from disk" : "refused";
  row("verdict", std::string(verdict) + (p.prefetch ? ", weights prefetched" : ""));
  for (const auto& r : p.reasons) row("because", r);
  for (const auto& a : p.advice) row("try", a);
  if (p.verdict == Verdict::kRefused) return fail("cannot load " + model + ": " + p.refusal());
  return 0;
}

}  // namespace

void add_plan(CLI::App& app, int* exit_code) {
  struct Args {
    std::string model;
    std::vector<std::string> params;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("plan", "Print the memory plan for a model on this machine (loads nothing)");
  cmd->add_option("model", a->model, "GGUF file")->required();
  cmd->add_option("-p,--param", a->params, "Option NAME=VALUE (num_ctx, use_mmap, use_mlock, ...)")
      ->allow_extra_args(false);
  cmd->callback([a, exit_code] { *exit_code = run_plan(a->model, a->params); });
}

}  // namespace folio::cli
