// Architectures without llama.cpp golden data (qwen3, qwen3moe, qwen2moe,
// gemma3):
// tiny random F32 models written here, and an independent float64
// reference of each published forward pass (transformers' modeling_qwen3 /
// modeling_qwen3_moe / modeling_qwen2_moe / modeling_gemma3 (text), written
// from the model
// definitions, not from folio's code) against folio's logits, teacher-forced
// over every position.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/model.h"
#include "gguf/writer.h"
#include "memory/model_file.h"
#include "test_util.h"

namespace folio {
namespace {

struct Tiny {
  std::string arch;
  int64_t vocab = 64, embd = 64, layers = 2, heads = 4, heads_kv = 2, head_dim = 32, ff = 96;
  bool qk_norm = false, qkv_bias = false;
  int64_t experts = 0, used = 0, ff_exp = 0, ff_shexp = 0;
  bool norm_topk = true, shared_gate = false;
  float rope_base = 1000000.f, eps = 1e-6f;
  // gemma3: embeddings times sqrt(embd), post-norms, GELU (tanh), tied
  // output; layer l slides over `window` keys with rope base 10000 unless
  // l % 6 == 5.
  bool gemma3 = false;
  int64_t window = 0;
};

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

// Weights ~ N(0, 0.1^2) (larger than real models, so every term shows in
// the logits), norm weights 1 + N(0, 0.1^2), biases N(0, 0.1^2).
std::map<std::string, Tensor> make_weights(const Tiny& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 0.1f);
  std::map<std::string, Tensor> t;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float mean) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    Tensor x{shape, std::vector<float>(static_cast<size_t>(n))};
    for (float& v : x.data) v = mean + nd(rng);
    t[name] = std::move(x);
  };
  const int64_t qw = c.heads * c.head_dim, kw = c.heads_kv * c.head_dim;
  add("token_embd.weight", {c.embd, c.vocab}, 0);
  add("output_norm.weight", {c.embd}, 1);
  if (!c.gemma3) add("output.weight", {c.embd, c.vocab}, 0);
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    add(b + "attn_norm.weight", {c.embd}, 1);
    add(b + "attn_q.weight", {c.embd, qw}, 0);
    add(b + "attn_k.weight", {c.embd, kw}, 0);
    add(b + "attn_v.weight", {c.embd, kw}, 0);
    if (c.qkv_bias) {
      add(b + "attn_q.bias", {qw}, 0);
      add(b + "attn_k.bias", {kw}, 0);
      add(b + "attn_v.bias", {kw}, 0);
    }
    if (c.qk_norm) {
      add(b + "attn_q_norm.weight", {c.head_dim}, 1);
      add(b + "attn_k_norm.weight", {c.head_dim}, 1);
    }
    add(b + "attn_output.weight", {qw, c.embd}, 0);
    if (c.gemma3) {
      add(b + "post_attention_norm.weight", {c.embd}, 1);
      add(b + "post_ffw_norm.weight", {c.embd}, 1);
    }
    add(b + "ffn_norm.weight", {c.embd}, 1);
    if (c.experts == 0) {
      add(b + "ffn_gate.weight", {c.embd, c.ff}, 0);
      add(b + "ffn_up.weight", {c.embd, c.ff}, 0);
      add(b + "ffn_down.weight", {c.ff, c.embd}, 0);
      continue;
    }
    add(b + "ffn_gate_inp.weight", {c.embd, c.experts}, 0);
    add(b + "ffn_gate_exps.weight", {c.embd, c.ff_exp, c.experts}, 0);
    add(b + "ffn_up_exps.weight", {c.embd, c.ff_exp, c.experts}, 0);
    add(b + "ffn_down_exps.weight", {c.ff_exp, c.embd, c.experts}, 0);
    if (c.ff_shexp > 0) {
      add(b + "ffn_gate_shexp.weight", {c.embd, c.ff_shexp}, 0);
      add(b + "ffn_up_shexp.weight", {c.embd, c.ff_shexp}, 0);
      add(b + "ffn_down_shexp.weight", {c.ff_shexp, c.embd}, 0);
      if (c.shared_gate) add(b + "ffn_gate_inp_shexp.weight", {c.embd}, 0);
    }
  }
  return t;
}

