// Token sampling with Ollama's options, in llama.cpp's chain order:
// penalties (repeat/presence/frequency over the last repeat_last_n tokens),
// top_k, typical_p, top_p, min_p, temperature, then a draw from the
// distribution (temperature 0: the most likely token). Deterministic for a
// given seed. Not thread-safe: one Sampler per sequence.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "engine/options.h"

namespace folio {

class Sampler {
 public:
  // A seed of -1 draws one from std::random_device.
  explicit Sampler(const Options& options);

  // Picks the next token from logits (n_vocab values; not modified) given
  // the tokens so far (prompt + generated). With `allowed`, only a token it
  // accepts (-1 when it accepts none): the unconstrained choice when
  // allowed, else a draw among the allowed ones.
  int32_t sample(const float* logits, int64_t n_vocab, const std::vector<int32_t>& history,
                 const std::function<bool(int32_t)>& allowed = nullptr);

  uint64_t seed() const { return seed_; }

 private:
  struct Candidate {
    int32_t id;
    float logit;
    float p;
  };
  int32_t draw(const float* logits, int64_t n_vocab, const std::vector<int32_t>& history);
  void apply_penalties(const std::vector<int32_t>& history);
  void top_k(int64_t k);
  void softmax();  // sorts by logit, descending, and fills p
  void typical(float p);
  void top_p(float p);
  void min_p(float p);

  Options o_;
  uint64_t seed_;
  std::mt19937_64 rng_;
  std::vector<Candidate> cand_;
};

}  // namespace folio
