// folio serve: the HTTP API on FOLIO_HOST (default 127.0.0.1:11434) over the
// store at FOLIO_MODELS. SIGINT/SIGTERM stop it gracefully.
#include <CLI/CLI.hpp>

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "base/strings.h"
#include "cli/commands.h"
#include "server/server.h"

namespace folio::cli {

namespace {

int run_serve() {
  auto address = host_from_env();
  if (!address.ok()) return fail(address.error().message);
  // Signals go to one waiting thread, which stops the server: nothing
  // async-signal-unsafe runs in a handler.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto sched = SchedulerConfig::from_env();
  if (!sched.ok()) return fail(sched.error().message);
  Server server(Store::default_root(), *address, *sched);
  if (auto r = server.bind(); !r.ok()) return fail(r.error().message);
  // What writers killed mid-way left (temporary files of dead processes).
  if (const size_t n = Store(Store::default_root()).remove_stale_temporaries(); n > 0) {
    std::fprintf(stderr, "folio: removed %zu temporary file%s left by an interrupted write\n", n, n == 1 ? "" : "s");
  }
  // As Ollama does at startup: blobs no model uses (uploads for a create
  // that failed) are deleted, unless FOLIO_NOPRUNE is set.
  if (const char* keep = std::getenv("FOLIO_NOPRUNE"); keep == nullptr || *keep == '\0') {
    Store store(Store::default_root());
    auto freed = store.prune();
    if (!freed.ok()) std::fprintf(stderr, "folio: not pruning unused blobs: %s\n", freed.error().message.c_str());
    else if (*freed > 0) std::fprintf(stderr, "folio: pruned unused blobs, %s freed\n", human_bytes(*freed).c_str());
  }
  std::fprintf(stderr, "folio %s listening on %s:%d, models in %s\n", FOLIO_VERSION, address->host.c_str(), server.port(),
               Store::default_root().c_str());
  std::atomic<bool> signalled{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&set, &sig);
    signalled = true;
    std::fprintf(stderr, "folio: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server.stop();
  });
  server.run();
  if (!signalled) pthread_kill(waiter.native_handle(), SIGTERM);  // stopped otherwise: release the waiter
  waiter.join();
  return 0;
}

}  // namespace

void add_serve(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand("serve", "Start the server (FOLIO_HOST, FOLIO_MODELS)");
  cmd->callback([exit_code] { *exit_code = run_serve(); });
}

}  // namespace folio::cli
