// A catalogue of malformed GGUF files, generated here. Each must be refused
// with a message naming what is wrong and where, by the parser and by
// `folio show` (non-zero exit, never a crash). The suite also runs under
// ASan+UBSan (make test), which turns any out-of-bounds read into a failure.
#include <gtest/gtest.h>

#include <functional>

#include "base/rng.h"
#include "gguf/reader.h"
#include "gguf_builder.h"
#include "test_util.h"

namespace folio {
namespace {

using testing::RawGguf;
using testing::RawKv;
using testing::RawTensor;

struct Case {
  const char* name;
  std::function<std::vector<uint8_t>()> make;
  std::vector<std::string> expect;  // substrings of the error message
};

std::vector<uint8_t> valid_bytes() { return RawGguf::valid().bytes(); }

std::vector<uint8_t> truncated(size_t n) {
  std::vector<uint8_t> b = valid_bytes();
  b.resize(n);
  return b;
}

RawGguf with(const std::function<void(RawGguf&)>& edit) {
  RawGguf g = RawGguf::valid();
  edit(g);
  return g;
}

// Offset where the tensor infos begin in the valid file.
size_t tensor_infos_offset() {
  RawGguf g = RawGguf::valid();
  g.tensors.clear();
  g.n_tensors = 2;
  return g.head().size();
}

std::vector<uint8_t> array_payload(uint32_t elem_type, uint64_t count, const std::vector<uint8_t>& items = {}) {
  std::vector<uint8_t> b;
  testing::put_u32(b, elem_type);
  testing::put_u64(b, count);
  b.insert(b.end(), items.begin(), items.end());
  return b;
}

std::vector<uint8_t> nested_arrays(int depth) {
  std::vector<uint8_t> inner = array_payload(4, 1, testing::payload_u32(7));
  for (int d = 1; d < depth; ++d) inner = array_payload(9, 1, inner);
  return inner;
}

std::vector<Case> catalogue() {
  const std::vector<uint8_t> valid = valid_bytes();
  return {
      {"empty file", [] { return std::vector<uint8_t>{}; }, {"only 0 bytes"}},
      {"three bytes", [] { return std::vector<uint8_t>{'G', 'G', 'U'}; }, {"only 3 bytes"}},
      {"bad magic", [] { return with([](RawGguf& g) { g.magic = "GGU\x01"; }).bytes(); }, {"magic at offset 0", "GGU\\x01"}},
      {"legacy ggjt magic", [] { return with([](RawGguf& g) { g.magic = "tjgg"; }).bytes(); }, {"legacy GGML/GGJT"}},
      {"git lfs pointer",
       [] {
         const std::string s = "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n";
         return std::vector<uint8_t>(s.begin(), s.end());
       },
       {"Git LFS pointer"}},
      {"html error page",
       [] {
         const std::string s = "<!DOCTYPE html><html><body>Entry not found</body></html>";
         return std::vector<uint8_t>(s.begin(), s.end());
       },
       {"not a GGUF file: it holds text", "<!DOCTYPE html>"}},
      {"version 1", [] { return with([](RawGguf& g) { g.version = 1; }).bytes(); }, {"version 1 is not supported"}},
      {"version 4", [] { return with([](RawGguf& g) { g.version = 4; }).bytes(); }, {"unsupported GGUF version 4"}},
      {"big-endian", [] { return with([](RawGguf& g) { g.version = 0x03000000; }).bytes(); }, {"big-endian"}},
      {"truncated in header", [] { return truncated(12); }, {"header (tensor count)", "offset 8"}},
      {"absurd metadata count",
       [] { return with([](RawGguf& g) { g.n_kv = 1ull << 60; }).bytes(); },
       {"metadata count 1152921504606846976", "offset 16"}},
      {"absurd tensor count",
       [] { return with([](RawGguf& g) { g.n_tensors = 1ull << 58; }).bytes(); },
       {"tensor count 288230376151711744", "offset 8"}},
      {"truncated in metadata key",
       [] { return truncated(102 + 8 + 5); },
       {"key of metadata entry #2", "offset 102", "length 21", "5 bytes left"}},
      {"absurd key length",
       [] {
         std::vector<uint8_t> b = valid_bytes();
         const uint64_t huge = 1ull << 62;
         std::memcpy(b.data() + 24, &huge, 8);
         return b;
       },
       {"key of metadata entry #0", "offset 24", "length 4611686018427387904"}},
      {"empty key", [] { return with([](RawGguf& g) { g.kvs[1].key = ""; }).bytes(); }, {"metadata entry #1", "empty key"}},
      {"unknown value type",
       [] { return with([](RawGguf& g) { g.kvs[1].type = 13; }).bytes(); },
       {"'llama.block_count'", "unknown value type 13"}},
      {"absurd string length",
       [] { return with([](RawGguf& g) { g.kvs[0].payload = testing::payload_str("llama"); std::memset(g.kvs[0].payload.data() + 4, 0x7f, 4); }).bytes(); },
       {"'general.architecture'", "past the end of the file"}},
      {"absurd array count",
       [] { return with([](RawGguf& g) { g.kvs[2].payload = array_payload(6, 1ull << 61); }).bytes(); },
       {"'tokenizer.ggml.tokens'", "claims 2305843009213693952 elements"}},
      {"absurd string array count",
       [] { return with([](RawGguf& g) { g.kvs[2].payload = array_payload(8, 1ull << 40); }).bytes(); },
       {"'tokenizer.ggml.tokens'", "claims 1099511627776 elements"}},
      {"unknown array element type",
       [] { return with([](RawGguf& g) { g.kvs[2].payload = array_payload(77, 1); }).bytes(); },
       {"element type of metadata key 'tokenizer.ggml.tokens'", "unknown value type 77"}},
      {"duplicate key",
       [] { return with([](RawGguf& g) { g.kvs.push_back(g.kvs[0]); }).bytes(); },
       {"duplicate metadata key 'general.architecture'", "first at offset 24"}},
      {"arrays nested too deep",
       [] { return with([](RawGguf& g) { g.kvs[2].payload = nested_arrays(12); }).bytes(); },
       {"'tokenizer.ggml.tokens'", "deeper than 8 levels"}},
      {"alignment not a power of two",
       [] { return with([](RawGguf& g) { g.kvs.push_back({"general.alignment", 4, testing::payload_u32(48)}); }).bytes(); },
       {"'general.alignment' is 48", "power of two"}},
      {"alignment of the wrong type",
       [] { return with([](RawGguf& g) { g.kvs.push_back({"general.alignment", 8, testing::payload_str("32")}); }).bytes(); },
       {"'general.alignment' has type string"}},
      {"truncated in tensor infos", [] { return truncated(tensor_infos_offset() + 20); }, {"tensor 'a'", "dimensions"}},
      {"too many dimensions",
       [] { return with([](RawGguf& g) { g.tensors[1].dims = {32, 1, 1, 1, 2}; }).bytes(); },
       {"tensor 'b'", "has 5 dimensions"}},
      {"no dimensions", [] { return with([](RawGguf& g) { g.tensors[0].dims = {}; }).bytes(); }, {"tensor 'a'", "has 0 dimensions"}},
      {"zero-sized dimension",
       [] { return with([](RawGguf& g) { g.tensors[0].dims = {8, 0}; }).bytes(); },
       {"tensor 'a'", "dimension 1 is 0"}},
      {"element count overflow",
       [] { return with([](RawGguf& g) { g.tensors[0].dims = {1ull << 40, 1ull << 40}; }).bytes(); },
       {"tensor 'a'", "dimension 1", "overflow"}},
      {"dimension above int64",
       [] { return with([](RawGguf& g) { g.tensors[0].dims = {1ull << 63}; }).bytes(); },
       {"tensor 'a'", "dimension 0", "overflow"}},
      {"unknown tensor type",
       [] { return with([](RawGguf& g) { g.tensors[1].type = 99; }).bytes(); },
       {"tensor 'b'", "unknown type 99"}},
      {"removed tensor type",
       [] { return with([](RawGguf& g) { g.tensors[1].type = 4; }).bytes(); },
       {"tensor 'b'", "Q4_2"}},
      {"row not a multiple of the block",
       [] { return with([](RawGguf& g) { g.tensors[1].dims = {33, 2}; }).bytes(); },
       {"tensor 'b'", "row length 33", "Q4_0 block size 32"}},
      {"misaligned data offset",
       [] { return with([](RawGguf& g) { g.tensors[1].offset = 68; }).bytes(); },
       {"tensor 'b'", "data offset 68", "alignment 32"}},
      {"tensor data past the end",
       [] { return with([](RawGguf& g) { g.tensors[1].offset = 1024; }).bytes(); },
       {"tensor 'b'", "[1024, 1060)", "runs past its end"}},
      {"file truncated in the data",
       [valid] { std::vector<uint8_t> b = valid; b.resize(b.size() - 1); return b; },
       {"tensor 'b'", "runs past its end", "truncated"}},
      {"data section past the end",
       [] { return RawGguf::valid().head(); },  // 248 bytes: the data would start at 256
       {"data section would start at offset 256"}},
      {"overlapping tensors",
       [] { return with([](RawGguf& g) { g.tensors[1].offset = 32; }).bytes(); },
       {"tensor 'b' (data offset 32) overlaps tensor 'a'"}},
      {"duplicate tensor name",
       [] { return with([](RawGguf& g) { g.tensors[1].name = "a"; }).bytes(); },
       {"duplicate tensor 'a'"}},
      {"empty tensor name", [] { return with([](RawGguf& g) { g.tensors[0].name = ""; }).bytes(); }, {"tensor info #0", "empty name"}},
      {"tensor name too long",
       [] { return with([](RawGguf& g) { g.tensors[0].name = std::string(100, 'n'); }).bytes(); },
       {"100 bytes long", "at most 63"}},
      {"absurd tensor name length",
       [] {
         RawGguf g = RawGguf::valid();
         std::vector<uint8_t> b = g.bytes();
         const uint64_t huge = ~0ull;
         std::memcpy(b.data() + tensor_infos_offset(), &huge, 8);
         return b;
       },
       {"name of tensor info #0", "length 18446744073709551615"}},
  };
}

TEST(MalformedGguf, CatalogueHasAtLeast25Files) { EXPECT_GE(catalogue().size(), 25u); }

TEST(MalformedGguf, ValidBaseFileParsesAsVersion2And3) {
  for (uint32_t version : {2u, 3u}) {
    const std::vector<uint8_t> b = with([&](RawGguf& g) { g.version = version; }).bytes();
    auto f = gguf::File::parse(b);
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_EQ(f->version(), version);
    EXPECT_EQ(f->tensors().size(), 2u);
    EXPECT_EQ(f->kvs().size(), 3u);
    EXPECT_EQ(f->find_tensor("b")->data, b.data() + f->data_offset() + 64);
  }
}

TEST(MalformedGguf, EachIsRefusedWithASpecificMessage) {
  for (const Case& c : catalogue()) {
    const std::vector<uint8_t> b = c.make();
    auto f = gguf::File::parse(b);
    ASSERT_FALSE(f.ok()) << c.name << ": parsed";
    if (std::getenv("FOLIO_TEST_VERBOSE")) std::printf("  %-34s %s\n", c.name, f.error().message.c_str());
    for (const std::string& want : c.expect) {
      EXPECT_NE(f.error().message.find(want), std::string::npos)
          << c.name << ": message \"" << f.error().message << "\" lacks \"" << want << "\"";
    }
  }
}

TEST(MalformedGguf, ShowExitsNonZeroWithTheMessage) {
  testing::TempDir dir;
  for (const Case& c : catalogue()) {
    const std::string path = dir.file("bad.gguf");
    testing::write_file(path, c.make());
    const testing::RunResult r = testing::run_folio({"show", path});
    EXPECT_EQ(r.signal, 0) << c.name << ": killed by signal " << r.signal;
    EXPECT_EQ(r.exit_code, 1) << c.name;
    EXPECT_EQ(r.err.rfind("Error: ", 0), 0u) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find(path), std::string::npos) << c.name << ": the message should name the file";
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.name << ": one line expected: " << r.err;
    for (const std::string& want : c.expect) EXPECT_NE(r.err.find(want), std::string::npos) << c.name << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << c.name;
  }
}

// Every prefix of a real file's header and every single-byte corruption of
// it is either parsed or refused; nothing reads out of bounds (ASan).
TEST(MalformedGguf, TruncationsAndByteFlipsNeverCrash) {
  const std::vector<uint8_t> file = testing::read_file(std::string(FOLIO_TEST_DATA) + "/synth-llama-q4_k_m.gguf");
  ASSERT_GT(file.size(), 10000u);
  auto whole = gguf::File::parse(file);
  ASSERT_TRUE(whole.ok());
  const size_t head = whole->data_offset();
  for (size_t n = 0; n < head; n += 7) {
    std::vector<uint8_t> b(file.begin(), file.begin() + static_cast<long>(n));
    auto f = gguf::File::parse(b);
    EXPECT_FALSE(f.ok()) << "prefix of " << n << " bytes parsed";
  }
  Rng rng(123);
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> b(file.begin(), file.begin() + static_cast<long>(head) + 4096);
    const size_t at = rng.next_u64() % head;
    b[at] = static_cast<uint8_t>(rng.next_u64());
    auto f = gguf::File::parse(b);  // ok or a clean error, either is fine
    if (!f.ok()) {
      EXPECT_FALSE(f.error().message.empty());
    }
  }
}

}  // namespace
}  // namespace folio
