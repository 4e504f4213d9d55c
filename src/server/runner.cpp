#include "server/runner.h"

#include "base/log.h"

#include "engine/batcher.h"
#include "engine/embed.h"
#include "engine/loader.h"

#include <optional>

namespace folio {

bool LoadSpec::same_load(const LoadSpec& o) const {
  return path == o.path && digest == o.digest && options.num_ctx == o.options.num_ctx &&
         options.num_batch == o.options.num_batch && options.num_thread == o.options.num_thread &&
         options.use_mmap == o.options.use_mmap && options.use_mlock == o.options.use_mlock &&
         num_parallel == o.num_parallel;
}

namespace {

class EngineRunner : public Runner {
 public:
  EngineRunner(LoadedModel m, std::vector<std::unique_ptr<Context>> slots, int64_t batch)
      : m_(std::move(m)), slots_(std::move(slots)), cached_(slots_.size()), batch_(batch), batcher_(*m_.model) {}

  Result<GenerateStats> complete(int slot, const std::string& prompt, const Options& opts,
                                 const std::function<bool(std::string_view)>& on_text,
                                 std::vector<TokenLogprob>* logprobs) override {
    FOLIO_CHECK(slot >= 0 && static_cast<size_t>(slot) < slots_.size());
    const std::vector<int32_t> ids = m_.tokenizer->encode(prompt, true, true);
    Context& ctx = *slots_[static_cast<size_t>(slot)];
    std::vector<int32_t>& cached = cached_[static_cast<size_t>(slot)];
    // The longest prefix of the prompt still in this slot's KV cache.
    size_t reuse = 0;
    while (reuse < cached.size() && reuse < ids.size() && cached[reuse] == ids[reuse]) ++reuse;
    cached.clear();
    auto st = generate(*m_.model, ctx, *m_.tokenizer, ids, opts, on_text, static_cast<int64_t>(reuse), logprobs,
                       slots_.size() > 1 ? &batcher_ : nullptr);
    if (slots_.size() > 1) {
      FOLIO_LOG_DEBUG("batched decoding: %llu steps in %llu passes so far", static_cast<unsigned long long>(batcher_.steps()),
                      static_cast<unsigned long long>(batcher_.passes()));
    }
    if (!st.ok()) return st;
    std::vector<int32_t> all = ids;
    all.insert(all.end(), st->tokens.begin(), st->tokens.end());
    all.resize(std::min(all.size(), static_cast<size_t>(ctx.n_past())));
    cached = std::move(all);
    return st;
  }

  Result<std::vector<int32_t>> tokenize(const std::string& text, bool add_special) override {
    return m_.tokenizer->encode(text, add_special, true);
  }

  std::string detokenize(const std::vector<int32_t>& ids) override {
    const int64_t n_vocab = m_.model->hparams().n_vocab;
    std::vector<int32_t> valid;
    for (int32_t id : ids) {
      if (id >= 0 && id < n_vocab) valid.push_back(id);
    }
    return m_.tokenizer->decode(valid, false, true);
  }

  Result<EmbedResult> embed(int slot, const std::vector<int32_t>& tokens) override {
    FOLIO_CHECK(slot >= 0 && static_cast<size_t>(slot) < slots_.size());
    cached_[static_cast<size_t>(slot)].clear();  // the cache is overwritten
    EmbedResult r;
    Result<EmbedStats> res = make_error("not run");
    batcher_.exclusive([&] {
      res = folio::embed(*m_.model, *slots_[static_cast<size_t>(slot)], tokens, batch_, model_pooling(m_.model->hparams()),
                         &r.values);
    });
    FOLIO_ASSIGN_OR_RETURN(EmbedStats st, std::move(res));
    r.tokens = st.prompt_eval_count;
    r.seconds = st.seconds;
    return r;
  }

  RunnerInfo info() const override {
    RunnerInfo i;
    const Plan& p = m_.plan;
    i.weights = p.weights_mapped + p.weights_anonymous;
    i.kv_cache = p.kv_cache;
    i.size = i.weights + p.kv_cache + p.compute + p.output;
    i.load_mode = load_mode_name(p.mode);
    if (p.lock) i.load_mode += "+mlock";
    i.verdict = p.verdict == Verdict::kPaged ? "paged from disk" : "fits in RAM";
    i.n_ctx = m_.n_ctx;
    return i;
  }

  uint64_t resident_bytes() const override { return m_.weights_resident(); }

 private:
  LoadedModel m_;
  std::vector<std::unique_ptr<Context>> slots_;
  std::vector<std::vector<int32_t>> cached_;
  int64_t batch_;  // num_batch: tokens per forward pass when embedding
  DecodeBatcher batcher_;  // one pass for the decode steps of all slots
};

class EngineRunnerFactory : public RunnerFactory {
 public:
  Result<Fit> fit(const LoadSpec& spec) override {
    FOLIO_ASSIGN_OR_RETURN(LoadedModel planned, plan_model(spec.path, spec.options, spec.num_parallel));
    Fit f;
    f.fits = planned.plan.verdict != Verdict::kRefused;
    if (!f.fits) f.reason = "cannot load " + spec.name + ": " + planned.plan.refusal();
    // The scheduler loads right after a fit: keep the parsed model and the
    // plan for it.
    std::lock_guard<std::mutex> lock(mu_);
    planned_.reset();
    if (f.fits) planned_.emplace(spec, std::move(planned));
    return f;
  }

  Result<std::unique_ptr<Runner>> load(const LoadSpec& spec) override {
    std::optional<LoadedModel> planned;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (planned_ && planned_->first.same_load(spec)) planned.emplace(std::move(planned_->second));
      planned_.reset();
    }
    if (!planned) {
      FOLIO_ASSIGN_OR_RETURN(LoadedModel m, plan_model(spec.path, spec.options, spec.num_parallel));
      planned.emplace(std::move(m));
    }
    FOLIO_ASSIGN_OR_RETURN(LoadedModel m, load_planned(std::move(*planned)));
    std::vector<std::unique_ptr<Context>> slots;
    for (int i = 0; i < std::max(1, spec.num_parallel); ++i) {
      FOLIO_ASSIGN_OR_RETURN(std::unique_ptr<Context> c, m.new_context());
      slots.push_back(std::move(c));
    }
    return std::unique_ptr<Runner>(new EngineRunner(std::move(m), std::move(slots), spec.options.num_batch));
  }

 private:
  std::mutex mu_;
  std::optional<std::pair<LoadSpec, LoadedModel>> planned_;
};

}  // namespace

std::unique_ptr<RunnerFactory> make_engine_runner_factory() { return std::make_unique<EngineRunnerFactory>(); }

}  // namespace folio
