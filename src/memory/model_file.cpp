#include "memory/model_file.h"

#include <cctype>

#include "base/strings.h"

namespace folio {

namespace {

// Recognizes "<prefix>-NNNNN-of-MMMMM.gguf"; returns the prefix.
bool parse_split_name(const std::string& path, std::string* prefix, int* index, int* count) {
  static constexpr size_t kSuffix = sizeof("-00001-of-00003.gguf") - 1;
  if (path.size() < kSuffix) return false;
  const std::string s = path.substr(path.size() - kSuffix);
  auto digits = [&](size_t at) {
    int v = 0;
    for (size_t k = at; k < at + 5; ++k) {
      if (!std::isdigit(static_cast<unsigned char>(s[k]))) return -1;
      v = v * 10 + (s[k] - '0');
    }
    return v;
  };
  if (s[0] != '-' || s.compare(6, 4, "-of-") != 0 || s.compare(15, 5, ".gguf") != 0) return false;
  *index = digits(1);
  *count = digits(10);
  if (*index < 1 || *count < 1) return false;
  *prefix = path.substr(0, path.size() - kSuffix);
  return true;
}

Result<std::pair<MappedFile, gguf::File>> open_one(const std::string& path, const MapOptions& options) {
  FOLIO_ASSIGN_OR_RETURN(MappedFile map, MappedFile::open(path, options));
  auto parsed = gguf::File::parse(map.bytes());
  if (!parsed.ok()) return make_error("bad GGUF file %s: %s", path.c_str(), parsed.error().message.c_str());
  return std::make_pair(std::move(map), std::move(parsed).value());
}

}  // namespace

std::string split_suffix(int index, int count) { return strfmt("-%05d-of-%05d.gguf", index + 1, count); }

Result<ModelFile> ModelFile::open(const std::string& path, const MapOptions& options) {
  ModelFile m;
  FOLIO_ASSIGN_OR_RETURN(auto first, open_one(path, options));
  const int64_t count = first.second.get_int(kKeySplitCount).value_or(1);
  if (count <= 1) {
    m.shards_.push_back(Shard{std::move(first.first), std::move(first.second)});
    FOLIO_TRY(m.index_tensors());
    return m;
  }
  std::string prefix;
  int index = 0, name_count = 0;
  if (!parse_split_name(path, &prefix, &index, &name_count) || name_count != count) {
    return make_error("%s is part of a model split into %lld files, but its name does not end in %s; keep the "
                      "names the parts were created with",
                      path.c_str(), static_cast<long long>(count), split_suffix(0, static_cast<int>(count)).c_str());
  }
  if (count > 9999) return make_error("%s: split.count %lld is not plausible", path.c_str(), static_cast<long long>(count));
  for (int i = 0; i < count; ++i) {
    const std::string part = prefix + split_suffix(i, static_cast<int>(count));
    Result<std::pair<MappedFile, gguf::File>> opened =
        (i + 1 == index) ? Result<std::pair<MappedFile, gguf::File>>(std::move(first)) : open_one(part, options);
    if (!opened.ok()) {
      return make_error("model %s is split into %lld files; part %d: %s", path.c_str(), static_cast<long long>(count),
                        i + 1, opened.error().message.c_str());
    }
    auto [map, file] = std::move(opened).value();
    const int64_t no = file.get_int(kKeySplitNo).value_or(-1);
    const int64_t n = file.get_int(kKeySplitCount).value_or(-1);
    if (no != i || n != count) {
      return make_error("bad GGUF file %s: split.no is %lld and split.count %lld, expected %d and %lld; the parts "
                        "come from different models",
                        part.c_str(), static_cast<long long>(no), static_cast<long long>(n), i,
                        static_cast<long long>(count));
    }
    m.shards_.push_back(Shard{std::move(map), std::move(file)});
  }
  FOLIO_TRY(m.index_tensors());
  if (auto want = m.meta().get_int(kKeySplitTensors); want && *want != static_cast<int64_t>(m.tensors_.size())) {
    return make_error("bad GGUF file %s: split.tensors.count says %lld tensors, the %lld parts hold %zu", path.c_str(),
                      static_cast<long long>(*want), static_cast<long long>(count), m.tensors_.size());
  }
  return m;
}

Result<void> ModelFile::index_tensors() {
  for (size_t s = 0; s < shards_.size(); ++s) {
    for (gguf::TensorInfo t : shards_[s].gguf.tensors()) {
      t.file = static_cast<uint32_t>(s);
      if (index_.count(t.name)) {
        return make_error("bad GGUF file %s: tensor '%s' appears in more than one part",
                          shards_[s].map.path().c_str(), escape_for_display(t.name).c_str());
      }
      index_.emplace(t.name, tensors_.size());
      tensors_.push_back(t);
    }
  }
  return {};
}

const gguf::TensorInfo* ModelFile::find_tensor(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

uint64_t ModelFile::file_bytes() const {
  uint64_t n = 0;
  for (const Shard& s : shards_) n += s.map.size();
  return n;
}

uint64_t ModelFile::tensor_bytes() const {
  uint64_t n = 0;
  for (const auto& t : tensors_) n += t.nbytes;
  return n;
}

void ModelFile::advise_willneed(const uint8_t* p, uint64_t len) const {
  for (const Shard& s : shards_) {
    const uint8_t* base = s.map.data();
    if (base != nullptr && p >= base && p < base + s.map.size()) {
      s.map.advise_willneed(static_cast<uint64_t>(p - base), len);
      return;
    }
  }
}

uint64_t ModelFile::n_params() const {
  uint64_t n = 0;
  for (const auto& t : tensors_) n += static_cast<uint64_t>(t.n_elements());
  return n;
}

}  // namespace folio
