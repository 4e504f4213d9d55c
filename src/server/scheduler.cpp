#include "server/scheduler.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "base/log.h"
#include "base/strings.h"

namespace folio {

using Clock = std::chrono::steady_clock;

struct Scheduler::Entry {
  LoadSpec spec;
  std::unique_ptr<Runner> runner;
  std::vector<bool> busy;  // per slot
  int active() const { return static_cast<int>(std::count(busy.begin(), busy.end(), true)); }
  KeepAlive keep;
  Clock::time_point expires;
  bool unload_when_idle = false;
  uint64_t last_used = 0;
};

// Past a century a keep_alive is forever (and deadlines stay far from
// overflowing the clock).
constexpr double kForeverMs = 100 * 365.25 * 24 * 3600e3;

Result<KeepAlive> parse_keep_alive_seconds(double seconds) {
  if (!std::isfinite(seconds)) return make_error("keep_alive must be a finite number of seconds");
  if (seconds < 0 || seconds * 1000 > kForeverMs) return KeepAlive{true, {}};
  return KeepAlive{false, std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)))};
}

Result<KeepAlive> parse_keep_alive_text(std::string_view text) {
  // Go's time.ParseDuration: [-+]? (number unit)+, or "0".
  const std::string s(text);
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
  if (s.substr(i) == "0") return KeepAlive{false, {}};
  if (i >= s.size()) return make_error("invalid duration \"%s\"", escape_for_display(s).c_str());
  double ms = 0;
  while (i < s.size()) {
    const size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) return make_error("invalid duration \"%s\"", escape_for_display(s).c_str());
    const double v = std::strtod(s.substr(start, i - start).c_str(), nullptr);
    const size_t u0 = i;
    while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '.') ++i;
    const std::string unit = s.substr(u0, i - u0);
    double scale = 0;
    if (unit == "ns") scale = 1e-6;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") scale = 1e-3;
    else if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1e3;
    else if (unit == "m") scale = 60e3;
    else if (unit == "h") scale = 3600e3;
    else if (unit.empty()) return make_error("missing unit in duration \"%s\"", escape_for_display(s).c_str());
    else return make_error("unknown unit \"%s\" in duration \"%s\"", escape_for_display(unit).c_str(), escape_for_display(s).c_str());
    ms += v * scale;
    // Go's time.Duration holds at most ~292 years of nanoseconds.
    if (!(ms <= 9.2e15)) return make_error("invalid duration \"%s\"", escape_for_display(s).c_str());
  }
  if (negative && ms > 0) return KeepAlive{true, {}};
  if (ms > kForeverMs) return KeepAlive{true, {}};
  return KeepAlive{false, std::chrono::milliseconds(static_cast<int64_t>(std::llround(ms)))};
}

Result<SchedulerConfig> SchedulerConfig::from_env() {
  SchedulerConfig c;
  const auto int_env = [](const char* name, int* out, int min) -> Result<void> {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return {};
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (*end != '\0' || n < min || n > 1 << 20) return make_error("%s=%s: expected a whole number >= %d", name, v, min);
    *out = static_cast<int>(n);
    return {};
  };
  FOLIO_TRY(int_env("FOLIO_MAX_LOADED_MODELS", &c.max_loaded, 1));
  FOLIO_TRY(int_env("FOLIO_NUM_PARALLEL", &c.num_parallel, 1));
  FOLIO_TRY(int_env("FOLIO_MAX_QUEUE", &c.max_queue, 1));
  if (const char* v = std::getenv("FOLIO_KEEP_ALIVE"); v != nullptr && *v != '\0') {
    // As OLLAMA_KEEP_ALIVE: a duration, or a whole number of seconds.
    auto k = parse_keep_alive_text(v);
    if (!k.ok()) {
      char* end = nullptr;
      const long long n = std::strtoll(v, &end, 10);
      if (*end != '\0') return make_error("FOLIO_KEEP_ALIVE=%s: expected a duration (5m, 1h, 30s) or seconds", v);
      k = parse_keep_alive_seconds(static_cast<double>(n));
    }
    c.keep_alive = *k;
  }
  return c;
}

