#include "gguf/writer.h"

#include <gtest/gtest.h>

#include <cstring>

#include "memory/model_file.h"
#include "tensor/convert.h"
#include "test_util.h"

namespace folio::gguf {
namespace {

using folio::testing::TempDir;

// Fills rows with a pattern that depends on the tensor, row and column.
RowSource pattern_source(TensorType type, int64_t row_len, float salt) {
  return [=](int64_t first, int64_t n, uint8_t* dst) -> Result<void> {
    std::vector<float> row(static_cast<size_t>(row_len));
    const size_t rb = row_bytes(type, row_len);
    for (int64_t r = 0; r < n; ++r) {
      for (int64_t i = 0; i < row_len; ++i) row[i] = salt + 0.001f * static_cast<float>((first + r) * 31 + i % 97);
      convert_fns(type).from_float(row.data(), dst + r * rb, row_len);
    }
    return {};
  };
}

std::vector<uint8_t> source_bytes(const TensorSpec& t) {
  std::vector<uint8_t> b(t.nbytes());
  EXPECT_TRUE(t.source(0, t.n_rows(), b.data()).ok());
  return b;
}

Writer sample_writer() {
  Writer w;
  w.set_string("general.architecture", "llama");
  w.set_u8("k.u8", 200);
  w.set_i8("k.i8", -100);
  w.set_u16("k.u16", 60000);
  w.set_i16("k.i16", -30000);
  w.set_u32("k.u32", 4000000000u);
  w.set_i32("k.i32", -2000000000);
  w.set_u64("k.u64", 1ull << 63);
  w.set_i64("k.i64", -(1ll << 62));
  w.set_f32("k.f32", 0.25f);
  w.set_f64("k.f64", -1e300);
  w.set_bool("k.bool", true);
  w.set_array_strings("k.strings", {"a", "", "hello world"});
  const float f[] = {1.5f, -2.f};
  w.set_array_f32("k.floats", f);
  const int32_t i[] = {7, -8, 9};
  w.set_array_i32("k.ints", i);
  EXPECT_TRUE(w.add_tensor({"t.f32", TensorType::kF32, {64, 3}, pattern_source(TensorType::kF32, 64, 1)}).ok());
  EXPECT_TRUE(w.add_tensor({"t.q8_0", TensorType::kQ8_0, {96, 5}, pattern_source(TensorType::kQ8_0, 96, 2)}).ok());
  EXPECT_TRUE(w.add_tensor({"t.q4_k", TensorType::kQ4_K, {256, 2, 3}, pattern_source(TensorType::kQ4_K, 256, 3)}).ok());
  return w;
}

TEST(GgufWriter, MetadataAndTensorsRoundTrip) {
  TempDir dir;
  const Writer w = sample_writer();
  ASSERT_TRUE(w.write(dir.file("m.gguf")).ok());
  auto m = ModelFile::open(dir.file("m.gguf"));
  ASSERT_TRUE(m.ok()) << m.error().message;
  const File& f = m->meta();
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.find("k.u8")->type, ValueType::kU8);
  EXPECT_EQ(f.get_int("k.u8"), 200);
  EXPECT_EQ(f.get_int("k.i8"), -100);
  EXPECT_EQ(f.get_int("k.u16"), 60000);
  EXPECT_EQ(f.get_int("k.i16"), -30000);
  EXPECT_EQ(f.get_int("k.u32"), 4000000000ll);
  EXPECT_EQ(f.get_int("k.i32"), -2000000000);
  EXPECT_EQ(f.find("k.u64")->u, 1ull << 63);
  EXPECT_EQ(f.get_int("k.i64"), -(1ll << 62));
  EXPECT_EQ(f.get_number("k.f32"), 0.25);
  EXPECT_EQ(f.get_number("k.f64"), -1e300);
  EXPECT_EQ(f.get_bool("k.bool"), true);
  const Array* s = f.find("k.strings")->as_array();
  ASSERT_EQ(s->size, 3u);
  EXPECT_EQ(s->strings[2], "hello world");
  EXPECT_EQ(s->strings[1], "");
  EXPECT_EQ(f.find("k.floats")->as_array()->number_at(1), -2.0);
  EXPECT_EQ(f.find("k.ints")->as_array()->int_at(1), -8);
  ASSERT_EQ(m->tensors().size(), 3u);
  for (const TensorSpec& spec : w.tensors()) {
    const TensorInfo* t = m->find_tensor(spec.name);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->type, spec.type);
    EXPECT_EQ(t->n_dims, spec.shape.size());
    for (size_t d = 0; d < spec.shape.size(); ++d) EXPECT_EQ(t->ne[d], spec.shape[d]);
    EXPECT_EQ(t->offset % 32, 0u);
    const std::vector<uint8_t> want = source_bytes(spec);
    EXPECT_EQ(0, std::memcmp(t->data, want.data(), want.size())) << spec.name;
  }
}

