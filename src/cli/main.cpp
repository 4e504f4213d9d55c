// folio: a local LLM server and CLI compatible with Ollama.
#include <CLI/CLI.hpp>

#include <climits>
#include <csignal>
#include <cstdio>
#include <unistd.h>

#include "cli/commands.h"

namespace folio::cli {

int fail(const std::string& message) {
  std::fprintf(stderr, "Error: %s\n", message.c_str());
  return 1;
}

std::string bundled_model_path() {
  char exe[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return "";
  exe[n] = '\0';
  std::string dir(exe);
  dir.resize(dir.find_last_of('/'));
  for (const char* rel : {"/../data/models/stories260K.gguf", "/../share/folio/stories260K.gguf"}) {
    const std::string p = dir + rel;
    if (::access(p.c_str(), R_OK) == 0) return p;
  }
  return "";
}

}  // namespace folio::cli

int main(int argc, char** argv) {
  // A client that goes away mid-response is an error on that connection,
  // never the end of the server (or of a CLI talking to one).
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"folio: run large language models locally (Ollama-compatible)", "folio"};
  app.set_version_flag("-v,--version", std::string("folio version ") + FOLIO_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  folio::cli::add_show(app, &exit_code);
  folio::cli::add_synth(app, &exit_code);
  folio::cli::add_run(app, &exit_code);
  folio::cli::add_logits(app, &exit_code);
  folio::cli::add_plan(app, &exit_code);
  folio::cli::add_serve(app, &exit_code);
  folio::cli::add_model_commands(app, &exit_code);
  folio::cli::add_registry_commands(app, &exit_code);
  folio::cli::add_ps_commands(app, &exit_code);
  folio::cli::add_tokenize(app, &exit_code);
  folio::cli::add_detokenize(app, &exit_code);
  folio::cli::add_bench(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