std::string write_model(const Tiny& c, const std::map<std::string, Tensor>& t, const std::string& path) {
  gguf::Writer w;
  const std::string a = c.arch + ".";
  w.set_string("general.architecture", c.arch);
  w.set_u32(a + "vocab_size", static_cast<uint32_t>(c.vocab));
  w.set_u32(a + "context_length", 128);
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(c.embd));
  w.set_u32(a + "block_count", static_cast<uint32_t>(c.layers));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(c.ff));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(c.heads));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(c.heads_kv));
  w.set_u32(a + "attention.key_length", static_cast<uint32_t>(c.head_dim));
  w.set_u32(a + "attention.value_length", static_cast<uint32_t>(c.head_dim));
  w.set_f32(a + "rope.freq_base", c.rope_base);
  w.set_f32(a + "attention.layer_norm_rms_epsilon", c.eps);
  if (c.window > 0) w.set_u32(a + "attention.sliding_window", static_cast<uint32_t>(c.window));
  if (c.experts > 0) {
    w.set_u32(a + "expert_count", static_cast<uint32_t>(c.experts));
    w.set_u32(a + "expert_used_count", static_cast<uint32_t>(c.used));
    w.set_u32(a + "expert_feed_forward_length", static_cast<uint32_t>(c.ff_exp));
    if (c.ff_shexp > 0) w.set_u32(a + "expert_shared_feed_forward_length", static_cast<uint32_t>(c.ff_shexp));
  }
  for (const auto& [name, x] : t) {
    const Tensor* src = &x;
    const int64_t row = x.shape[0];
    gguf::RowSource rows = [src, row](int64_t first, int64_t n, uint8_t* dst) -> Result<void> {
      std::memcpy(dst, src->data.data() + first * row, static_cast<size_t>(n * row) * sizeof(float));
      return {};
    };
    auto r = w.add_tensor(gguf::TensorSpec{name, TensorType::kF32, x.shape, std::move(rows)});
    EXPECT_TRUE(r.ok()) << r.error().message;
  }
  auto r = w.write(path);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return path;
}

// ---- the float64 reference ---------------------------------------------

using Vec = std::vector<double>;

// y = W x for W stored (n_in, n_out) as GGUF rows (matrix e of a 3-D one).
Vec matvec(const Tensor& w, const Vec& x, int64_t e = 0) {
  const int64_t n_in = w.shape[0], n_out = w.shape[1];
  Vec y(static_cast<size_t>(n_out), 0.0);
  const float* base = w.data.data() + e * n_in * n_out;
  for (int64_t o = 0; o < n_out; ++o) {
    double s = 0;
    for (int64_t i = 0; i < n_in; ++i) s += static_cast<double>(base[o * n_in + i]) * x[static_cast<size_t>(i)];
    y[static_cast<size_t>(o)] = s;
  }
  return y;
}

Vec rmsnorm(const Vec& x, const Tensor& w, double eps, size_t off = 0, size_t n = 0) {
  n = n ? n : x.size();
  double ss = 0;
  for (size_t i = 0; i < n; ++i) ss += x[off + i] * x[off + i];
  const double s = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
  Vec y(n);
  for (size_t i = 0; i < n; ++i) y[i] = x[off + i] * s * w.data[i];
  return y;
}

double silu(double v) { return v / (1.0 + std::exp(-v)); }
double gelu_tanh(double v) { return 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v))); }

// NEOX rotation of one head (rotate_half: x[i] with x[i + d/2]).
void rope(double* x, int64_t d, int64_t pos, double base) {
  for (int64_t i = 0; i < d / 2; ++i) {
    const double theta = static_cast<double>(pos) * std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(d));
    const double a = x[i], b = x[i + d / 2];
    x[i] = a * std::cos(theta) - b * std::sin(theta);
    x[i + d / 2] = a * std::sin(theta) + b * std::cos(theta);
  }
}

Vec swiglu(const Tensor& g, const Tensor& u, const Tensor& d, const Vec& x, int64_t e = 0, bool gelu = false) {
  Vec a = matvec(g, x, e);
  const Vec b = matvec(u, x, e);
  for (size_t i = 0; i < a.size(); ++i) a[i] = (gelu ? gelu_tanh(a[i]) : silu(a[i])) * b[i];
  return matvec(d, a, e);
}