TEST(GgufWriter, SetReplacesInPlaceAndCopiesValues) {
  TempDir dir;
  auto src = ModelFile::open(std::string(FOLIO_MODELS_DIR) + "/stories260K.gguf");
  ASSERT_TRUE(src.ok());
  Writer w;
  for (const auto& kv : src->meta().kvs()) w.set_value(kv.key, kv.value);
  w.set_string("general.name", "renamed");
  ASSERT_TRUE(w.write(dir.file("copy.gguf")).ok());
  auto copy = ModelFile::open(dir.file("copy.gguf"));
  ASSERT_TRUE(copy.ok()) << copy.error().message;
  ASSERT_EQ(copy->meta().kvs().size(), src->meta().kvs().size());
  for (size_t i = 0; i < src->meta().kvs().size(); ++i) {
    const KeyValue& a = src->meta().kvs()[i];
    const KeyValue& b = copy->meta().kvs()[i];
    EXPECT_EQ(a.key, b.key);  // order kept, even for the replaced key
    if (a.key == "general.name") {
      EXPECT_EQ(b.value.str, "renamed");
    } else {
      EXPECT_EQ(a.value.type, b.value.type);
      EXPECT_EQ(a.value.to_display(1000), b.value.to_display(1000)) << a.key;
    }
  }
}

TEST(GgufWriter, CustomAlignment) {
  TempDir dir;
  Writer w(64);
  ASSERT_TRUE(w.add_tensor({"a", TensorType::kF32, {3}, pattern_source(TensorType::kF32, 3, 0)}).ok());
  ASSERT_TRUE(w.add_tensor({"b", TensorType::kF32, {5}, pattern_source(TensorType::kF32, 5, 1)}).ok());
  ASSERT_TRUE(w.write(dir.file("a.gguf")).ok());
  auto m = ModelFile::open(dir.file("a.gguf"));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->meta().alignment(), 64u);
  EXPECT_EQ(m->find_tensor("b")->offset, 64u);
  EXPECT_EQ(m->meta().data_offset() % 64, 0u);
}

TEST(GgufWriter, RejectsBadTensors) {
  Writer w;
  auto src = pattern_source(TensorType::kF32, 4, 0);
  EXPECT_TRUE(w.add_tensor({"x", TensorType::kF32, {4}, src}).ok());
  EXPECT_FALSE(w.add_tensor({"x", TensorType::kF32, {4}, src}).ok());
  EXPECT_FALSE(w.add_tensor({"y", TensorType::kQ4_K, {100}, src}).ok());
  EXPECT_FALSE(w.add_tensor({"z", TensorType::kF32, {0}, src}).ok());
  EXPECT_FALSE(w.add_tensor({std::string(64, 'n'), TensorType::kF32, {4}, src}).ok());
  EXPECT_FALSE(w.add_tensor({"w", TensorType::kF32, {4}, nullptr}).ok());
}

