// folio show FILE.gguf [--verbose] [--json]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "base/strings.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "gguf/summary.h"
#include "memory/model_file.h"
#include "server/model_info.h"

namespace folio::cli {

namespace {

struct ShowOptions {
  std::string model;
  bool verbose = false;
  bool json = false;
  bool modelfile = false, parameters = false, template_ = false, system = false, license = false;
};

void row(const char* key, const std::string& value) { std::printf("    %-20s%s\n", key, value.c_str()); }

void print_json(const ModelFile& m, const gguf::ModelSummary& s, bool verbose) {
  nlohmann::json j;
  j["details"] = details_json(s);
  j["model_info"] = model_info_json(m.meta(), s, verbose);
  nlohmann::json types = nlohmann::json::object();
  for (const auto& [type, c] : s.by_type) types[type_name(type)] = {{"tensors", c.tensors}, {"bytes", c.bytes}};
  j["tensor_types"] = types;
  j["file"] = {{"gguf_version", m.meta().version()}, {"parts", m.n_shards()}, {"size", s.file_bytes},
               {"tensor_bytes", s.tensor_bytes}, {"n_tensors", s.n_tensors}};
  if (verbose) {
    nlohmann::json tensors = nlohmann::json::array();
    for (const auto& t : m.tensors()) {
      nlohmann::json shape = nlohmann::json::array();
      for (uint32_t d = 0; d < t.n_dims; ++d) shape.push_back(t.ne[d]);
      tensors.push_back({{"name", std::string(t.name)}, {"type", type_name(t.type)}, {"shape", shape},
                         {"bytes", t.nbytes}});
    }
    j["tensors"] = tensors;
  }
  // Metadata strings need not be valid UTF-8: replace what is not.
  std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

void print_text(const ModelFile& m, const gguf::ModelSummary& s, bool verbose) {
  std::printf("  Model\n");
  row("architecture", s.architecture.empty() ? "(none)" : escape_for_display(s.architecture));
  row("parameters", human_count(s.n_params));
  if (s.context_length) row("context length", std::to_string(s.context_length));
  if (s.embedding_length) row("embedding length", std::to_string(s.embedding_length));
  if (s.expert_count) row("experts", std::to_string(s.expert_count));
  if (!s.file_type.empty()) row("quantization", s.file_type + (s.file_type_guessed ? " (guessed)" : ""));
  if (!s.tokenizer.empty()) row("tokenizer", escape_for_display(s.tokenizer) + ", " + std::to_string(s.vocab_size) + " tokens");
  std::printf("\n  Tensors\n");
  for (const auto& [type, c] : s.by_type) {
    row(type_name(type), strfmt("%llu tensors, %s", static_cast<unsigned long long>(c.tensors),
                                human_bytes(c.bytes).c_str()));
  }
  std::printf("\n  File\n");
  row("size", human_bytes(s.file_bytes) + strfmt(" (%llu bytes)", static_cast<unsigned long long>(s.file_bytes)));
  row("format", strfmt("GGUF v%u", m.meta().version()) +
                    (m.n_shards() > 1 ? strfmt(", split in %zu parts", m.n_shards()) : ""));
  if (!verbose) return;
  std::printf("\n  Metadata\n");
  size_t width = 0;
  for (const auto& kv : m.meta().kvs()) width = std::max(width, kv.key.size());
  for (const auto& kv : m.meta().kvs()) {
    std::printf("    %-*s  %s\n", static_cast<int>(width), escape_for_display(kv.key, 200).c_str(), kv.value.to_display().c_str());
  }
  std::printf("\n  Tensors\n");
  width = 0;
  for (const auto& t : m.tensors()) width = std::max(width, t.name.size());
  for (const auto& t : m.tensors()) {
    std::printf("    %-*s  %-7s  %-22s  %s\n", static_cast<int>(width), escape_for_display(t.name).c_str(), type_name(t.type),
                t.shape_string().c_str(), human_bytes(t.nbytes).c_str());
  }
}

// A model name: ask the server (as `ollama show NAME`).
int show_stored(const ShowOptions& o) {
  auto c = ApiClient::from_env();
  if (!c.ok()) return fail(c.error().message);
  auto r = c->call("POST", "/api/show", {{"model", o.model}, {"verbose", o.verbose}});
  if (!r.ok()) return fail(r.error().message);
  const nlohmann::json& j = *r;
  auto text = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(); };
  if (o.json) {
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  if (o.modelfile || o.parameters || o.template_ || o.system || o.license) {
    std::string out = o.modelfile ? text("modelfile") : o.parameters ? text("parameters") : o.template_ ? text("template")
                                  : o.system ? text("system") : text("license");
    std::printf("%s%s", out.c_str(), !out.empty() && out.back() == '\n' ? "" : "\n");
    return 0;
  }
  print_model_info(j);
  return 0;
}

int run_show(const ShowOptions& o) {
  if (::access(o.model.c_str(), F_OK) != 0 && o.model.find(".gguf") == std::string::npos) return show_stored(o);
  auto opened = ModelFile::open(o.model);
  if (!opened.ok()) return fail(opened.error().message);
  const ModelFile& m = *opened;
  const gguf::ModelSummary s = gguf::summarize(m.meta(), m.tensors(), m.file_bytes());
  if (o.json) print_json(m, s, o.verbose);
  else print_text(m, s, o.verbose);
  return 0;
}

}  // namespace

void print_model_info(const nlohmann::json& j) {
  auto text = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(); };
  const nlohmann::json& d = j["details"];
  const nlohmann::json info = j.value("model_info", nlohmann::json::object());
  const std::string arch = d.value("family", "");
  std::printf("  Model\n");
  row("architecture", arch);
  row("parameters", d.value("parameter_size", ""));
  if (info.contains(arch + ".context_length")) row("context length", info[arch + ".context_length"].dump());
  if (info.contains(arch + ".embedding_length")) row("embedding length", info[arch + ".embedding_length"].dump());
  row("quantization", d.value("quantization_level", ""));
  if (j.contains("capabilities")) {
    std::printf("\n  Capabilities\n");
    for (const auto& cap : j["capabilities"]) std::printf("    %s\n", cap.get<std::string>().c_str());
  }
  if (const std::string p = text("parameters"); !p.empty()) {
    std::printf("\n  Parameters\n");
    std::istringstream lines(p);
    std::string line;
    while (std::getline(lines, line)) std::printf("    %s\n", line.c_str());
  }
  if (const std::string s = text("system"); !s.empty()) std::printf("\n  System\n    %s\n", s.c_str());
  if (const std::string l = text("license"); !l.empty()) {
    std::printf("\n  License\n    %s\n", l.substr(0, l.find('\n')).c_str());
  }
}

void add_show(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<ShowOptions>();
  CLI::App* cmd = app.add_subcommand("show", "Show information for a model");
  cmd->add_option("model", opts->model, "Model name or GGUF file")->required();
  cmd->add_flag("--verbose", opts->verbose, "Show all metadata and the tensor table");
  cmd->add_flag("--modelfile", opts->modelfile, "Show the Modelfile of a model");
  cmd->add_flag("--parameters", opts->parameters, "Show the parameters of a model");
  cmd->add_flag("--template", opts->template_, "Show the template of a model");
  cmd->add_flag("--system", opts->system, "Show the system message of a model");
  cmd->add_flag("--license", opts->license, "Show the license of a model");
  cmd->add_flag("--json", opts->json, "Print JSON (as /api/show's model_info and details)");
  cmd->callback([opts, exit_code] { *exit_code = run_show(*opts); });
}

}  // namespace folio::cli
