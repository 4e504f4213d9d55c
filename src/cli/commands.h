// Subcommands of the folio binary. Each registers its options on the CLI11
// app and returns the process exit code from its run function.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"

namespace CLI {
class App;
}

namespace folio::cli {

// Adds the subcommand to app; *exit_code receives its result when it runs.
void add_show(CLI::App& app, int* exit_code);
void add_synth(CLI::App& app, int* exit_code);
void add_logits(CLI::App& app, int* exit_code);
void add_plan(CLI::App& app, int* exit_code);
void add_serve(CLI::App& app, int* exit_code);
void add_model_commands(CLI::App& app, int* exit_code);  // list, cp, rm, create
void add_registry_commands(CLI::App& app, int* exit_code);  // pull, push
void add_run(CLI::App& app, int* exit_code);
void add_ps_commands(CLI::App& app, int* exit_code);   // ps, stop
void add_tokenize(CLI::App& app, int* exit_code);
void add_detokenize(CLI::App& app, int* exit_code);
void add_bench(CLI::App& app, int* exit_code);

// The summary `folio show NAME` prints (and the REPL's /show info) from an
// /api/show reply.
void print_model_info(const nlohmann::json& show);

class ApiClient;
// POST route ("/api/pull" or "/api/push") for name, its progress shown on
// stderr (a bar per blob on a terminal).
Result<void> transfer(ApiClient& c, const std::string& route, const std::string& name, bool insecure);

// Prints "Error: message" to stderr (as Ollama does) and returns 1.
int fail(const std::string& message);

// The bundled default model's path, next to the binary's source tree
// (<exe>/../data/models/stories260K.gguf), or "" when not found.
std::string bundled_model_path();

}  // namespace folio::cli
