// folio synth OUT.gguf [--preset NAME] [--type Q4_K_M] [--vocab FILE] ...
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "base/strings.h"
#include "cli/commands.h"
#include "quantize/recipe.h"
#include "synth/synth.h"

namespace folio::cli {

namespace {

struct SynthCli {
  std::string output;
  std::string preset = "tiny";
  std::string type = "Q4_K_M";
  std::string vocab;
  std::string name;
  std::string split_max_size;
  uint64_t seed = 42;
  int threads = 0;
  int64_t layers = 0, embd = 0, ff = 0, heads = 0, heads_kv = 0, ctx = 0, vocab_size = 0, experts = 0,
          experts_used = 0, expert_ff = 0;
  bool list = false;
};

int run_synth(const SynthCli& c) {
  if (c.list) {
    for (const auto& p : synth::presets()) std::printf("%-16s %s\n", p.name, p.description);
    return 0;
  }
  if (c.output.empty()) return fail("synth needs an output path, e.g. folio synth model.gguf");
  auto shape = synth::find_preset(c.preset);
  if (!shape.ok()) return fail(shape.error().message);
  synth::SynthOptions o;
  o.shape = *shape;
  auto set = [](int64_t v, int64_t& field) {
    if (v > 0) field = v;
  };
  set(c.layers, o.shape.n_layer);
  set(c.embd, o.shape.n_embd);
  set(c.ff, o.shape.n_ff);
  set(c.heads, o.shape.n_head);
  set(c.heads_kv, o.shape.n_head_kv);
  set(c.ctx, o.shape.n_ctx);
  set(c.vocab_size, o.shape.n_vocab);
  set(c.experts, o.shape.n_expert);
  set(c.experts_used, o.shape.n_expert_used);
  set(c.expert_ff, o.shape.n_ff_exp);
  o.quant = c.type;
  o.vocab_path = c.vocab.empty() ? bundled_model_path() : c.vocab;
  if (o.vocab_path.empty()) return fail("no vocabulary given and the bundled model was not found; pass --vocab FILE.gguf");
  o.name = c.name;
  o.seed = c.seed;
  o.threads = c.threads;
  if (!c.split_max_size.empty()) {
    auto bytes = parse_size(c.split_max_size);
    if (!bytes || *bytes == 0) return fail("--split-max-size: '" + c.split_max_size + "' is not a size like 500M or 2G");
    o.split_max_bytes = *bytes;
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto r = synth::synthesize(o, c.output);
  if (!r.ok()) return fail(r.error().message);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& p : r->paths) std::printf("wrote %s\n", p.c_str());
  std::printf("%s %s, %s parameters, %s of weights in %.1f s\n", c.preset.c_str(), r->file_type.c_str(),
              human_count(r->n_params).c_str(), human_bytes(r->bytes).c_str(), secs);
  return 0;
}

}  // namespace

void add_synth(CLI::App& app, int* exit_code) {
  auto c = std::make_shared<SynthCli>();
  CLI::App* cmd = app.add_subcommand("synth", "Write a model with random weights (for tests and benchmarks)");
  cmd->add_option("output", c->output, "Output GGUF path");
  cmd->add_option("-p,--preset", c->preset, "Model shape (see --list)")->capture_default_str();
  cmd->add_option("-t,--type", c->type, "Quantization: " + recipe_names())->capture_default_str();
  cmd->add_option("--vocab", c->vocab, "GGUF to copy the tokenizer from (default: the bundled model)");
  cmd->add_option("--name", c->name, "general.name");
  cmd->add_option("--seed", c->seed, "Random seed")->capture_default_str();
  cmd->add_option("--threads", c->threads, "Threads (default: all CPUs)");
  cmd->add_option("--split-max-size", c->split_max_size, "Write parts of at most this much data (e.g. 2G)");
  cmd->add_option("--layers", c->layers, "Override the block count");
  cmd->add_option("--embd", c->embd, "Override the embedding length");
  cmd->add_option("--ff", c->ff, "Override the feed-forward length");
  cmd->add_option("--heads", c->heads, "Override the attention head count");
  cmd->add_option("--heads-kv", c->heads_kv, "Override the KV head count");
  cmd->add_option("--ctx", c->ctx, "Override the context length");
  cmd->add_option("--vocab-size", c->vocab_size, "Pad the vocabulary to this many tokens");
  cmd->add_option("--experts", c->experts, "Override the expert count");
  cmd->add_option("--experts-used", c->experts_used, "Override the experts used per token");
  cmd->add_option("--expert-ff", c->expert_ff, "Override the expert feed-forward length (deepseek2)");
  cmd->add_flag("--list", c->list, "List the presets");
  cmd->callback([c, exit_code] { *exit_code = run_synth(*c); });
}

}  // namespace folio::cli
