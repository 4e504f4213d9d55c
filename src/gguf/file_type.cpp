#include "gguf/file_type.h"

#include <array>

#include "base/result.h"
#include "base/strings.h"

namespace folio::gguf {

namespace {
struct Entry {
  uint32_t id;
  const char* name;
};
// ref: llama.h enum llama_ftype (gaps are removed types).
constexpr std::array<Entry, 34> kNames = {{
    {0, "F32"},     {1, "F16"},      {2, "Q4_0"},    {3, "Q4_1"},     {4, "Q4_1_SOME_F16"},
    {7, "Q8_0"},    {8, "Q5_0"},     {9, "Q5_1"},    {10, "Q2_K"},    {11, "Q3_K_S"},
    {12, "Q3_K_M"}, {13, "Q3_K_L"},  {14, "Q4_K_S"}, {15, "Q4_K_M"},  {16, "Q5_K_S"},
    {17, "Q5_K_M"}, {18, "Q6_K"},    {19, "IQ2_XXS"}, {20, "IQ2_XS"}, {21, "Q2_K_S"},
    {22, "IQ3_XS"}, {23, "IQ3_XXS"}, {24, "IQ1_S"},  {25, "IQ4_NL"},  {26, "IQ3_S"},
    {27, "IQ3_M"},  {28, "IQ2_S"},   {29, "IQ2_M"},  {30, "IQ4_XS"},  {31, "IQ1_M"},
    {32, "BF16"},   {36, "TQ1_0"},   {37, "TQ2_0"},  {38, "MXFP4_MOE"},
}};
}  // namespace

std::string file_type_name(uint32_t file_type) {
  const uint32_t id = file_type & ~kFileTypeGuessed;
  for (const Entry& e : kNames) {
    if (e.id == id) return e.name;
  }
  return strfmt("unknown (%u)", file_type);
}

std::optional<uint32_t> parse_file_type(std::string_view name) {
  const std::string upper = to_upper(name);
  for (const Entry& e : kNames) {
    if (upper == e.name) return e.id;
  }
  return std::nullopt;
}

}  // namespace folio::gguf
