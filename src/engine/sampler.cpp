#include "engine/sampler.h"

#include "base/check.h"

#include <limits>

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace folio {

Sampler::Sampler(const Options& options)
    : o_(options),
      seed_(options.seed >= 0 ? static_cast<uint64_t>(options.seed) : std::random_device{}()),
      rng_(seed_) {}

void Sampler::apply_penalties(const std::vector<int32_t>& history) {
  const bool any = o_.repeat_penalty != 1.f || o_.presence_penalty != 0.f || o_.frequency_penalty != 0.f;
  if (!any || o_.repeat_last_n == 0 || history.empty()) return;
  const size_t window = o_.repeat_last_n < 0 ? history.size()
                                             : std::min(history.size(), static_cast<size_t>(o_.repeat_last_n));
  std::unordered_map<int32_t, int> count;
  for (size_t i = history.size() - window; i < history.size(); ++i) ++count[history[i]];
  // cand_ is still in id order (draw() just filled it): touch only the
  // tokens of the window, not the whole vocabulary (128K lookups a token
  // cost milliseconds).
  for (const auto& [id, n] : count) {
    if (id < 0 || static_cast<size_t>(id) >= cand_.size()) continue;
    Candidate& c = cand_[static_cast<size_t>(id)];
    FOLIO_CHECK(c.id == id);
    // ref: CTRL (Keskar et al. 2019) repetition penalty as llama.cpp applies it
    c.logit = c.logit <= 0 ? c.logit * o_.repeat_penalty : c.logit / o_.repeat_penalty;
    c.logit -= static_cast<float>(n) * o_.frequency_penalty + o_.presence_penalty;
  }
}

void Sampler::top_k(int64_t k) {
  if (k <= 0 || k >= static_cast<int64_t>(cand_.size())) return;
  std::partial_sort(cand_.begin(), cand_.begin() + k, cand_.end(),
                    [](const Candidate& a, const Candidate& b) { return a.logit > b.logit; });
  cand_.resize(static_cast<size_t>(k));
}

void Sampler::softmax() {
  std::sort(cand_.begin(), cand_.end(), [](const Candidate& a, const Candidate& b) { return a.logit > b.logit; });
  const float mx = cand_.front().logit;
  double sum = 0;
  for (Candidate& c : cand_) {
    c.p = std::exp(c.logit - mx);
    sum += c.p;
  }
  for (Candidate& c : cand_) c.p = static_cast<float>(c.p / sum);
}

// Locally typical sampling (Meister et al. 2022): keep the tokens whose
// surprise is closest to the entropy, up to cumulative probability p.
void Sampler::typical(float p) {
  if (p >= 1.f || cand_.size() <= 1) return;
  softmax();
  double entropy = 0;
  for (const Candidate& c : cand_) {
    if (c.p > 0) entropy -= c.p * std::log(c.p);
  }
  std::vector<std::pair<double, size_t>> shifted;
  for (size_t i = 0; i < cand_.size(); ++i) shifted.emplace_back(std::fabs(-std::log(cand_[i].p) - entropy), i);
  std::stable_sort(shifted.begin(), shifted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  double cum = 0;
  size_t keep = shifted.size();
  for (size_t i = 0; i < shifted.size(); ++i) {
    cum += cand_[shifted[i].second].p;
    if (cum > p) {
      keep = i + 1;
      break;
    }
  }
  std::vector<Candidate> kept;
  for (size_t i = 0; i < keep; ++i) kept.push_back(cand_[shifted[i].second]);
  cand_ = std::move(kept);
}

// Nucleus sampling (Holtzman et al. 2019).
void Sampler::top_p(float p) {
  if (p >= 1.f || cand_.size() <= 1) return;
  softmax();
  double cum = 0;
  for (size_t i = 0; i < cand_.size(); ++i) {
    cum += cand_[i].p;
    if (cum >= p) {
      cand_.resize(i + 1);
      return;
    }
  }
}

// Keeps tokens at least p times as likely as the most likely one.
void Sampler::min_p(float p) {
  if (p <= 0.f || cand_.size() <= 1) return;
  float mx = cand_[0].logit;
  for (const Candidate& c : cand_) mx = std::max(mx, c.logit);
  const float floor = mx + std::log(p);
  std::vector<Candidate> kept;
  for (const Candidate& c : cand_) {
    if (c.logit >= floor) kept.push_back(c);
  }
  if (!kept.empty()) cand_ = std::move(kept);
}

int32_t Sampler::sample(const float* logits, int64_t n_vocab, const std::vector<int32_t>& history,
                        const std::function<bool(int32_t)>& allowed) {
  const int32_t id = draw(logits, n_vocab, history);
  if (!allowed || allowed(id)) return id;
  // The choice breaks the constraint: draw again among the tokens it
  // allows (llama.cpp's grammar sampling does the same).
  std::vector<float> masked(logits, logits + n_vocab);
  bool any = false;
  for (int64_t i = 0; i < n_vocab; ++i) {
    if (allowed(static_cast<int32_t>(i))) any = true;
    else masked[static_cast<size_t>(i)] = -std::numeric_limits<float>::infinity();
  }
  if (!any) return -1;
  return draw(masked.data(), n_vocab, history);
}

int32_t Sampler::draw(const float* logits, int64_t n_vocab, const std::vector<int32_t>& history) {
  cand_.resize(static_cast<size_t>(n_vocab));
  for (int64_t i = 0; i < n_vocab; ++i) cand_[i] = {static_cast<int32_t>(i), logits[i], 0.f};
  apply_penalties(history);
  if (o_.temperature <= 0.f) {
    // Greedy; the lowest id wins a tie.
    const auto best = std::max_element(cand_.begin(), cand_.end(), [](const Candidate& a, const Candidate& b) {
      return a.logit < b.logit || (a.logit == b.logit && a.id > b.id);
    });
    return best->id;
  }
  top_k(o_.top_k);
  typical(o_.typical_p);
  top_p(o_.top_p);
  min_p(o_.min_p);
  for (Candidate& c : cand_) c.logit /= o_.temperature;
  softmax();
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double r = u(rng_);
  double cum = 0;
  int32_t last = cand_.front().id;
  for (const Candidate& c : cand_) {
    if (c.p <= 0) continue;  // masked out
    cum += c.p;
    last = c.id;
    if (r < cum) return c.id;
  }
  return last;
}

}  // namespace folio
