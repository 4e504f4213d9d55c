// general.file_type: the model-level quantization label (ref: llama.h
// llama_ftype; Ollama prints the same names as quantization_level).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace folio::gguf {

inline constexpr uint32_t kFileTypeGuessed = 1024;  // flag bit llama.cpp sets on guessed types

// "Q4_K_M" for 15; "unknown (N)" for numbers without a name.
std::string file_type_name(uint32_t file_type);

// Parses "q4_k_m", "Q4_K_M", "f16", ... case-insensitively.
std::optional<uint32_t> parse_file_type(std::string_view name);

}  // namespace folio::gguf
