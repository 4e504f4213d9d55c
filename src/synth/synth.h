// `folio synth`: writes a GGUF model with random weights of a given shape
// and quantization, with a real vocabulary copied from another GGUF. The
// weights are deterministic for a seed (whatever the thread count), so two
// runs produce identical files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "gguf/writer.h"
#include "synth/presets.h"

namespace folio::synth {

struct SynthOptions {
  ModelShape shape;
  std::string quant = "Q4_K_M";  // a recipe name (quantize/recipe.h)
  std::string vocab_path;        // GGUF whose tokenizer.* keys are copied
  std::string name;              // general.name; default "synthetic <arch>"
  uint64_t seed = 42;
  int threads = 0;               // 0: all available CPUs
  uint64_t split_max_bytes = 0;  // > 0: write a split model with parts of at most this much data
};

struct SynthResult {
  std::vector<std::string> paths;
  uint64_t bytes = 0;
  uint64_t n_params = 0;
  std::string file_type;
};

// Builds the writer for opts (metadata, tensor list with data sources).
// The vocabulary file is read while building; the writer owns copies.
// Exposed so tests can regenerate tensor data and compare.
Result<gguf::Writer> build_writer(const SynthOptions& opts);

// Writes the model to path (or path's split parts).
Result<SynthResult> synthesize(const SynthOptions& opts, const std::string& path);

}  // namespace folio::synth
