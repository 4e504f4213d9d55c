// A persistent pool for the engine's parallel loops: threads are created
// once and handed work through an atomic generation counter, spinning
// briefly before sleeping, so a hand-off costs microseconds, not a thread
// start. Concurrent run() calls are serialized; run() is not reentrant.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace folio {

class ThreadPool {
 public:
  // n_threads counts the calling thread; 1 means run() executes inline.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(ith, nth) on every thread (ith = 0 on the caller) and returns
  // when all have finished.
  void run(const std::function<void(int ith, int nth)>& fn);

  // Splits [0, n) into size() contiguous ranges and runs fn(begin, end).
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

 private:
  void worker(int ith);

  const int n_threads_;
  std::vector<std::thread> threads_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::mutex run_mu_;  // one job at a time
  std::condition_variable wake_;
};

}  // namespace folio