Scheduler::Scheduler(SchedulerConfig cfg, std::unique_ptr<RunnerFactory> factory)
    : cfg_(cfg), factory_(std::move(factory)) {
  reaper_ = std::thread([this] { reap(); });
}

Scheduler::~Scheduler() {
  std::vector<std::unique_ptr<Runner>> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& e : loaded_) gone.push_back(std::move(e->runner));
    loaded_.clear();
  }
  cv_.notify_all();
  reaper_.join();
}

Runner& Scheduler::Lease::runner() const { return *e_->runner; }

Scheduler::Lease::~Lease() { s_->release(e_, slot_); }

std::shared_ptr<Scheduler::Entry> Scheduler::least_recent_idle() const {
  std::shared_ptr<Entry> best;
  for (const auto& e : loaded_) {
    if (e->active() == 0 && (!best || e->last_used < best->last_used)) best = e;
  }
  return best;
}

std::unique_ptr<Runner> Scheduler::detach(std::shared_ptr<Entry> e) {  // by value: e may live in loaded_
  std::erase(loaded_, e);
  FOLIO_LOG_INFO("unloading %s", e->spec.name.c_str());
  return std::move(e->runner);
}

Scheduler::Acquired Scheduler::acquire(const LoadSpec& spec, std::optional<KeepAlive> keep_alive,
                                       const std::function<bool()>& cancelled) {
  Acquired out;
  std::unique_lock<std::mutex> lock(mu_);
  if (waiting_ >= cfg_.max_queue) {
    out.status = 503;
    out.error = "server busy, please try again.  maximum pending requests exceeded (FOLIO_MAX_QUEUE=" +
                std::to_string(cfg_.max_queue) + ")";
    return out;
  }
  ++waiting_;
  struct Leave {
    int& n;
    std::condition_variable& cv;
    ~Leave() {
      --n;
      cv.notify_all();
    }
  } leave{waiting_, cv_};
  const KeepAlive keep = keep_alive.value_or(cfg_.keep_alive);
  std::vector<std::unique_ptr<Runner>> garbage;  // destroyed after the lock is released
  const auto wait = [&] {
    garbage.clear();
    cv_.wait_for(lock, std::chrono::milliseconds(50));
  };
  for (;;) {
    if (stopping_) {
      out.status = 503;
      out.error = "the server is shutting down";
      return out;
    }
    if (cancelled && cancelled()) {
      out.status = 499;
      out.error = "the client closed the request";
      return out;
    }
    std::shared_ptr<Entry> e;
    for (const auto& x : loaded_) {
      if (x->spec.name == spec.name) e = x;
    }
    if (e && e->spec.same_load(spec) && !e->unload_when_idle) {
      const auto free = std::find(e->busy.begin(), e->busy.end(), false);
      if (free != e->busy.end()) {
        *free = true;
        e->keep = keep;
        e->last_used = ++clock_;
        out.lease.reset(new Lease(this, e, static_cast<int>(free - e->busy.begin())));
        return out;
      }
      wait();
      continue;
    }
    if (e) {  // loaded with other options: reload once its requests end
      e->unload_when_idle = true;
      if (e->active() == 0) garbage.push_back(detach(e));
      wait();
      continue;
    }
    if (loading_) {  // one load at a time
      wait();
      continue;
    }
    if (static_cast<int>(loaded_.size()) >= cfg_.max_loaded) {
      if (auto idle = least_recent_idle()) {
        garbage.push_back(detach(idle));
        continue;
      }
      wait();
      continue;
    }
    // Plan against what is loaded now; idle models make room first.
    loading_ = true;
    lock.unlock();
    garbage.clear();
    Result<Fit> fit = factory_->fit(spec);
    lock.lock();
    if (!fit.ok()) {
      loading_ = false;
      cv_.notify_all();
      out.status = 500;
      out.error = fit.error().message;
      return out;
    }
    if (!fit->fits) {
      loading_ = false;
      cv_.notify_all();
      if (auto idle = least_recent_idle()) {
        garbage.push_back(detach(idle));
        continue;
      }
      if (!loaded_.empty()) {  // busy models will become idle
        wait();
        continue;
      }
      out.status = 500;
      out.error = fit->reason;
      return out;
    }
    lock.unlock();
    const auto t0 = Clock::now();
    Result<std::unique_ptr<Runner>> runner = factory_->load(spec);
    out.load_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    lock.lock();
    loading_ = false;
    cv_.notify_all();
    if (!runner.ok()) {
      out.status = 500;
      out.error = runner.error().message;
      return out;
    }
    auto fresh = std::make_shared<Entry>();
    fresh->spec = spec;
    fresh->runner = std::move(runner).value();
    fresh->busy.assign(static_cast<size_t>(std::max(1, spec.num_parallel)), false);
    fresh->busy[0] = true;
    fresh->keep = keep;
    fresh->last_used = ++clock_;
    loaded_.push_back(fresh);
    FOLIO_LOG_INFO("loaded %s (%s)", spec.name.c_str(), fresh->runner->info().load_mode.c_str());
    out.lease.reset(new Lease(this, fresh, 0));
    return out;
  }
}

