#include "quantize/quantize_model.h"

#include <cstring>
#include <vector>

#include "base/failpoint.h"
#include "base/threads.h"
#include "gguf/writer.h"
#include "tensor/convert.h"

namespace folio {

Result<void> quantize_model(const ModelFile& src, const Recipe& recipe, const std::string& out_path, int threads) {
  const gguf::File& meta = src.meta();
  gguf::Writer w;
  for (const gguf::KeyValue& kv : meta.kvs()) {
    if (kv.key.rfind("split.", 0) == 0 || kv.key == "general.alignment") continue;
    w.set_value(kv.key, kv.value);
  }
  w.set_u32("general.file_type", recipe.file_type);
  if (type_traits(recipe.base).quantized) w.set_u32("general.quantization_version", 2);

  const std::string arch(meta.get_string("general.architecture").value_or(""));
  const RecipeModel model{arch, meta.get_int(arch + ".block_count").value_or(0),
                          meta.get_int(arch + ".attention.head_count").value_or(0),
                          meta.get_int(arch + ".attention.head_count_kv").value_or(0),
                          meta.get_int(arch + ".expert_count").value_or(0)};
  std::vector<RecipeTensor> rt;
  for (const auto& t : src.tensors()) {
    rt.push_back({std::string(t.name), std::vector<int64_t>(t.ne, t.ne + t.n_dims), t.type});
  }
  const std::vector<TensorType> types = choose_types(recipe, model, rt);
  const int n_threads = threads > 0 ? threads : available_cpus();

  for (size_t i = 0; i < rt.size(); ++i) {
    const gguf::TensorInfo t = src.tensors()[i];
    const TensorType to = types[i];
    if (to != t.type && (convert_fns(t.type).to_float == nullptr || convert_fns(to).from_float == nullptr)) {
      return make_error("cannot convert tensor '%s' from %s to %s", rt[i].name.c_str(), type_name(t.type),
                        type_name(to));
    }
    const int64_t row = t.ne[0];
    gguf::RowSource source = [t, to, row, n_threads](int64_t first, int64_t n, uint8_t* dst) -> Result<void> {
      failpoint("quantizing");
      const size_t in_rb = row_bytes(t.type, row), out_rb = row_bytes(to, row);
      if (to == t.type) {
        std::memcpy(dst, t.data + first * in_rb, static_cast<size_t>(n) * in_rb);
        return {};
      }
      parallel_for(n, n_threads, 16, [&](int64_t r0, int64_t r1) {
        std::vector<float> buf(static_cast<size_t>(row));
        for (int64_t r = r0; r < r1; ++r) {
          convert_fns(t.type).to_float(t.data + (first + r) * in_rb, buf.data(), row);
          convert_fns(to).from_float(buf.data(), dst + r * out_rb, row);
        }
      });
      return {};
    };
    FOLIO_TRY(w.add_tensor(gguf::TensorSpec{rt[i].name, to, rt[i].shape, std::move(source)}));
  }
  return w.write(out_path);
}

}  // namespace folio
