#include "engine/batcher.h"

#include <algorithm>
#include <cstring>

namespace folio {

DecodeBatcher::Session::Session(DecodeBatcher* b) : b_(b) {
  if (b_ == nullptr) return;
  std::lock_guard<std::mutex> lock(b_->mu_);
  ++b_->active_;
}

DecodeBatcher::Session::~Session() {
  if (b_ == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(b_->mu_);
    --b_->active_;
  }
  b_->cv_.notify_all();  // a leader may be waiting for this sequence's step
}

void DecodeBatcher::run(const std::vector<Request*>& batch) {
  const int64_t n = static_cast<int64_t>(batch.size()), n_vocab = model_.hparams().n_vocab;
  ctxs_.clear();
  tokens_.clear();
  for (Request* r : batch) {
    ctxs_.push_back(r->ctx);
    tokens_.push_back(r->token);
  }
  if (n == 1) {
    model_.forward(*ctxs_[0], tokens_.data(), 1, false, batch[0]->logits);
    return;
  }
  logits_.resize(static_cast<size_t>(n * n_vocab));
  model_.decode(ctxs_.data(), tokens_.data(), n, logits_.data());
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(batch[static_cast<size_t>(i)]->logits, logits_.data() + i * n_vocab, static_cast<size_t>(n_vocab) * 4);
  }
}

void DecodeBatcher::step(Context& ctx, int32_t token, float* logits) {
  Request me{&ctx, token, logits};
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&me);
  cv_.notify_all();  // a leader gathering steps may be waiting for this one
  while (!me.done) {
    // A prompt waiting to be evaluated goes first: decoders that keep
    // queueing steps would otherwise never leave it a gap.
    if (busy_ || exclusive_waiting_ > 0) {
      cv_.wait(lock);
      continue;
    }
    // Lead a pass: first give the other decoding sequences a moment to
    // queue their steps (they are sampling from the previous pass).
    const auto until = std::chrono::steady_clock::now() + gather_;
    // (Another leader may take this step and finish it meanwhile: then this
    // thread must go back to its sequence, not wait out the window.)
    while (static_cast<int>(queue_.size()) < active_ && !busy_ && !me.done && exclusive_waiting_ == 0) {
      if (cv_.wait_until(lock, until) == std::cv_status::timeout) break;
    }
    if (busy_ || me.done || exclusive_waiting_ > 0) continue;  // someone else goes first
    std::vector<Request*> batch;
    batch.swap(queue_);
    busy_ = true;
    lock.unlock();
    run(batch);
    lock.lock();
    busy_ = false;
    steps_ += batch.size();
    ++passes_;
    for (Request* r : batch) r->done = true;
    cv_.notify_all();
  }
}

void DecodeBatcher::exclusive(const std::function<void()>& fn) {
  std::unique_lock<std::mutex> lock(mu_);
  ++exclusive_waiting_;
  cv_.notify_all();  // a leader gathering steps yields to it
  cv_.wait(lock, [&] { return !busy_; });
  --exclusive_waiting_;
  busy_ = true;
  lock.unlock();
  fn();
  lock.lock();
  busy_ = false;
  cv_.notify_all();
}

uint64_t DecodeBatcher::steps() const {
  std::lock_guard<std::mutex> lock(mu_);
  return steps_;
}

uint64_t DecodeBatcher::passes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return passes_;
}

}  // namespace folio
