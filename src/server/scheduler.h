// Which models are loaded, for how long, and who may use them: Ollama's
// scheduler. Models load one at a time, each through the memory planner;
// a model that does not fit first makes idle models leave, then is refused
// with the planner's reasons. Each loaded model has num_parallel slots; a
// request waits for a free one (at most max_queue wait, then 503). A model
// stays keep_alive after its last request (0: unloads at once, negative:
// forever) and reloads when a request's load options differ.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "server/runner.h"

namespace folio {

struct KeepAlive {
  bool forever = false;
  std::chrono::milliseconds duration{0};
};

// A keep_alive as Ollama reads it: a number of seconds, or a Go duration
// string ("5m", "1h30m", "300ms", "0"); negative means forever.
Result<KeepAlive> parse_keep_alive_seconds(double seconds);
Result<KeepAlive> parse_keep_alive_text(std::string_view text);

struct SchedulerConfig {
  int max_loaded = 3;
  int num_parallel = 1;
  int max_queue = 512;
  KeepAlive keep_alive{false, std::chrono::minutes(5)};
  // FOLIO_MAX_LOADED_MODELS, FOLIO_NUM_PARALLEL, FOLIO_MAX_QUEUE,
  // FOLIO_KEEP_ALIVE; errors name the variable.
  static Result<SchedulerConfig> from_env();
};

struct LoadedInfo {
  std::string name, digest, path;
  RunnerInfo info;
  uint64_t resident = 0;  // weights in RAM now
  int active = 0;         // requests using it
  bool forever = false;
  std::chrono::system_clock::time_point expires_at;
};

class Scheduler {
 private:
  struct Entry;

 public:
  Scheduler(SchedulerConfig cfg, std::unique_ptr<RunnerFactory> factory);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // The right to use one slot of a loaded model; released on destruction.
  class Lease {
   public:
    ~Lease();
    Runner& runner() const;
    int slot() const { return slot_; }

   private:
    friend class Scheduler;
    Lease(Scheduler* s, std::shared_ptr<Entry> e, int slot) : s_(s), e_(std::move(e)), slot_(slot) {}
    Scheduler* s_;
    std::shared_ptr<Entry> e_;
    int slot_;
  };

  struct Acquired {
    std::unique_ptr<Lease> lease;
    int status = 200;          // 503 queue full, 500 load failure, 499 cancelled
    std::string error;
    double load_seconds = 0;   // time spent loading for this request
  };
  // Waits for a slot of spec's model, loading it when needed. keep_alive
  // (unset: the default) applies from this request's end. cancelled is
  // polled while waiting.
  Acquired acquire(const LoadSpec& spec, std::optional<KeepAlive> keep_alive,
                   const std::function<bool()>& cancelled = nullptr);
  // Unloads a model now if idle, else as soon as its requests end. False if
  // it is not loaded.
  bool unload(const std::string& name);
  std::vector<LoadedInfo> ps() const;
  int num_parallel() const { return cfg_.num_parallel; }

 private:
  void release(const std::shared_ptr<Entry>& e, int slot);
  // Removes e from the loaded list; the runner is destroyed by the caller,
  // outside the lock.
  std::unique_ptr<Runner> detach(std::shared_ptr<Entry> e);
  std::shared_ptr<Entry> least_recent_idle() const;
  void reap();

  SchedulerConfig cfg_;
  std::unique_ptr<RunnerFactory> factory_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Entry>> loaded_;
  int waiting_ = 0;
  bool loading_ = false;
  bool stopping_ = false;
  uint64_t clock_ = 0;  // use order, for least-recently-used eviction
  std::thread reaper_;
};

}  // namespace folio
