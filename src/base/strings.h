// Human-readable numbers and small string helpers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace folio {

// Parameter counts as Ollama prints them: 8.0B, 494.03M, 260K, 999.
std::string human_count(uint64_t n);

// Byte sizes in decimal units as Ollama prints them: 4.9 GB, 755 KB, 12 B.
std::string human_bytes(uint64_t n);

// Parses sizes like "512", "100M", "1.5G", "64KiB" (K/M/G/T, decimal; KiB/MiB
// binary). Returns nullopt when s is not a size.
std::optional<uint64_t> parse_size(std::string_view s);

// s without leading and trailing ASCII whitespace (Go's strings.TrimSpace
// for ASCII).
std::string trim_space(std::string_view s);

std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);

// Escapes control characters and quotes for one-line display.
std::string escape_for_display(std::string_view s, size_t max_len = 80);

}  // namespace folio
