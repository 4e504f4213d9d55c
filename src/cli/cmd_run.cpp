// folio run MODEL [PROMPT...] [--param NAME=VALUE ...] [--verbose]
// MODEL a stored name: through the API (cli/chat.cpp: one-shot or the
// interactive chat). MODEL a .gguf file: a raw completion of PROMPT (or of
// stdin) in this process, streamed to stdout, with memory statistics.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "base/cpu.h"
#include "base/strings.h"
#include "cli/chat.h"
#include "cli/commands.h"
#include "engine/generate.h"
#include "engine/loader.h"
#include "engine/model.h"
#include "memory/proc_status.h"
#include "store/store.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

namespace folio::cli {

namespace {

struct RunCli {
  std::string model;
  std::vector<std::string> prompt;
  std::vector<std::string> params;
  bool verbose = false;
};

// Durations as Ollama's --verbose prints them (Go's time.Duration format).
std::string duration(double s) {
  if (s >= 1) return strfmt("%.6gs", s);
  if (s >= 1e-3) return strfmt("%.6gms", s * 1e3);
  return strfmt("%.6gµs", s * 1e6);
}

bool is_file(const std::string& arg) { return ::access(arg.c_str(), F_OK) == 0 || arg.find(".gguf") != std::string::npos; }

int run_run(const RunCli& c) {
  if (!is_file(c.model)) return run_named_model({c.model, c.prompt, c.params, c.verbose});
  const auto t_start = std::chrono::steady_clock::now();
  Options opts;
  const std::string* path = &c.model;
  for (const std::string& p : c.params) {
    auto r = set_option_assignment(opts, p);
    if (!r.ok()) return fail(r.error().message);
  }
  const uint64_t faults0 = major_faults();
  auto loaded = load_for_inference(*path, opts);
  if (!loaded.ok()) return fail(loaded.error().message);
  if (c.verbose) std::fprintf(stderr, "plan: %s\n", loaded->plan.summary().c_str());
  auto ctx = loaded->new_context();
  if (!ctx.ok()) return fail(ctx.error().message);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();

  std::string prompt;
  for (const std::string& w : c.prompt) prompt += (prompt.empty() ? "" : " ") + w;
  if (prompt.empty()) prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  const std::vector<int32_t> ids = loaded->tokenizer->encode(prompt, true, true);
  bool ends_with_newline = true;
  PeakMemory peak;
  peak.sample();
  const uint64_t read0 = storage_read_bytes();
  auto r = generate(*loaded->model, **ctx, *loaded->tokenizer, ids, opts, [&](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    ends_with_newline = text.back() == '\n';
    peak.sample();
    return true;
  });
  if (!r.ok()) return fail(r.error().message);
  peak.sample();
  if (!ends_with_newline) std::fputc('\n', stdout);
  if (c.verbose) {
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    std::fprintf(stderr, "\ntotal duration:       %s\n", duration(total).c_str());
    std::fprintf(stderr, "load duration:        %s\n", duration(load_s).c_str());
    std::fprintf(stderr, "prompt eval count:    %lld token(s)\n", static_cast<long long>(r->prompt_eval_count));
    std::fprintf(stderr, "prompt eval duration: %s\n", duration(r->prompt_eval_seconds).c_str());
    std::fprintf(stderr, "prompt eval rate:     %.2f tokens/s\n", r->prompt_eval_count / r->prompt_eval_seconds);
    std::fprintf(stderr, "eval count:           %lld token(s)\n", static_cast<long long>(r->eval_count));
    std::fprintf(stderr, "eval duration:        %s\n", duration(r->eval_seconds).c_str());
    if (r->eval_count > 0) std::fprintf(stderr, "eval rate:            %.2f tokens/s\n", r->eval_count / r->eval_seconds);
    std::fprintf(stderr, "time to first token:  %s (load + prompt eval + first sample)\n",
                 duration(load_s + r->first_token_seconds).c_str());
    std::fprintf(stderr, "peak anonymous RSS:   %s (%llu bytes)\n", human_bytes(peak.anon()).c_str(),
                 static_cast<unsigned long long>(peak.anon()));
    std::fprintf(stderr, "peak file RSS:        %s (%llu bytes, the mapped weights)\n", human_bytes(peak.file()).c_str(),
                 static_cast<unsigned long long>(peak.file()));
    std::fprintf(stderr, "major page faults:    %llu\n", static_cast<unsigned long long>(major_faults() - faults0));
    std::fprintf(stderr, "read from disk:       %s (prompt and generation; folio bench gives it per token)\n",
                 human_bytes(storage_read_bytes() - read0).c_str());
  }
  return 0;
}

Result<Tokenizer> open_tokenizer(const std::string& path, std::unique_ptr<ModelFile>* keep) {
  auto file = ModelFile::open(path);
  if (!file.ok()) return file.take_error();
  *keep = std::make_unique<ModelFile>(std::move(file).value());
  auto tok = Tokenizer::load((*keep)->meta());
  if (!tok.ok()) return make_error("%s: %s", path.c_str(), tok.error().message.c_str());
  return tok;
}

}  // namespace

void add_run(CLI::App& app, int* exit_code) {
  auto c = std::make_shared<RunCli>();
  CLI::App* cmd = app.add_subcommand("run", "Run a model: complete PROMPT (or stdin)");
  cmd->add_option("model", c->model, "Model name or GGUF file")->required();
  cmd->add_option("prompt", c->prompt, "Prompt (default: read piped stdin, or chat interactively)");
  // One value per -p, so a prompt after it stays the prompt.
  cmd->add_option("-p,--param", c->params, "Option NAME=VALUE (temperature, top_k, num_ctx, seed, stop, ...)")
      ->allow_extra_args(false);
  cmd->add_flag("--verbose", c->verbose, "Print timings and token rates");
  cmd->callback([c, exit_code] { *exit_code = run_run(*c); });
}

void add_tokenize(CLI::App& app, int* exit_code) {
  struct Args {
    std::string model, text;
    bool no_bos = false, no_parse_special = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of TEXT as JSON");
  cmd->add_option("model", a->model, "GGUF file (a vocabulary-only file works)")->required();
  cmd->add_option("text", a->text, "Text")->required();
  cmd->add_flag("--no-bos", a->no_bos, "Do not add BOS/EOS");
  cmd->add_flag("--no-parse-special", a->no_parse_special, "Treat special-token text as plain text");
  cmd->callback([a, exit_code] {
    std::unique_ptr<ModelFile> keep;
    auto tok = open_tokenizer(a->model, &keep);
    if (!tok.ok()) {
      *exit_code = fail(tok.error().message);
      return;
    }
    std::string out = "[";
    for (int32_t id : tok->encode(a->text, !a->no_bos, !a->no_parse_special)) {
      out += (out.size() > 1 ? "," : "") + std::to_string(id);
    }
    std::printf("%s]\n", out.c_str());
    *exit_code = 0;
  });
}

void add_detokenize(CLI::App& app, int* exit_code) {
  struct Args {
    std::string model, ids;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("detokenize", "Print the text of comma-separated token ids");
  cmd->add_option("model", a->model, "GGUF file (a vocabulary-only file works)")->required();
  cmd->add_option("ids", a->ids, "Token ids, e.g. 1,2,3")->required();
  cmd->callback([a, exit_code] {
    std::unique_ptr<ModelFile> keep;
    auto tok = open_tokenizer(a->model, &keep);
    if (!tok.ok()) {
      *exit_code = fail(tok.error().message);
      return;
    }
    std::vector<int32_t> ids;
    size_t pos = 0;
    while (pos <= a->ids.size()) {
      const size_t comma = std::min(a->ids.find(',', pos), a->ids.size());
      const std::string item = a->ids.substr(pos, comma - pos);
      char* end = nullptr;
      const long long v = std::strtoll(item.c_str(), &end, 10);
      if (item.empty() || *end != '\0' || v < 0 || v >= tok->size()) {
        *exit_code = fail("'" + item + "' is not a token id of this vocabulary (0.." + std::to_string(tok->size() - 1) + ")");
        return;
      }
      ids.push_back(static_cast<int32_t>(v));
      pos = comma + 1;
    }
    const std::string text = tok->decode(ids, false, false);
    std::printf("%s\n", text.c_str());
    *exit_code = 0;
  });
}

}  // namespace folio::cli