// Logits of every position of tokens (teacher-forced).
std::vector<Vec> reference(const Tiny& c, std::map<std::string, Tensor>& t, const std::vector<int32_t>& tokens) {
  const int64_t n = static_cast<int64_t>(tokens.size()), hd = c.head_dim, gqa = c.heads / c.heads_kv;
  std::vector<Vec> x(static_cast<size_t>(n));
  for (int64_t p = 0; p < n; ++p) {
    const float* row = t["token_embd.weight"].data.data() + tokens[static_cast<size_t>(p)] * c.embd;
    x[static_cast<size_t>(p)] = Vec(row, row + c.embd);
    if (c.gemma3) {
      for (double& e : x[static_cast<size_t>(p)]) e *= std::sqrt(static_cast<double>(c.embd));
    }
  }
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    std::vector<Vec> q(static_cast<size_t>(n)), k(static_cast<size_t>(n)), v(static_cast<size_t>(n));
    for (int64_t p = 0; p < n; ++p) {
      const Vec h = rmsnorm(x[static_cast<size_t>(p)], t[b + "attn_norm.weight"], c.eps);
      Vec* out[3] = {&q[static_cast<size_t>(p)], &k[static_cast<size_t>(p)], &v[static_cast<size_t>(p)]};
      const char* names[3] = {"attn_q", "attn_k", "attn_v"};
      for (int j = 0; j < 3; ++j) {
        *out[j] = matvec(t[b + names[j] + ".weight"], h);
        if (c.qkv_bias) {
          const Tensor& bias = t[b + names[j] + ".bias"];
          for (size_t i = 0; i < out[j]->size(); ++i) (*out[j])[i] += bias.data[i];
        }
      }
      for (int j = 0; j < 2; ++j) {  // per-head q/k norm, then rope
        Vec& m = *out[j];
        for (size_t h0 = 0; h0 < m.size(); h0 += static_cast<size_t>(hd)) {
          if (c.qk_norm) {
            const Vec nh = rmsnorm(m, t[b + (j == 0 ? "attn_q_norm" : "attn_k_norm") + ".weight"], c.eps, h0,
                                   static_cast<size_t>(hd));
            std::copy(nh.begin(), nh.end(), m.begin() + static_cast<long>(h0));
          }
          rope(m.data() + h0, hd, p, c.gemma3 && l % 6 < 5 ? 10000.0 : c.rope_base);
        }
      }
    }
    for (int64_t p = 0; p < n; ++p) {
      Vec att(static_cast<size_t>(c.heads * hd), 0.0);
      for (int64_t h = 0; h < c.heads; ++h) {
        const int64_t g = h / gqa;
        Vec s(static_cast<size_t>(p + 1));
        double mx = -1e300;
        const int64_t first = c.gemma3 && l % 6 < 5 ? std::max<int64_t>(0, p - c.window + 1) : 0;
        for (int64_t j = 0; j < first; ++j) s[static_cast<size_t>(j)] = -1e300;
        for (int64_t j = first; j <= p; ++j) {
          double d = 0;
          for (int64_t i = 0; i < hd; ++i) d += q[static_cast<size_t>(p)][static_cast<size_t>(h * hd + i)] * k[static_cast<size_t>(j)][static_cast<size_t>(g * hd + i)];
          s[static_cast<size_t>(j)] = d / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, s[static_cast<size_t>(j)]);
        }
        double sum = 0;
        for (double& e : s) sum += (e = e == -1e300 ? 0.0 : std::exp(e - mx));
        for (int64_t j = 0; j <= p; ++j) {
          for (int64_t i = 0; i < hd; ++i) {
            att[static_cast<size_t>(h * hd + i)] += s[static_cast<size_t>(j)] / sum * v[static_cast<size_t>(j)][static_cast<size_t>(g * hd + i)];
          }
        }
      }
      Vec o = matvec(t[b + "attn_output.weight"], att);
      if (c.gemma3) o = rmsnorm(o, t[b + "post_attention_norm.weight"], c.eps);
      Vec& xp = x[static_cast<size_t>(p)];
      for (size_t i = 0; i < xp.size(); ++i) xp[i] += o[i];
      const Vec h = rmsnorm(xp, t[b + "ffn_norm.weight"], c.eps);
      Vec f(static_cast<size_t>(c.embd), 0.0);
      if (c.experts == 0) {
        f = swiglu(t[b + "ffn_gate.weight"], t[b + "ffn_up.weight"], t[b + "ffn_down.weight"], h, 0, c.gemma3);
        if (c.gemma3) f = rmsnorm(f, t[b + "post_ffw_norm.weight"], c.eps);
      } else {
        Vec r = matvec(t[b + "ffn_gate_inp.weight"], h);
        const double mr = *std::max_element(r.begin(), r.end());
        double z = 0;
        for (double& e : r) z += (e = std::exp(e - mr));
        for (double& e : r) e /= z;
        std::vector<int> idx(static_cast<size_t>(c.experts));
        for (int i = 0; i < c.experts; ++i) idx[static_cast<size_t>(i)] = i;
        std::sort(idx.begin(), idx.end(), [&](int a, int b2) { return r[static_cast<size_t>(a)] > r[static_cast<size_t>(b2)]; });
        double top = 0;
        for (int64_t i = 0; i < c.used; ++i) top += r[static_cast<size_t>(idx[static_cast<size_t>(i)])];
        for (int64_t i = 0; i < c.used; ++i) {
          const int e = idx[static_cast<size_t>(i)];
          const double wgt = r[static_cast<size_t>(e)] / (c.norm_topk ? top : 1.0);
          const Vec y = swiglu(t[b + "ffn_gate_exps.weight"], t[b + "ffn_up_exps.weight"], t[b + "ffn_down_exps.weight"], h, e);
          for (size_t j = 0; j < f.size(); ++j) f[j] += wgt * y[j];
        }
        if (c.ff_shexp > 0) {
          const Vec y = swiglu(t[b + "ffn_gate_shexp.weight"], t[b + "ffn_up_shexp.weight"], t[b + "ffn_down_shexp.weight"], h);
          double g = 1;
          if (c.shared_gate) {
            double d = 0;
            for (size_t j = 0; j < h.size(); ++j) d += t[b + "ffn_gate_inp_shexp.weight"].data[j] * h[j];
            g = 1 / (1 + std::exp(-d));
          }
          for (size_t j = 0; j < f.size(); ++j) f[j] += g * y[j];
        }
      }
      for (size_t i = 0; i < xp.size(); ++i) xp[i] += f[i];
    }
  }
  std::vector<Vec> logits;
  for (int64_t p = 0; p < n; ++p) {
    logits.push_back(matvec(t[c.gemma3 ? "token_embd.weight" : "output.weight"],
                            rmsnorm(x[static_cast<size_t>(p)], t["output_norm.weight"], c.eps)));
  }
  return logits;
}

