// The memory planner: a pure function from what a model needs, the load
// options and the machine's facts to a plan: how to load, the bytes of each
// class, and a verdict (fits in RAM / runs paged from disk / refused, with
// the numbers, the limiting fact and remedies that would work). Every load
// goes through it before any large allocation.
//
// Mapped weights are page cache: the kernel pages them in and out as
// needed, so they are never held to a RAM or swap check; they only decide
// between "fits" (prefetch them) and "paged" (do not, or the load thrashes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "memory/mapped_file.h"
#include "memory/system.h"

namespace folio {

enum class HugepagesMode { kOff, kAuto, kOn };

// Parses FOLIO_HUGEPAGES values "off", "auto", "on".
std::optional<HugepagesMode> parse_hugepages_mode(const std::string& s);

struct ModelNeeds {
  uint64_t weight_bytes = 0;       // tensor data: mapped or read
  uint64_t kv_bytes_per_token = 0; // KV cache per context position, all layers
  double kv_k_fraction = 0.5;      // the share of K in it (K and V are separate buffers)
  uint64_t compute_bytes = 0;      // scratch for one batch
  uint64_t output_bytes = 0;       // logits
  uint64_t packable_bytes = 0;     // of the weights: what the SIMD kernels read faster repacked
};

struct PlanRequest {
  std::optional<bool> use_mmap;    // unset: automatic (map)
  bool use_mlock = false;
  int64_t num_ctx = 2048;
  int64_t num_parallel = 1;
  HugepagesMode hugepages = HugepagesMode::kAuto;
  bool repack = true;              // FOLIO_REPACK=off: never
};

enum class Verdict { kFits, kPaged, kRefused };
using AnonPages = MappedFile::Pages;

struct Plan {
  LoadMode mode = LoadMode::kMmap;
  bool lock = false;
  Verdict verdict = Verdict::kFits;
  AnonPages anon_pages = AnonPages::kNormal;
  bool prefetch = false;            // read the weights ahead in the background
  bool huge_mapped = false;         // map the weights with transparent huge pages (fits, THP allowed)

  uint64_t weights_mapped = 0;      // file-backed (page cache)
  uint64_t weights_anonymous = 0;   // read into process memory (use_mmap=false), or repacked
  uint64_t weights_packed = 0;      // of the weights: repacked at load (kernels/packed.h), anonymous
  uint64_t kv_cache = 0;
  uint64_t compute = 0;
  uint64_t output = 0;
  uint64_t locked = 0;
  uint64_t anonymous = 0;           // the sum of the anonymous classes
  uint64_t budget = 0;              // RAM a new load can take (anon_budget)
  int64_t headroom = 0;             // budget left after the plan (negative: paged or refused)
  std::string limit_name;           // the fact that bounds the budget
  uint64_t hugepage_size = 2u << 20; // for AnonPages::kHugetlb

  std::vector<std::string> reasons; // why the verdict (numbers)
  std::vector<std::string> advice;  // what would change it

  // One line: "mmap, fits in RAM: ..." / "refused: ...".
  std::string summary() const;
  // A refusal as one error line: the cause with numbers, then the remedies.
  std::string refusal() const;
};

Plan make_plan(const ModelNeeds& needs, const PlanRequest& req, const SystemFacts& facts);

}  // namespace folio
