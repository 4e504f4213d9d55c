// Writes a copy of a model with its weights converted per a recipe, as
// llama-quantize does (and `create --quantize` will): metadata copied,
// general.file_type updated, each tensor's type from choose_types().
#pragma once

#include <string>

#include "base/result.h"
#include "memory/model_file.h"
#include "quantize/recipe.h"

namespace folio {

// threads: 0 = all CPUs. Errors: tensor types folio cannot read, I/O. The
// output appears atomically (no partial file on failure).
Result<void> quantize_model(const ModelFile& src, const Recipe& recipe, const std::string& out_path, int threads = 0);

}  // namespace folio
