// Binds a model's tensors by GGUF name with shape checks. Matrices stay in
// the mapping (zero-copy); 1-D vectors (norms, biases) are used in place when
// stored as F32 and converted to owned F32 otherwise.
#pragma once

#include <deque>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/result.h"
#include "kernels/matmul.h"
#include "memory/model_file.h"

namespace folio {

class Weights {
 public:
  explicit Weights(const ModelFile& file) : file_(file) {}
  Weights(const Weights&) = delete;
  Weights& operator=(const Weights&) = delete;

  // A weight of exactly shape (ne: {n_in, n_out[, n_mat]}) in a type folio
  // can compute with. Errors name the tensor, its shape and the expected one.
  Result<WeightView> matrix(const std::string& name, const std::vector<int64_t>& shape);
  // As matrix(); an absent tensor gives a view with data == nullptr.
  Result<WeightView> optional_matrix(const std::string& name, const std::vector<int64_t>& shape);
  // An F32 vector of n values (converted when stored otherwise).
  Result<const float*> vector(const std::string& name, int64_t n);
  // As vector(); nullptr when absent.
  Result<const float*> optional_vector(const std::string& name, int64_t n);

  bool has(const std::string& name) const { return file_.find_tensor(name) != nullptr; }
  // Names of tensors in the file that no bind call asked for.
  std::vector<std::string> unused() const;

 private:
  Result<const gguf::TensorInfo*> find(const std::string& name, const std::vector<int64_t>& shape);

  const ModelFile& file_;
  std::deque<std::vector<float>> owned_;
  std::unordered_set<std::string> bound_;
};

}  // namespace folio
