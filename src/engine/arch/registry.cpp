#include "engine/arch/registry.h"

#include <array>
#include <utility>

namespace folio {

namespace {
constexpr std::array<std::pair<const char*, ModelFactory>, 9> kArchitectures = {{
    {"llama", load_llama},
    {"qwen2", load_qwen2},
    {"phi3", load_phi3},
    {"gemma2", load_gemma2},
    {"deepseek2", load_deepseek2},
    {"qwen3", load_qwen3},
    {"qwen3moe", load_qwen3moe},
    {"qwen2moe", load_qwen2moe},
    {"gemma3", load_gemma3},
}};
}  // namespace

ModelFactory find_architecture(const std::string& arch) {
  for (const auto& [name, factory] : kArchitectures) {
    if (arch == name) return factory;
  }
  return nullptr;
}

std::vector<std::string> supported_architectures() {
  std::vector<std::string> out;
  for (const auto& [name, factory] : kArchitectures) out.push_back(name);
  return out;
}

}  // namespace folio
