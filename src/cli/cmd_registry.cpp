// folio pull NAME / folio push NAME [--insecure]: the server does the work
// (POST /api/pull, /api/push); the CLI shows its progress, one line per
// blob with a bar on a terminal, the status lines otherwise.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "base/strings.h"
#include "cli/client.h"
#include "cli/commands.h"

namespace folio::cli {

namespace {

using nlohmann::json;

}  // namespace

Result<void> transfer(ApiClient& c, const std::string& route, const std::string& name, bool insecure) {
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  std::string last_status;
  bool open_line = false;
  auto r = c.stream(route, json{{"model", name}, {"insecure", insecure}, {"stream", true}}, [&](const json& line) {
    if (!line.contains("status") || !line["status"].is_string()) return;
    const std::string status = line["status"];
    const bool sized = line.contains("total") && line["total"].is_number_unsigned() && line["total"].get<uint64_t>() > 0;
    if (sized && tty) {
      const uint64_t total = line["total"], done = line.value("completed", uint64_t{0});
      const int pct = static_cast<int>(done * 100 / total);
      const int bar = pct / 5;
      std::fprintf(stderr, "\r%s: %3d%% %s%s %s/%s ", status.c_str(), pct, std::string(bar, '#').c_str(),
                   std::string(20 - bar, '.').c_str(), human_bytes(done).c_str(), human_bytes(total).c_str());
      open_line = true;
      if (status != last_status) last_status = status;
      return;
    }
    if (status == last_status) return;
    if (open_line) std::fputc('\n', stderr);
    open_line = false;
    last_status = status;
    std::fprintf(stderr, "%s\n", status.c_str());
  });
  if (open_line) std::fputc('\n', stderr);
  return r;
}

namespace {

int run_transfer(const std::string& route, const std::string& name, bool insecure) {
  auto c = ApiClient::from_env();
  if (!c.ok()) return fail(c.error().message);
  if (auto r = transfer(*c, route, name, insecure); !r.ok()) return fail(r.error().message);
  return 0;
}

}  // namespace

void add_registry_commands(CLI::App& app, int* exit_code) {
  struct Args {
    std::string name;
    bool insecure = false;
  };
  for (const bool pull : {true, false}) {
    auto a = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand(pull ? "pull" : "push", pull ? "Pull a model from a registry" : "Push a model to a registry");
    cmd->add_option("model", a->name)->required();
    cmd->add_flag("--insecure", a->insecure, "Use http (and accept any certificate)");
    cmd->callback([a, exit_code, pull] { *exit_code = run_transfer(pull ? "/api/pull" : "/api/push", a->name, a->insecure); });
  }
}

}  // namespace folio::cli
