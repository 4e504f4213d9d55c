// folio logits FILE.gguf --tokens 1,2,3 [--ctx N] [--threads N]
// Evaluates the tokens in one batch and prints every position's logits:
// {"tokens":[...],"logits":[[...],...]} (row r predicts position r+1).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <sstream>

#include "base/cpu.h"
#include "cli/commands.h"
#include "engine/loader.h"

namespace folio::cli {

namespace {

struct LogitsCli {
  std::string model;
  std::string tokens;
  int64_t ctx = 0;
  int threads = 0;
};

Result<std::vector<int32_t>> parse_ids(const std::string& s, int64_t n_vocab) {
  std::vector<int32_t> ids;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0') return make_error("'%s' is not a token id (expected e.g. 1,2,3)", item.c_str());
    if (v < 0 || v >= n_vocab) {
      return make_error("token id %lld is out of range: the vocabulary has %lld tokens", v, static_cast<long long>(n_vocab));
    }
    ids.push_back(static_cast<int32_t>(v));
  }
  if (ids.empty()) return make_error("no token ids given");
  return ids;
}

int run_logits(const LogitsCli& c) {
  Options opts;
  opts.num_ctx = c.ctx > 0 ? c.ctx : 512;
  opts.num_thread = c.threads;
  auto loaded = load_for_inference(c.model, opts);
  if (!loaded.ok()) return fail(loaded.error().message);
  const Hparams& hp = loaded->model->hparams();
  auto ids = parse_ids(c.tokens, hp.n_vocab);
  if (!ids.ok()) return fail(ids.error().message);
  const int64_t n = static_cast<int64_t>(ids->size());
  if (n > loaded->n_ctx) {
    return fail(std::to_string(n) + " tokens do not fit the context of " + std::to_string(loaded->n_ctx) + "; raise --ctx");
  }
  auto ctx = loaded->new_context();
  if (!ctx.ok()) return fail(ctx.error().message);
  std::vector<float> logits(static_cast<size_t>(n * hp.n_vocab));
  loaded->model->forward(**ctx, ids->data(), n, true, logits.data());
  std::string out = "{\"tokens\":[";
  for (int64_t i = 0; i < n; ++i) out += (i ? "," : "") + std::to_string((*ids)[i]);
  out += "],\"logits\":[";
  char buf[32];
  for (int64_t r = 0; r < n; ++r) {
    out += r ? ",[" : "[";
    for (int64_t j = 0; j < hp.n_vocab; ++j) {
      std::snprintf(buf, sizeof buf, j ? ",%.9g" : "%.9g", logits[r * hp.n_vocab + j]);
      out += buf;
    }
    out += "]";
  }
  out += "]}\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

void add_logits(CLI::App& app, int* exit_code) {
  auto c = std::make_shared<LogitsCli>();
  CLI::App* cmd = app.add_subcommand("logits", "Print the logits of every position for token ids (JSON)");
  cmd->add_option("model", c->model, "GGUF file")->required();
  cmd->add_option("--tokens", c->tokens, "Comma-separated token ids")->required();
  cmd->add_option("--ctx", c->ctx, "Context size (default: 512)");
  cmd->add_option("--threads", c->threads, "Threads (default: physical cores)");
  cmd->callback([c, exit_code] { *exit_code = run_logits(*c); });
}

}  // namespace folio::cli
