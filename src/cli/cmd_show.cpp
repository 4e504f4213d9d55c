// folio show FILE.gguf [--verbose] [--json]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>

#include "base/strings.h"
#include "cli/commands.h"
#include "gguf/summary.h"
#include "memory/model_file.h"

namespace folio::cli {

namespace {

struct ShowOptions {
  std::string model;
  bool verbose = false;
  bool json = false;
};

void row(const char* key, const std::string& value) { std::printf("    %-20s%s\n", key, value.c_str()); }

nlohmann::json value_json(const gguf::Value& v, bool full) {
  using gguf::ValueType;
  switch (v.type) {
    case ValueType::kString: return std::string(v.str);
    case ValueType::kBool: return v.u != 0;
    case ValueType::kF32: case ValueType::kF64: return v.f;
    case ValueType::kU8: case ValueType::kU16: case ValueType::kU32: case ValueType::kU64: return v.u;
    case ValueType::kArray: {
      const gguf::Array& a = *v.array;
      if (!full && a.size > 64) return nullptr;  // as Ollama: large arrays only when verbose
      nlohmann::json out = nlohmann::json::array();
      for (uint64_t i = 0; i < a.size; ++i) {
        if (a.type == ValueType::kString) out.push_back(std::string(a.strings[i]));
        else if (a.type == ValueType::kArray) out.push_back(value_json(a.arrays[i], full));
        else if (a.type == ValueType::kF32 || a.type == ValueType::kF64) out.push_back(a.number_at(i));
        else if (a.type == ValueType::kBool) out.push_back(a.int_at(i) != 0);
        else if (a.type == ValueType::kU64) out.push_back(static_cast<uint64_t>(a.int_at(i)));
        else out.push_back(a.int_at(i));
      }
      return out;
    }
    default: return v.i;
  }
}

void print_json(const ModelFile& m, const gguf::ModelSummary& s, bool verbose) {
  nlohmann::json j;
  j["details"] = {{"format", "gguf"},
                  {"family", s.architecture},
                  {"families", nlohmann::json::array({s.architecture})},
                  {"parameter_size", human_count(s.n_params)},
                  {"quantization_level", s.file_type}};
  nlohmann::json info = nlohmann::json::object();
  for (const auto& kv : m.meta().kvs()) info[std::string(kv.key)] = value_json(kv.value, verbose);
  info["general.parameter_count"] = s.n_params;
  j["model_info"] = info;
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

int run_show(const ShowOptions& o) {
  auto opened = ModelFile::open(o.model);
  if (!opened.ok()) return fail(opened.error().message);
  const ModelFile& m = *opened;
  const gguf::ModelSummary s = gguf::summarize(m.meta(), m.tensors(), m.file_bytes());
  if (o.json) print_json(m, s, o.verbose);
  else print_text(m, s, o.verbose);
  return 0;
}

}  // namespace

void add_show(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<ShowOptions>();
  CLI::App* cmd = app.add_subcommand("show", "Show information for a model");
  cmd->add_option("model", opts->model, "GGUF file")->required();
  cmd->add_flag("--verbose", opts->verbose, "Show all metadata and the tensor table");
  cmd->add_flag("--json", opts->json, "Print JSON (as /api/show's model_info and details)");
  cmd->callback([opts, exit_code] { *exit_code = run_show(*opts); });
}

}  // namespace folio::cli
