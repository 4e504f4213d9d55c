// Embeddings: the pooled hidden states are the input of the output
// projection, so projecting the last token's state must give llama.cpp's
// reference logits (tests/data/golden); pooling and batching are checked
// against hidden states computed one way, normalize against its definition.
#include "engine/embed.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "memory/model_file.h"
#include "gguf/types.h"

namespace folio {
namespace {

struct Loaded {
  ModelFile file;
  std::unique_ptr<Model> model;
};

Loaded open_stories() {
  auto f = ModelFile::open(std::string(FOLIO_MODELS_DIR) + "/stories260K.gguf");
  EXPECT_TRUE(f.ok());
  Loaded l{std::move(f).value(), nullptr};
  auto m = load_model(l.file);
  EXPECT_TRUE(m.ok());
  l.model = std::move(m).value();
  return l;
}

TEST(Embed, LastTokenStateProjectsToTheReferenceLogits) {
  Loaded l = open_stories();
  const Hparams& hp = l.model->hparams();
  std::ifstream jf(std::string(FOLIO_TEST_DATA) + "/golden/stories260K.logits.json");
  const auto j = nlohmann::json::parse(jf);
  const auto prompt = j["tokens"].get<std::vector<int32_t>>();
  std::ifstream bf(std::string(FOLIO_TEST_DATA) + "/golden/stories260K.logits.bin", std::ios::binary);
  std::vector<float> ref(static_cast<size_t>(hp.n_vocab));
  // Row prompt.size() - 1: the logits after the last prompt token.
  bf.seekg(static_cast<std::streamoff>((prompt.size() - 1) * ref.size() * sizeof(float)));
  bf.read(reinterpret_cast<char*>(ref.data()), static_cast<std::streamsize>(ref.size() * sizeof(float)));
  ASSERT_TRUE(bf.good());

  Context ctx(hp, 512, 2);
  std::vector<float> e;
  auto st = embed(*l.model, ctx, prompt, 512, Pooling::kLast, &e);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->prompt_eval_count, static_cast<int64_t>(prompt.size()));
  ASSERT_EQ(e.size(), static_cast<size_t>(hp.n_embd));
  const gguf::TensorInfo* out = l.file.find_tensor("output.weight");
  if (out == nullptr) out = l.file.find_tensor("token_embd.weight");
  ASSERT_NE(out, nullptr);
  ASSERT_EQ(out->type, TensorType::kF32);
  const float* w = reinterpret_cast<const float*>(out->data);
  double max_diff = 0;
  for (int64_t v = 0; v < hp.n_vocab; ++v) {
    double dot = 0;
    for (int64_t i = 0; i < hp.n_embd; ++i) dot += double(w[v * hp.n_embd + i]) * e[static_cast<size_t>(i)];
    max_diff = std::max(max_diff, std::fabs(dot - ref[static_cast<size_t>(v)]));
  }
  EXPECT_LE(max_diff, 2e-2);  // the tolerance of the logits parity test
}

TEST(Embed, PoolingAndBatchingAgreeWithHiddenStates) {
  Loaded l = open_stories();
  const Hparams& hp = l.model->hparams();
  const std::vector<int32_t> tokens = {1, 400, 17, 52, 300, 9, 77};
  const int64_t n = static_cast<int64_t>(tokens.size());
  Context ctx(hp, 64, 1);
  std::vector<float> h(static_cast<size_t>(n * hp.n_embd));
  l.model->hidden(ctx, tokens.data(), n, h.data());
  EXPECT_EQ(ctx.n_past(), n);
  const auto row = [&](int64_t t, int64_t i) { return h[static_cast<size_t>(t * hp.n_embd + i)]; };
  for (int64_t batch : {int64_t{1}, int64_t{3}, n}) {
    std::vector<float> last, mean, first;
    ASSERT_TRUE(embed(*l.model, ctx, tokens, batch, Pooling::kLast, &last).ok());
    ASSERT_TRUE(embed(*l.model, ctx, tokens, batch, Pooling::kMean, &mean).ok());
    ASSERT_TRUE(embed(*l.model, ctx, tokens, batch, Pooling::kFirst, &first).ok());
    for (int64_t i = 0; i < hp.n_embd; ++i) {
      double m = 0;
      for (int64_t t = 0; t < n; ++t) m += row(t, i);
      EXPECT_NEAR(last[static_cast<size_t>(i)], row(n - 1, i), 1e-3) << "batch " << batch;
      EXPECT_NEAR(first[static_cast<size_t>(i)], row(0, i), 1e-3) << "batch " << batch;
      EXPECT_NEAR(mean[static_cast<size_t>(i)], m / n, 1e-3) << "batch " << batch;
    }
  }
  // Refusals: nothing to embed, more than the context, a bad id.
  std::vector<float> e;
  EXPECT_FALSE(embed(*l.model, ctx, {}, 8, Pooling::kLast, &e).ok());
  EXPECT_FALSE(embed(*l.model, ctx, std::vector<int32_t>(65, 1), 8, Pooling::kLast, &e).ok());
  EXPECT_FALSE(embed(*l.model, ctx, {1, static_cast<int32_t>(hp.n_vocab)}, 8, Pooling::kLast, &e).ok());
}

TEST(Embed, NormalizeGivesUnitLengthAndRefusesNaN) {
  std::vector<float> v = {3, 4};
  ASSERT_TRUE(normalize(v).ok());
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  std::vector<float> zero = {0, 0};
  ASSERT_TRUE(normalize(zero).ok());
  EXPECT_EQ(zero[0], 0.f);
  std::vector<float> bad = {1, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_FALSE(normalize(bad).ok());
}

}  // namespace
}  // namespace folio
