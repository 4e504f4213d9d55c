// GGUF files as folio meets them: parsed, summarized, the tokenizer and
// hyperparameters read, the weights bound (shapes checked against the
// hyperparameters) and, when all that succeeds, a two-token forward pass
// on an 8-position context. Every step may refuse the file; none may
// crash, read out of bounds or allocate without bound.
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "engine/loader.h"
#include "fuzz_target.h"
#include "gguf/reader.h"
#include "gguf/summary.h"
#include "tokenizer/tokenizer.h"

namespace {

// The input as a file (the loader maps a path): an anonymous memory file.
struct MemFile {
  int fd = -1;
  MemFile(const uint8_t* data, size_t size) {
    fd = ::memfd_create("folio-fuzz-gguf", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    for (size_t at = 0; at < size;) {
      const ssize_t n = ::write(fd, data + at, size - at);
      FUZZ_CHECK(n > 0);
      at += static_cast<size_t>(n);
    }
  }
  ~MemFile() { ::close(fd); }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd); }
};

void exercise_tokenizer(const folio::gguf::File& meta) {
  auto tok = folio::Tokenizer::load(meta);
  if (!tok.ok()) return;
  const std::vector<int32_t> ids = tok->encode("Hello world <s> 123 \xe2\x82\xac", true, true);
  for (int32_t id : ids) FUZZ_CHECK(id >= 0 && id < tok->size());
  (void)tok->decode(ids, false, true);
  for (int32_t id = 0; id < tok->size() && id < 64; ++id) (void)tok->piece(id, true);
}

}  // namespace

FOLIO_FUZZ_TARGET(gguf) {
  auto file = folio::gguf::File::parse(std::span<const uint8_t>(data, size));
  if (!file.ok()) {
    FUZZ_CHECK(!file.error().message.empty());
    return 0;
  }
  for (const auto& t : file->tensors()) {
    FUZZ_CHECK(t.data >= data && t.data + t.nbytes <= data + size);
    (void)t.shape_string();
  }
  const folio::gguf::ModelSummary summary = folio::gguf::summarize(*file, file->tensors(), size);
  (void)summary;
  exercise_tokenizer(*file);

  MemFile mem(data, size);
  folio::Options opts;
  opts.num_ctx = 8;
  opts.num_thread = 1;
  opts.num_batch = 8;
  auto loaded = folio::load_for_inference(mem.path(), opts);
  if (!loaded.ok()) return 0;
  const folio::Hparams& hp = loaded->model->hparams();
  auto ctx = loaded->new_context();
  if (!ctx.ok() || hp.n_vocab <= 0 || (*ctx)->n_ctx() < 2) return 0;
  const int32_t tokens[2] = {0, static_cast<int32_t>(hp.n_vocab - 1)};
  std::vector<float> logits(static_cast<size_t>(2 * hp.n_vocab));
  loaded->model->forward(**ctx, tokens, 2, true, logits.data());
  return 0;
}