void Scheduler::release(const std::shared_ptr<Entry>& e, int slot) {
  std::unique_ptr<Runner> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    e->busy[static_cast<size_t>(slot)] = false;
    e->last_used = ++clock_;
    if (e->active() == 0) {
      const bool listed = std::find(loaded_.begin(), loaded_.end(), e) != loaded_.end();
      if (listed && (e->unload_when_idle || (!e->keep.forever && e->keep.duration.count() == 0))) {
        gone = detach(e);
      } else {
        e->expires = Clock::now() + e->keep.duration;
      }
    }
  }
  cv_.notify_all();
}

bool Scheduler::unload(const std::string& name) {
  std::unique_ptr<Runner> gone;
  bool found = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& e : loaded_) {
      if (e->spec.name != name) continue;
      found = true;
      e->unload_when_idle = true;
      if (e->active() == 0) {
        gone = detach(e);
        break;
      }
    }
  }
  cv_.notify_all();
  return found;
}

std::vector<LoadedInfo> Scheduler::ps() const {
  std::vector<LoadedInfo> out;
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = Clock::now();
  const auto wall = std::chrono::system_clock::now();
  for (const auto& e : loaded_) {
    LoadedInfo i;
    i.name = e->spec.name;
    i.digest = e->spec.digest;
    i.path = e->spec.path;
    i.info = e->runner->info();
    i.resident = e->runner->resident_bytes();
    i.active = e->active();
    i.forever = e->keep.forever;
    const auto until = e->active() > 0 ? now + e->keep.duration : e->expires;
    i.expires_at = wall + std::chrono::duration_cast<std::chrono::system_clock::duration>(until - now);
    out.push_back(std::move(i));
  }
  return out;
}

void Scheduler::reap() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    std::vector<std::unique_ptr<Runner>> gone;
    const auto now = Clock::now();
    auto next = now + std::chrono::seconds(1);
    for (const auto& e : std::vector<std::shared_ptr<Entry>>(loaded_)) {
      if (e->active() > 0 || e->keep.forever) continue;
      if (e->expires <= now) {
        gone.push_back(detach(e));
      } else {
        next = std::min(next, e->expires);
      }
    }
    if (!gone.empty()) {
      lock.unlock();
      gone.clear();
      lock.lock();
      cv_.notify_all();
      continue;
    }
    cv_.wait_until(lock, next);
  }
}

}  // namespace folio