TEST(GgufWriter, FailedWriteLeavesNoFile) {
  TempDir dir;
  Writer w;
  ASSERT_TRUE(w.add_tensor({"ok", TensorType::kF32, {4}, pattern_source(TensorType::kF32, 4, 0)}).ok());
  ASSERT_TRUE(w.add_tensor({"bad", TensorType::kF32, {4},
                            [](int64_t, int64_t, uint8_t*) -> Result<void> { return make_error("disk on fire"); }})
                  .ok());
  auto r = w.write(dir.file("m.gguf"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("disk on fire"), std::string::npos);
  EXPECT_NE(r.error().message.find("'bad'"), std::string::npos);
  EXPECT_TRUE(dir.list().empty()) << "left behind: " << dir.list()[0];
  EXPECT_FALSE(w.write(dir.path() + "/no/such/dir/m.gguf").ok());
}

TEST(GgufWriter, SplitModelOpensAsOne) {
  TempDir dir;
  const Writer w = sample_writer();
  auto paths = w.write_split(dir.file("model"), 600);  // forces several parts
  ASSERT_TRUE(paths.ok()) << paths.error().message;
  ASSERT_EQ(paths->size(), 3u);
  EXPECT_EQ((*paths)[0], dir.file("model-00001-of-00003.gguf"));
  for (const std::string& open_path : *paths) {  // any part opens the whole model
    auto m = ModelFile::open(open_path);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->n_shards(), 3u);
    EXPECT_EQ(m->meta().get_string("general.architecture"), "llama");
    ASSERT_EQ(m->tensors().size(), 3u);
    for (const TensorSpec& spec : w.tensors()) {
      const TensorInfo* t = m->find_tensor(spec.name);
      ASSERT_NE(t, nullptr);
      const std::vector<uint8_t> want = source_bytes(spec);
      EXPECT_EQ(0, std::memcmp(t->data, want.data(), want.size())) << spec.name;
    }
  }
  // Later parts hold only the split keys.
  auto part2 = ModelFile::open(dir.file("model-00002-of-00003.gguf"));
  ASSERT_TRUE(part2.ok());
  EXPECT_EQ(part2->shard(1).kvs().size(), 3u);
}

TEST(GgufWriter, SplitModelErrors) {
  TempDir dir;
  const Writer w = sample_writer();
  ASSERT_TRUE(w.write_split(dir.file("model"), 600).ok());
  // A missing part is named.
  std::rename(dir.file("model-00002-of-00003.gguf").c_str(), dir.file("elsewhere.gguf").c_str());
  auto m = ModelFile::open(dir.file("model-00001-of-00003.gguf"));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("model-00002-of-00003.gguf: no such file"), std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find("split into 3 files"), std::string::npos);
  // A part renamed away from its split name is refused with the expected name.
  auto renamed = ModelFile::open(dir.file("elsewhere.gguf"));
  ASSERT_FALSE(renamed.ok());
  EXPECT_NE(renamed.error().message.find("-00001-of-00003.gguf"), std::string::npos) << renamed.error().message;
  // A part of another split in its place is refused.
  Writer other;
  ASSERT_TRUE(other.add_tensor({"x", TensorType::kF32, {4}, pattern_source(TensorType::kF32, 4, 0)}).ok());
  ASSERT_TRUE(other.add_tensor({"y", TensorType::kF32, {4}, pattern_source(TensorType::kF32, 4, 0)}).ok());
  ASSERT_TRUE(other.write_split(dir.file("other"), 1).ok());
  std::rename(dir.file("other-00002-of-00002.gguf").c_str(), dir.file("model-00002-of-00003.gguf").c_str());
  auto mixed = ModelFile::open(dir.file("model-00001-of-00003.gguf"));
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.error().message.find("split.count"), std::string::npos) << mixed.error().message;
}

}  // namespace
}  // namespace folio::gguf