// folio's logits for every position against the reference. folio keeps K
// and V in F16 and rounds q to F16 for the scores (as llama.cpp does):
// about 1e-3 of the logits' size.
void check(const Tiny& c, uint32_t seed) {
  testing::TempDir dir;
  auto t = make_weights(c, seed);
  const std::string path = write_model(c, t, dir.file(c.arch + ".gguf"));
  auto f = ModelFile::open(path);
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto m = load_model(*f);
  ASSERT_TRUE(m.ok()) << c.arch << ": " << m.error().message;
  std::vector<int32_t> tokens;
  std::mt19937 rng(seed + 1);
  for (int i = 0; i < 12; ++i) tokens.push_back(static_cast<int32_t>(rng() % static_cast<uint32_t>(c.vocab)));
  const std::vector<Vec> ref = reference(c, t, tokens);
  Context ctx((*m)->hparams(), 128, 2);
  std::vector<float> got(static_cast<size_t>(12 * c.vocab));
  (*m)->forward(ctx, tokens.data(), 8, true, got.data());  // a prompt batch, then single tokens
  for (int64_t p = 8; p < 12; ++p) (*m)->forward(ctx, &tokens[static_cast<size_t>(p)], 1, false, &got[static_cast<size_t>(p * c.vocab)]);
  double max_abs = 0, max_diff = 0;
  for (int64_t p = 0; p < 12; ++p) {
    for (int64_t i = 0; i < c.vocab; ++i) {
      const double r = ref[static_cast<size_t>(p)][static_cast<size_t>(i)];
      max_abs = std::max(max_abs, std::fabs(r));
      max_diff = std::max(max_diff, std::fabs(r - got[static_cast<size_t>(p * c.vocab + i)]));
    }
  }
  std::printf("  [ reference] %-9s max|logit| %.3f  max|dlogit| %.2g\n", c.arch.c_str(), max_abs, max_diff);
  EXPECT_GT(max_abs, 0.5) << "logits too small to tell anything";
  EXPECT_LE(max_diff, 4e-3 * max_abs) << c.arch;
}

TEST(ArchReference, Qwen3) {
  Tiny c;
  c.arch = "qwen3";
  c.qk_norm = true;
  check(c, 11);
}

TEST(ArchReference, Qwen3Moe) {
  Tiny c;
  c.arch = "qwen3moe";
  c.qk_norm = true;
  c.experts = 4;
  c.used = 2;
  c.ff_exp = 48;
  check(c, 12);
}

TEST(ArchReference, Qwen2Moe) {
  Tiny c;
  c.arch = "qwen2moe";
  c.qkv_bias = true;
  c.experts = 4;
  c.used = 2;
  c.ff_exp = 48;
  c.ff_shexp = 80;
  c.norm_topk = false;
  c.shared_gate = true;
  check(c, 13);
}

// Six layers: five sliding over 4 keys (rope base 10000), then a global
// one; 12 tokens, so the window cuts.
TEST(ArchReference, Gemma3) {
  Tiny c;
  c.arch = "gemma3";
  c.gemma3 = true;
  c.qk_norm = true;
  c.layers = 6;
  c.window = 4;
  check(c, 14);
}

}  // namespace
}  // namespace folio
