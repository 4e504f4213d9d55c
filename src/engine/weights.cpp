#include "engine/weights.h"

#include "base/strings.h"
#include "kernels/dot.h"
#include "tensor/convert.h"

namespace folio {

namespace {
std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}
}  // namespace

Result<const gguf::TensorInfo*> Weights::find(const std::string& name, const std::vector<int64_t>& shape) {
  const gguf::TensorInfo* t = file_.find_tensor(name);
  if (t == nullptr) return make_error("model lacks tensor '%s'; the file is incomplete or of another architecture", name.c_str());
  bool same = true;
  for (uint32_t d = 0; d < gguf::kMaxDims && same; ++d) {
    const int64_t want = d < shape.size() ? shape[d] : 1;
    same = t->ne[d] == want;
  }
  if (!same) {
    return make_error("tensor '%s' has shape %s, expected %s for this model's hyperparameters", name.c_str(),
                      t->shape_string().c_str(), shape_str(shape).c_str());
  }
  bound_.insert(name);
  return t;
}

Result<WeightView> Weights::matrix(const std::string& name, const std::vector<int64_t>& shape) {
  FOLIO_ASSIGN_OR_RETURN(const gguf::TensorInfo* t, find(name, shape));
  if (dot_kernel(t->type).vec_dot == nullptr) {
    return make_error("tensor '%s' has type %s, which folio cannot compute with yet", name.c_str(), type_name(t->type));
  }
  WeightView v;
  v.type = t->type;
  v.n_in = t->ne[0];
  v.n_out = t->ne[1];
  v.n_mat = t->ne[2];
  v.row_bytes = row_bytes(t->type, t->ne[0]);
  v.data = t->data;
  return v;
}

Result<WeightView> Weights::optional_matrix(const std::string& name, const std::vector<int64_t>& shape) {
  if (!has(name)) return WeightView{};
  return matrix(name, shape);
}

Result<const float*> Weights::vector(const std::string& name, int64_t n) {
  FOLIO_ASSIGN_OR_RETURN(const gguf::TensorInfo* t, find(name, {n}));
  if (t->type == TensorType::kF32 && reinterpret_cast<uintptr_t>(t->data) % alignof(float) == 0) {
    return reinterpret_cast<const float*>(t->data);
  }
  const ConvertFns& c = convert_fns(t->type);
  if (c.to_float == nullptr) {
    return make_error("tensor '%s' has type %s, which folio cannot read yet", name.c_str(), type_name(t->type));
  }
  owned_.emplace_back(static_cast<size_t>(n));
  c.to_float(t->data, owned_.back().data(), n);
  return static_cast<const float*>(owned_.back().data());
}

Result<const float*> Weights::optional_vector(const std::string& name, int64_t n) {
  if (!has(name)) return static_cast<const float*>(nullptr);
  return vector(name, n);
}

std::vector<std::string> Weights::unused() const {
  std::vector<std::string> out;
  for (const auto& t : file_.tensors()) {
    if (!bound_.count(std::string(t.name))) out.emplace_back(t.name);
  }
  return out;
}

}  // namespace folio
