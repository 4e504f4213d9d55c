// folio ps [PREFIX] and folio stop MODEL, as clients of /api/ps and
// /api/generate (ref: ollama cmd/cmd.go ListRunningHandler, StopHandler).
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <ctime>

#include "base/strings.h"
#include "cli/client.h"
#include "cli/commands.h"

namespace folio::cli {

using nlohmann::json;

namespace {

// Go format.HumanTime of a future instant: "4 minutes from now", "Forever".
std::string until(const std::string& rfc3339) {
  std::tm tm{};
  if (strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return rfc3339;
  const double d = std::difftime(timegm(&tm), std::time(nullptr));
  if (d < 0) return "Stopping...";
  if (d > 20 * 365 * 86400.0) return "Forever";
  const int s = static_cast<int>(d), minutes = s / 60, hours = static_cast<int>(std::lround(d / 3600));
  std::string h;
  if (s < 1) h = "Less than a second";
  else if (s == 1) h = "1 second";
  else if (s < 60) h = strfmt("%d seconds", s);
  else if (minutes == 1) h = "About a minute";
  else if (minutes < 60) h = strfmt("%d minutes", minutes);
  else if (hours == 1) h = "About an hour";
  else if (hours < 48) h = strfmt("%d hours", hours);
  else h = strfmt("%d days", hours / 24);
  return h + " from now";
}

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Columns left-aligned, four spaces apart (Ollama's tablewriter settings).
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()));
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], utf8_length(r[i]));
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - utf8_length(r[i]) + 4, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

int run_ps(const std::string& prefix) {
  auto c = ApiClient::from_env();
  if (!c.ok()) return fail(c.error().message);
  auto r = c->call("GET", "/api/ps", nullptr);
  if (!r.ok()) return fail(r.error().message);
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL", "MODE", "WEIGHTS IN RAM"}};
  for (const auto& m : (*r)["models"]) {
    const std::string name = m.value("name", "");
    if (name.rfind(prefix, 0) != 0) continue;
    const uint64_t weights = m.value("weights_bytes", uint64_t{0}), resident = m.value("weights_resident_bytes", uint64_t{0});
    std::string in_ram = human_bytes(resident);
    if (weights > 0) in_ram += strfmt(" (%d%%)", static_cast<int>(std::lround(100.0 * resident / weights)));
    rows.push_back({name, m.value("digest", "").substr(0, 12), human_bytes(m.value("size", uint64_t{0})), "100% CPU",
                    std::to_string(m.value("context_length", 0)), until(m.value("expires_at", "")),
                    m.value("load_mode", "") + (m.value("memory", "") == "paged from disk" ? ", paged" : ""), in_ram});
  }
  print_table(rows);
  return 0;
}

int run_stop(const std::string& model) {
  auto c = ApiClient::from_env();
  if (!c.ok()) return fail(c.error().message);
  auto r = c->call("POST", "/api/generate", {{"model", model}, {"keep_alive", 0}, {"stream", false}});
  if (!r.ok()) {
    if (r.error().message.find("not found") != std::string::npos) {
      return fail("couldn't find model \"" + model + "\" to stop");
    }
    return fail(r.error().message);
  }
  return 0;
}

}  // namespace

void add_ps_commands(CLI::App& app, int* exit_code) {
  auto prefix = std::make_shared<std::string>();
  CLI::App* ps = app.add_subcommand("ps", "List running models: memory, load mode and how long they stay");
  ps->add_option("prefix", *prefix, "Only models whose name starts with this");
  ps->callback([prefix, exit_code] { *exit_code = run_ps(*prefix); });
  auto model = std::make_shared<std::string>();
  CLI::App* stop = app.add_subcommand("stop", "Unload a running model");
  stop->add_option("model", *model, "Model name")->required();
  stop->callback([model, exit_code] { *exit_code = run_stop(*model); });
}

}  // namespace folio::cli
