#include "engine/loader.h"

#include <algorithm>
#include <cstdlib>

#include "base/checked.h"
#include "base/cpu.h"
#include "base/log.h"
#include "base/strings.h"
#include "memory/readahead.h"

namespace folio {

ModelNeeds estimate_needs(const Hparams& hp, uint64_t weight_bytes, int64_t num_batch, int64_t num_ctx, int n_threads) {
  // The hyperparameters are bounded (read_hparams) but their products are
  // computed saturating: an absurd size is then simply refused.
  const auto u = [](int64_t v) { return static_cast<uint64_t>(std::max<int64_t>(0, v)); };
  ModelNeeds n;
  n.weight_bytes = weight_bytes;
  const uint64_t kw = sat_mul(u(hp.n_head_kv), u(hp.head_dim_k)), vw = sat_mul(u(hp.n_head_kv), u(hp.head_dim_v));
  n.kv_k_fraction = kw + vw > 0 ? static_cast<double>(kw) / static_cast<double>(kw + vw) : 0.5;
  n.kv_bytes_per_token = sat_mul(sat_mul(u(hp.n_layer), sat_add(kw, vw)), 2);  // F16
  // A batch never exceeds the context.
  const uint64_t b = u(std::max<int64_t>(1, std::min(num_batch, num_ctx)));
  const uint64_t qw = sat_mul(u(hp.n_head), u(hp.head_dim_k)), aw = sat_mul(u(hp.n_head), u(hp.head_dim_v));
  const uint64_t ff = u(std::max<int64_t>(hp.n_ff, hp.n_embd));
  // floats per token: x, xn, tmp, ffn out (4 n_embd), q, k, v, attention out, gate and up
  const uint64_t per_token = sat_add(sat_add(sat_mul(4, u(hp.n_embd)), sat_add(sat_add(qw, kw), sat_add(vw, aw))),
                                     sat_mul(2, ff));
  // plus quantized activations (at most 4 bytes a value) and attention scores per thread
  n.compute_bytes = sat_add(sat_add(sat_mul(sat_mul(b, per_token), 4), sat_mul(sat_mul(b, ff), 4)),
                            sat_mul(sat_mul(u(n_threads), sat_add(u(num_ctx), sat_add(qw, aw))), 4));
  // plus each thread's kernel buffers (kernels/avx512): a packed panel of 32
  // decoded rows (32 bytes a value, with its int32 view), a float panel of
  // 32 rows (128 bytes a value), and a float copy of a chunk of F16/BF16
  // activation rows (2 MiB).
  n.compute_bytes = sat_add(n.compute_bytes, sat_mul(u(n_threads), sat_add(sat_mul(192, ff), uint64_t{2} << 20)));
  n.output_bytes = sat_mul(u(hp.n_vocab), 4);
  return n;
}

Result<PlanRequest> plan_request(const Options& opts, int64_t num_ctx) {
  PlanRequest r;
  r.use_mmap = opts.use_mmap;
  if (!r.use_mmap) {
    if (const char* env = std::getenv("FOLIO_MMAP"); env && *env) {
      const std::string v = to_lower(env);
      if (v == "on" || v == "true" || v == "1") r.use_mmap = true;
      else if (v == "off" || v == "false" || v == "0") r.use_mmap = false;
      else if (v != "auto") return make_error("FOLIO_MMAP=%s: use auto, on or off", env);
    }
  }
  r.use_mlock = opts.use_mlock;
  r.num_ctx = num_ctx;
  if (const char* env = std::getenv("FOLIO_HUGEPAGES"); env && *env) {
    auto m = parse_hugepages_mode(env);
    if (!m) return make_error("FOLIO_HUGEPAGES=%s: use off, auto or on", env);
    r.hugepages = *m;
  }
  if (const char* env = std::getenv("FOLIO_REPACK"); env && *env) {
    const std::string v = to_lower(env);
    if (v == "off" || v == "false" || v == "0") r.repack = false;
    else if (v != "auto" && v != "on" && v != "true" && v != "1") return make_error("FOLIO_REPACK=%s: use auto or off", env);
  }
  return r;
}

LoadedModel::LoadedModel() = default;
LoadedModel::LoadedModel(LoadedModel&&) noexcept = default;
LoadedModel& LoadedModel::operator=(LoadedModel&&) noexcept = default;
LoadedModel::~LoadedModel() {
  if (model) model->set_readahead(nullptr);
}

bool readahead_enabled() {
  const char* env = std::getenv("FOLIO_READAHEAD");
  return env != nullptr && to_lower(env) == "layers";
}

Result<std::unique_ptr<Context>> LoadedModel::new_context() const {
  if (pool == nullptr) pool = std::make_shared<ThreadPool>(n_threads);
  auto ctx = Context::create(model->hparams(), n_ctx, n_threads, plan.anon_pages, plan.hugepage_size, pool);
  if (!ctx.ok() && plan.anon_pages == AnonPages::kHugetlb && request.hugepages == HugepagesMode::kAuto) {
    // The huge page pool emptied since the plan was made: auto falls back.
    return Context::create(model->hparams(), n_ctx, n_threads, AnonPages::kTransparent, 2u << 20, pool);
  }
  return ctx;
}

uint64_t LoadedModel::weights_resident() const {
  uint64_t n = 0;
  // The tensor data of each shard (not its header and vocabulary).
  for (size_t s = 0; s < file->n_shards(); ++s) {
    const MappedFile& map = file->mapping(s);
    const uint64_t data = file->shard(s).data_offset();
    n += map.resident_bytes(data, UINT64_MAX);
    for (const Model::Span& r : model->packed_sources()) {
      if (r.data >= map.data() && r.data < map.data() + map.size()) {
        n -= std::min(n, map.resident_bytes(static_cast<uint64_t>(r.data - map.data()), r.bytes));
      }
    }
  }
  uint64_t copies = 0;  // the repacked copies: anonymous, all resident
  for (const Model::Span& r : model->packed_sources()) copies += r.bytes;
  return std::min(n + copies, file->tensor_bytes());  // alignment padding is not weights
}

Result<LoadedModel> plan_model(const std::string& path, const Options& opts, int64_t num_parallel) {
  LoadedModel m;
  FOLIO_ASSIGN_OR_RETURN(ModelFile file, ModelFile::open(path, {LoadMode::kMmap, false}));
  m.file = std::make_unique<ModelFile>(std::move(file));
  auto model = load_model(*m.file);
  if (!model.ok()) return make_error("%s: %s", path.c_str(), model.error().message.c_str());
  m.model = std::move(model).value();
  auto tok = Tokenizer::load(m.file->meta());
  if (!tok.ok()) return make_error("%s: %s", path.c_str(), tok.error().message.c_str());
  m.tokenizer = std::make_unique<Tokenizer>(std::move(tok).value());
  const Hparams& hp = m.model->hparams();
  m.n_ctx = std::min(opts.num_ctx, hp.n_ctx_train);
  m.n_threads = opts.num_thread > 0 ? static_cast<int>(opts.num_thread) : physical_cores();
  FOLIO_ASSIGN_OR_RETURN(m.request, plan_request(opts, m.n_ctx));
  m.request.num_parallel = std::max<int64_t>(1, num_parallel);
  const PlanRequest& req = m.request;
  m.facts = probe_system();
  uint64_t cached = 0;
  for (size_t i = 0; i < m.file->n_shards(); ++i) {
    probe_file(m.file->mapping(i).path(), m.facts);
    cached += m.facts.file_cached;
  }
  m.facts.file_cached = cached;
  ModelNeeds needs = estimate_needs(hp, m.file->tensor_bytes(), opts.num_batch, m.n_ctx, m.n_threads);
  needs.packable_bytes = m.model->packable_bytes();
  m.plan = make_plan(needs, req, m.facts);
  return m;
}

Result<LoadedModel> load_for_inference(const std::string& path, const Options& opts, int64_t num_parallel) {
  FOLIO_ASSIGN_OR_RETURN(LoadedModel m, plan_model(path, opts, num_parallel));
  return load_planned(std::move(m));
}

Result<LoadedModel> load_planned(LoadedModel m) {
  const std::string path = m.file->mapping(0).path();
  if (m.plan.verdict == Verdict::kRefused) return make_error("cannot load %s: %s", path.c_str(), m.plan.refusal().c_str());
  if (m.plan.mode != LoadMode::kMmap || m.plan.lock) {
    // Reopen as planned: read into memory and/or locked. The model's views
    // point into the mapping, so it is bound again.
    m.model.reset();
    m.file.reset();
    auto file = ModelFile::open(path, {m.plan.mode, m.plan.lock, m.plan.anon_pages, m.plan.hugepage_size});
    if (!file.ok() && m.plan.anon_pages == AnonPages::kHugetlb && m.request.hugepages == HugepagesMode::kAuto) {
      file = ModelFile::open(path, {m.plan.mode, m.plan.lock, AnonPages::kTransparent});
    }
    if (!file.ok()) return file.take_error();
    m.file = std::make_unique<ModelFile>(std::move(file).value());
    FOLIO_ASSIGN_OR_RETURN(m.model, load_model(*m.file));
  }
  // Reading the next layer ahead from a helper thread is opt-in: on the
  // development VM (disk served at 2.3-3.2 GB/s from the host's cache, 2
  // cores) the kernel's own read-around on faults already reached the disk's
  // bandwidth, and explicit read-ahead cut generation from 7.1 to 4.3
  // tokens/s (the helper's page-cache work competes for the 2 cores). It is
  // for disks whose reads are slow and DMA-driven.
  m.model->set_paged(m.plan.verdict == Verdict::kPaged);
  if (m.plan.verdict == Verdict::kPaged && readahead_enabled()) {
    m.readahead = std::make_unique<ReadAhead>(*m.file);
    m.model->set_readahead(m.readahead.get());
  }
  if (m.plan.huge_mapped) {
    for (size_t i = 0; i < m.file->n_shards(); ++i) m.file->mapping(i).use_huge_pages();
  }
  if (m.plan.prefetch) {
    for (size_t i = 0; i < m.file->n_shards(); ++i) m.file->mapping(i).advise_willneed(0, m.file->mapping(i).size());
  }
  if (m.plan.weights_packed > 0) {
    if (auto packed = m.model->pack_weights(); !packed.ok()) {
      // Nothing changed: the kernels run on the mapped blocks.
      FOLIO_LOG_WARN("%s: weights not repacked (%s); running on the mapped blocks", path.c_str(), packed.error().message.c_str());
      const uint64_t back = m.plan.mode == LoadMode::kMmap ? m.plan.weights_packed : 0;
      m.plan.weights_mapped += back;
      m.plan.weights_anonymous -= back;
      m.plan.anonymous -= back;
      m.plan.weights_packed = 0;
    }
  }
  return m;
}

}  // namespace folio
