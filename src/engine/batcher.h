// Batched decoding: the decode steps of sequences generating at the same
// time (one KV cache each: the server's parallel slots) are evaluated in
// one forward pass, so each weight is read from memory once per step for
// all of them instead of once per sequence. Token generation is bound by
// that read, so N streams cost little more than one.
//
// No thread of its own: a sequence that wants a step queues its token; if
// no pass is running it leads one with every queued step (waiting a moment
// for the other active sequences, which are sampling their previous
// token), else it waits for a leader to take it. Prompt evaluation and
// other whole-model work run alone through exclusive(), ahead of the next
// pass (so a new request is not starved by sequences already decoding).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "engine/context.h"
#include "engine/model.h"

namespace folio {

class DecodeBatcher {
 public:
  // gather: how long a leader waits for the steps of the other active
  // sequences (it goes as soon as all of them have queued theirs).
  explicit DecodeBatcher(const Model& model, std::chrono::milliseconds gather = std::chrono::milliseconds{5})
      : model_(model), gather_(gather) {}

  // Marks a sequence as decoding for its lifetime: the leader of a step
  // waits (briefly) for the steps of all marked sequences.
  class Session {
   public:
    explicit Session(DecodeBatcher* b);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

   private:
    DecodeBatcher* b_;
  };

  // Evaluates token at ctx.n_past() (advancing it) with the other queued
  // steps; writes ctx's n_vocab logits.
  void step(Context& ctx, int32_t token, float* logits);

  // Runs fn with no pass in flight.
  void exclusive(const std::function<void()>& fn);

  // Steps evaluated and passes run so far (for tests and stats).
  uint64_t steps() const;
  uint64_t passes() const;

 private:
  struct Request {
    Context* ctx;
    int32_t token;
    float* logits;
    bool done = false;
  };
  void run(const std::vector<Request*>& batch);

  const Model& model_;
  const std::chrono::milliseconds gather_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Request*> queue_;
  bool busy_ = false;
  int active_ = 0;
  int exclusive_waiting_ = 0;  // prompt evaluations waiting: they go before the next pass
  uint64_t steps_ = 0, passes_ = 0;
  std::vector<Context*> ctxs_;     // the leader's scratch, under busy_
  std::vector<int32_t> tokens_;
  std::vector<float> logits_;
};

}  // namespace folio
