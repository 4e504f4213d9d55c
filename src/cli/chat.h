// `folio run NAME [PROMPT]` for a stored model, through the API as Ollama's
// CLI does: a one-shot completion (PROMPT and/or piped stdin) or the
// interactive chat (>>> prompt, /commands, history). When no server
// answers at FOLIO_HOST, a server runs inside this process on a private
// loopback port, so the engine runs in-process with the same behaviour.
#pragma once

#include <string>
#include <vector>

namespace folio::cli {

struct ChatArgs {
  std::string model;
  std::vector<std::string> prompt;  // words of the prompt; empty: stdin or interactive
  std::vector<std::string> params;  // NAME=VALUE
  bool verbose = false;
};

int run_named_model(const ChatArgs& a);

}  // namespace folio::cli
