#include "memory/planner.h"

#include <algorithm>

#include "base/checked.h"
#include "base/result.h"
#include "base/strings.h"

namespace folio {

namespace {

std::string b(uint64_t n) { return n == kUnlimited ? "unlimited" : human_bytes(n); }

// The largest num_ctx (a multiple of 256, at least 256) whose cache fits.
int64_t fitting_ctx(uint64_t room, const ModelNeeds& n, int64_t parallel) {
  const uint64_t per = n.kv_bytes_per_token * static_cast<uint64_t>(parallel);
  if (per == 0) return 0;
  const int64_t ctx = static_cast<int64_t>(room / per) / 256 * 256;
  return ctx >= 256 ? ctx : 0;
}

}  // namespace

std::optional<HugepagesMode> parse_hugepages_mode(const std::string& s) {
  const std::string v = to_lower(s);
  if (v == "off" || v == "0" || v == "false") return HugepagesMode::kOff;
  if (v == "auto" || v.empty()) return HugepagesMode::kAuto;
  if (v == "on" || v == "1" || v == "true") return HugepagesMode::kOn;
  return std::nullopt;
}

Plan make_plan(const ModelNeeds& n, const PlanRequest& req, const SystemFacts& f) {
  Plan p;
  p.mode = req.use_mmap.value_or(true) ? LoadMode::kMmap : LoadMode::kRead;
  p.lock = req.use_mlock;
  const bool mapped = p.mode == LoadMode::kMmap;
  p.weights_mapped = mapped ? n.weight_bytes : 0;
  p.weights_anonymous = mapped ? 0 : n.weight_bytes;
  const uint64_t slots = static_cast<uint64_t>(std::max<int64_t>(1, req.num_parallel));
  const uint64_t ctx = static_cast<uint64_t>(std::max<int64_t>(1, req.num_ctx));
  p.kv_cache = sat_mul(sat_mul(n.kv_bytes_per_token, ctx), slots);
  p.compute = n.compute_bytes;
  p.output = n.output_bytes;
  p.anonymous = sat_add(sat_add(p.weights_anonymous, p.kv_cache), sat_add(p.compute, p.output));
  p.locked = req.use_mlock ? n.weight_bytes : 0;
  p.budget = f.anon_budget();
  p.limit_name = f.anon_limit_name();
  // Swap can take anonymous memory (slowly) when no cgroup limit applies.
  const uint64_t swap = f.cgroup_limit == kUnlimited ? f.swap_free : 0;
  const std::string ctx_text = strfmt("num_ctx=%lld", static_cast<long long>(req.num_ctx)) +
                               (req.num_parallel > 1 ? strfmt(" x %lld parallel", static_cast<long long>(req.num_parallel)) : "");
  auto refuse = [&](std::string reason, const char* limit) {
    p.verdict = Verdict::kRefused;
    p.limit_name = limit;
    p.reasons.push_back(std::move(reason));
    p.headroom = p.anonymous > p.budget ? -static_cast<int64_t>(std::min<uint64_t>(p.anonymous - p.budget, INT64_MAX))
                                        : static_cast<int64_t>(p.budget - p.anonymous);
    return p;
  };

  // Anonymous buffers (the K and V caches, weights read into memory): the
  // hugetlbfs pool when it has room for each of them rounded up to whole
  // huge pages, else transparent huge pages where the kernel allows them.
  const uint64_t hp = std::max<uint64_t>(f.hugepage_size, 4096);
  const auto pages_of = [&](uint64_t bytes) { return sat_add(bytes, hp - 1) / hp; };
  const uint64_t k_bytes = static_cast<uint64_t>(static_cast<double>(p.kv_cache) * n.kv_k_fraction);
  const uint64_t pool_pages_needed =
      sat_add(sat_add(pages_of(k_bytes), pages_of(p.kv_cache - std::min(p.kv_cache, k_bytes))), pages_of(p.weights_anonymous));
  p.hugepage_size = hp;
  const uint64_t pool = sat_mul(f.hugepages_free, hp);
  const bool thp = f.thp_mode == "always" || f.thp_mode == "madvise";
  if (req.hugepages != HugepagesMode::kOff) {
    if (pool_pages_needed <= f.hugepages_free && p.anonymous > 0) p.anon_pages = AnonPages::kHugetlb;
    else if (thp) p.anon_pages = AnonPages::kTransparent;
    else if (req.hugepages == HugepagesMode::kOn) {
      p.advice.push_back(strfmt("reserve huge pages (echo %llu > /proc/sys/vm/nr_hugepages) or set FOLIO_HUGEPAGES=auto",
                                static_cast<unsigned long long>(sat_add(f.hugepages_total, pool_pages_needed))));
      return refuse(strfmt("FOLIO_HUGEPAGES=on needs %s of huge pages but the pool has %s free and transparent huge "
                           "pages are '%s'",
                           b(p.anonymous).c_str(), b(pool).c_str(), f.thp_mode.empty() ? "unavailable" : f.thp_mode.c_str()),
                    "the hugepage pool");
    }
  }

  if (req.use_mlock && !f.can_lock_any && p.locked > f.memlock_limit) {
    p.advice.push_back("raise the limit with `ulimit -l unlimited` (LimitMEMLOCK=infinity for a systemd service)");
    p.advice.push_back("or load without use_mlock");
    return refuse(strfmt("use_mlock needs %s locked but RLIMIT_MEMLOCK allows %s", b(p.locked).c_str(),
                         b(f.memlock_limit).c_str()),
                  "RLIMIT_MEMLOCK");
  }
  if (req.use_mlock && sat_add(p.locked, p.anonymous - p.weights_anonymous) > p.budget) {
    p.advice.push_back("load without use_mlock: mapped weights are then paged from disk as needed");
    return refuse(strfmt("use_mlock keeps all %s of weights in RAM, plus %s of buffers, but %s leaves %s",
                         b(p.locked).c_str(), b(p.anonymous - p.weights_anonymous).c_str(), p.limit_name.c_str(),
                         b(p.budget).c_str()),
                  p.limit_name.c_str());
  }

  if (p.anonymous > sat_add(p.budget, swap)) {
    std::string parts = strfmt("KV cache %s for %s, compute %s", b(p.kv_cache).c_str(), ctx_text.c_str(),
                               b(p.compute + p.output).c_str());
    if (!mapped) parts = strfmt("weights %s read into memory, ", b(p.weights_anonymous).c_str()) + parts;
    if (!mapped && p.anonymous - p.weights_anonymous <= p.budget + swap) {
      p.advice.push_back("use_mmap=true: mapped weights need no process memory and are paged from disk");
    }
    const uint64_t other = p.anonymous - p.kv_cache;
    const uint64_t room = sat_add(p.budget, swap) > other ? sat_add(p.budget, swap) - other : 0;
    if (const int64_t ctx = fitting_ctx(room, n, req.num_parallel); ctx > 0 && ctx < req.num_ctx) {
      p.advice.push_back(strfmt("lower num_ctx to %lld", static_cast<long long>(ctx)));
    }
    if (req.num_parallel > 1) p.advice.push_back("lower num_parallel (FOLIO_NUM_PARALLEL)");
    if (f.cgroup_limit != kUnlimited) p.advice.push_back("raise the memory limit of the container/cgroup");
    else p.advice.push_back("close other programs to free memory");
    return refuse(strfmt("needs %s of process memory (%s) but %s leaves %s", b(p.anonymous).c_str(), parts.c_str(),
                         p.limit_name.c_str(), b(sat_add(p.budget, swap)).c_str()),
                  p.limit_name.c_str());
  }
  if (p.anonymous > p.budget) {
    p.reasons.push_back(strfmt("%s of process memory is more than %s (%s): part of it will be in swap",
                               b(p.anonymous).c_str(), p.limit_name.c_str(), b(p.budget).c_str()));
  }

  const uint64_t resident = sat_add(p.anonymous, p.weights_mapped);
  p.headroom = resident > p.budget ? -static_cast<int64_t>(std::min<uint64_t>(resident - p.budget, INT64_MAX))
                                   : static_cast<int64_t>(std::min<uint64_t>(p.budget - resident, INT64_MAX));
  if (mapped && resident > p.budget) {
    p.verdict = Verdict::kPaged;
    p.prefetch = false;
    p.reasons.push_back(strfmt("weights %s and buffers %s exceed the %s %s leaves: weights are paged from disk as "
                               "they are used",
                               b(p.weights_mapped).c_str(), b(p.anonymous).c_str(), b(p.budget).c_str(),
                               p.limit_name.c_str()));
  } else {
    p.verdict = Verdict::kFits;
    p.prefetch = mapped;
    // Huge folios are reclaimed and read back 2 MiB at a time: worth it only
    // when the weights stay in RAM.
    p.huge_mapped = mapped && thp && req.hugepages != HugepagesMode::kOff;
    // Repacked weights are a copy in process memory that replaces the
    // mapped bytes (those are released from the mapping; read mode frees
    // its own copy): the total stays, so a plan that fits still fits, but
    // the copy cannot be reclaimed: not when process memory is already in
    // swap. Not with use_mlock (the copy would be unlocked) and never when
    // paged (it would read everything).
    // A read copy in the hugetlbfs pool cannot give back parts of its huge
    // pages, so there the copy would add to it: no repacking.
    const bool pool_copy = !mapped && p.anon_pages == AnonPages::kHugetlb;
    if (req.repack && !p.lock && !pool_copy && n.packable_bytes > 0) {
      const uint64_t extra = mapped ? std::min(n.packable_bytes, p.weights_mapped) : 0;
      if (sat_add(p.anonymous, extra) <= p.budget) {
        p.weights_packed = n.packable_bytes;
        p.weights_mapped -= extra;
        p.weights_anonymous += extra;
        p.anonymous += extra;
      }
    }
  }
  return p;
}

std::string Plan::summary() const {
  if (verdict == Verdict::kRefused) return "refused: " + refusal();
  std::string s = strfmt("%s, %s: weights %s %s, KV cache %s, compute %s", load_mode_name(mode),
                         verdict == Verdict::kFits ? "fits in RAM" : "paged from disk",
                         b(weights_mapped + weights_anonymous).c_str(), mode == LoadMode::kMmap ? "mapped" : "in memory",
                         b(kv_cache).c_str(), b(compute + output).c_str());
  if (lock) s += strfmt(", %s locked", b(locked).c_str());
  if (anon_pages == AnonPages::kHugetlb) s += ", huge pages";
  if (anon_pages == AnonPages::kTransparent) s += ", transparent huge pages";
  if (huge_mapped) s += ", weights in transparent huge pages";
  if (weights_packed > 0) s += strfmt(", %s of weights repacked for the CPU's kernels", b(weights_packed).c_str());
  s += headroom >= 0 ? strfmt("; %s headroom (%s)", b(static_cast<uint64_t>(headroom)).c_str(), limit_name.c_str())
                     : strfmt("; %s over %s", b(static_cast<uint64_t>(-headroom)).c_str(), limit_name.c_str());
  return s;
}

std::string Plan::refusal() const {
  std::string s;
  for (size_t i = 0; i < reasons.size(); ++i) s += (i ? "; " : "") + reasons[i];
  if (!advice.empty()) {
    s += "; try: ";
    for (size_t i = 0; i < advice.size(); ++i) s += (i ? ", or " : "") + advice[i];
  }
  return s;
}

}  // namespace folio
