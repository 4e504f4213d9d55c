#include "synth/synth.h"

#include <cmath>
#include <memory>

#include "base/rng.h"
#include "base/strings.h"
#include "base/threads.h"
#include "gguf/file_type.h"
#include "memory/model_file.h"
#include "quantize/recipe.h"
#include "tensor/convert.h"

namespace folio::synth {

namespace {

enum class Init { kWeight, kNorm, kBias, kRopeFreqs };

struct TensorPlan {
  std::string name;
  std::vector<int64_t> shape;
  Init init;
};

// Tensor names and shapes per architecture (ref: llama.cpp
// llama-arch.cpp LLM_TENSOR_NAMES and llama-model.cpp load_tensors).
// deepseek2 (ref: llama.cpp LLM_ARCH_DEEPSEEK2 tensors; the golden
// README section 6.5 order).
std::vector<TensorPlan> plan_deepseek2(const ModelShape& s) {
  const int64_t hk = s.head_dim + s.rope_dim, hv = s.v_head_dim;
  std::vector<TensorPlan> t;
  t.push_back({"token_embd.weight", {s.n_embd, s.n_vocab}, Init::kWeight});
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    t.push_back({b + "attn_norm.weight", {s.n_embd}, Init::kNorm});
    if (s.q_lora_rank > 0) {
      t.push_back({b + "attn_q_a.weight", {s.n_embd, s.q_lora_rank}, Init::kWeight});
      t.push_back({b + "attn_q_a_norm.weight", {s.q_lora_rank}, Init::kNorm});
      t.push_back({b + "attn_q_b.weight", {s.q_lora_rank, s.n_head * hk}, Init::kWeight});
    } else {
      t.push_back({b + "attn_q.weight", {s.n_embd, s.n_head * hk}, Init::kWeight});
    }
    t.push_back({b + "attn_kv_a_mqa.weight", {s.n_embd, s.kv_lora_rank + s.rope_dim}, Init::kWeight});
    t.push_back({b + "attn_kv_a_norm.weight", {s.kv_lora_rank}, Init::kNorm});
    t.push_back({b + "attn_kv_b.weight", {s.kv_lora_rank, s.n_head * (s.head_dim + hv)}, Init::kWeight});
    t.push_back({b + "attn_output.weight", {s.n_head * hv, s.n_embd}, Init::kWeight});
    t.push_back({b + "ffn_norm.weight", {s.n_embd}, Init::kNorm});
    if (l < s.n_layer_dense_lead || s.n_expert == 0) {
      t.push_back({b + "ffn_gate.weight", {s.n_embd, s.n_ff}, Init::kWeight});
      t.push_back({b + "ffn_up.weight", {s.n_embd, s.n_ff}, Init::kWeight});
      t.push_back({b + "ffn_down.weight", {s.n_ff, s.n_embd}, Init::kWeight});
      continue;
    }
    t.push_back({b + "ffn_gate_inp.weight", {s.n_embd, s.n_expert}, Init::kWeight});
    if (s.sigmoid_gating) t.push_back({b + "exp_probs_b.bias", {s.n_expert}, Init::kBias});
    t.push_back({b + "ffn_gate_exps.weight", {s.n_embd, s.n_ff_exp, s.n_expert}, Init::kWeight});
    t.push_back({b + "ffn_up_exps.weight", {s.n_embd, s.n_ff_exp, s.n_expert}, Init::kWeight});
    t.push_back({b + "ffn_down_exps.weight", {s.n_ff_exp, s.n_embd, s.n_expert}, Init::kWeight});
    if (s.n_expert_shared > 0) {
      const int64_t w = s.n_ff_exp * s.n_expert_shared;
      t.push_back({b + "ffn_gate_shexp.weight", {s.n_embd, w}, Init::kWeight});
      t.push_back({b + "ffn_up_shexp.weight", {s.n_embd, w}, Init::kWeight});
      t.push_back({b + "ffn_down_shexp.weight", {w, s.n_embd}, Init::kWeight});
    }
  }
  t.push_back({"output_norm.weight", {s.n_embd}, Init::kNorm});
  t.push_back({"output.weight", {s.n_embd, s.n_vocab}, Init::kWeight});
  return t;
}

std::vector<TensorPlan> plan_tensors(const ModelShape& s) {
  if (s.arch == "deepseek2") return plan_deepseek2(s);
  const int64_t hd = s.n_embd_head();
  const int64_t q_width = s.n_head * hd, kv_width = s.n_head_kv * hd;
  std::vector<TensorPlan> t;
  t.push_back({"token_embd.weight", {s.n_embd, s.n_vocab}, Init::kWeight});
  if (s.llama3_rope) t.push_back({"rope_freqs.weight", {hd / 2}, Init::kRopeFreqs});
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    t.push_back({b + "attn_norm.weight", {s.n_embd}, Init::kNorm});
    t.push_back({b + "attn_q.weight", {s.n_embd, q_width}, Init::kWeight});
    t.push_back({b + "attn_k.weight", {s.n_embd, kv_width}, Init::kWeight});
    t.push_back({b + "attn_v.weight", {s.n_embd, kv_width}, Init::kWeight});
    if (s.qkv_bias) {
      t.push_back({b + "attn_q.bias", {q_width}, Init::kBias});
      t.push_back({b + "attn_k.bias", {kv_width}, Init::kBias});
      t.push_back({b + "attn_v.bias", {kv_width}, Init::kBias});
    }
    t.push_back({b + "attn_output.weight", {q_width, s.n_embd}, Init::kWeight});
    t.push_back({b + "ffn_norm.weight", {s.n_embd}, Init::kNorm});
    if (s.n_expert > 0) {
      t.push_back({b + "ffn_gate_inp.weight", {s.n_embd, s.n_expert}, Init::kWeight});
      t.push_back({b + "ffn_gate_exps.weight", {s.n_embd, s.n_ff, s.n_expert}, Init::kWeight});
      t.push_back({b + "ffn_down_exps.weight", {s.n_ff, s.n_embd, s.n_expert}, Init::kWeight});
      t.push_back({b + "ffn_up_exps.weight", {s.n_embd, s.n_ff, s.n_expert}, Init::kWeight});
    } else {
      t.push_back({b + "ffn_gate.weight", {s.n_embd, s.n_ff}, Init::kWeight});
      t.push_back({b + "ffn_down.weight", {s.n_ff, s.n_embd}, Init::kWeight});
      t.push_back({b + "ffn_up.weight", {s.n_embd, s.n_ff}, Init::kWeight});
    }
  }
  t.push_back({"output_norm.weight", {s.n_embd}, Init::kNorm});
  if (!s.tied_embeddings) t.push_back({"output.weight", {s.n_embd, s.n_vocab}, Init::kWeight});
  return t;
}

// Llama 3.1 rope scaling factors: frequencies with wavelengths beyond the
// original context are divided by `factor`, short ones kept, a smooth ramp
// between (ref: Meta llama3 reference apply_scaling; factor 32, low 1,
// high 4, original context 8192 as in the Llama 3.1/3.2 configs).
void llama3_rope_factors(int64_t n, int64_t head_dim, float base, float* out) {
  const double factor = 32, low = 1, high = 4, orig = 8192;
  const double low_wavelen = orig / low, high_wavelen = orig / high;
  for (int64_t i = 0; i < n; ++i) {
    const double freq = std::pow(static_cast<double>(base), -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
    const double wavelen = 2 * M_PI / freq;
    double f;
    if (wavelen < high_wavelen) f = 1;
    else if (wavelen > low_wavelen) f = factor;
    else {
      const double smooth = (orig / wavelen - low) / (high - low);
      f = 1 / ((1 - smooth) / factor + smooth);
    }
    out[i] = static_cast<float>(f);
  }
}

// Fast approximately-normal values: the sum of four 16-bit uniforms
// (Irwin-Hall), rescaled to unit variance. One generator call per value.
void fill_row(Rng& rng, Init init, float* row, int64_t n) {
  const float std_dev = init == Init::kNorm ? 0.05f : init == Init::kBias ? 0.05f : 0.02f;
  const float mean = init == Init::kNorm ? 1.f : 0.f;
  constexpr float kScale = 1.7320508f / 65536.f;  // sqrt(3) / 2^16: var(sum of 4 U(0,1)) = 1/3
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t r = rng.next_u64();
    const float sum = static_cast<float>((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48));
    row[i] = mean + std_dev * kScale * (sum - 2.f * 65535.f);
  }
}

// The vocabulary of another GGUF, to be padded with unused tokens up to
// n_vocab so the embedding matrix has the preset's real size.
struct Vocab {
  std::unique_ptr<ModelFile> source;
  int64_t n_source = 0;
};

Result<Vocab> load_vocab(const std::string& path) {
  if (path.empty()) return make_error("synth needs a vocabulary: pass --vocab FILE.gguf");
  auto opened = ModelFile::open(path);
  if (!opened.ok()) return make_error("cannot read the vocabulary: %s", opened.error().message.c_str());
  Vocab v;
  v.source = std::make_unique<ModelFile>(std::move(opened).value());
  const gguf::Value* tokens = v.source->meta().find("tokenizer.ggml.tokens");
  if (!tokens || !tokens->as_array() || tokens->as_array()->type != gguf::ValueType::kString) {
    return make_error("%s has no tokenizer.ggml.tokens string array to copy", path.c_str());
  }
  v.n_source = static_cast<int64_t>(tokens->as_array()->size);
  return v;
}

// Copies every tokenizer.* key; per-token arrays are padded to n_vocab.
Result<void> write_vocab(const Vocab& v, int64_t n_vocab, gguf::Writer& w) {
  const int64_t pad = n_vocab - v.n_source;
  std::vector<std::string> filler;
  for (int64_t i = 0; i < pad; ++i) filler.push_back(strfmt("<|synth_unused_%lld|>", static_cast<long long>(i)));
  for (const gguf::KeyValue& kv : v.source->meta().kvs()) {
    if (kv.key.rfind("tokenizer.", 0) != 0) continue;
    const gguf::Array* a = kv.value.as_array();
    const bool per_token = a && static_cast<int64_t>(a->size) == v.n_source;
    if (!per_token || pad == 0) {
      w.set_value(kv.key, kv.value);
    } else if (kv.key == "tokenizer.ggml.tokens") {
      std::vector<std::string_view> all(a->strings.begin(), a->strings.end());
      all.insert(all.end(), filler.begin(), filler.end());
      w.set_array_strings(kv.key, all);
    } else if (kv.key == "tokenizer.ggml.scores" && a->type == gguf::ValueType::kF32) {
      std::vector<float> sc(static_cast<size_t>(n_vocab), -1e9f);  // never preferred by SentencePiece
      for (int64_t i = 0; i < v.n_source; ++i) sc[i] = static_cast<float>(a->number_at(i));
      w.set_array_f32(kv.key, sc);
    } else if (kv.key == "tokenizer.ggml.token_type" && a->type == gguf::ValueType::kI32) {
      std::vector<int32_t> tt(static_cast<size_t>(n_vocab), 5);  // 5: unused
      for (int64_t i = 0; i < v.n_source; ++i) tt[i] = static_cast<int32_t>(a->int_at(i));
      w.set_array_i32(kv.key, tt);
    } else {
      return make_error("cannot pad vocabulary key %s to %lld tokens", std::string(kv.key).c_str(),
                        static_cast<long long>(n_vocab));
    }
  }
  return {};
}

void write_hparams(const ModelShape& s, const SynthOptions& opts, const Recipe& recipe, gguf::Writer& w) {
  const std::string a = s.arch + ".";
  w.set_string("general.architecture", s.arch);
  w.set_string("general.name", opts.name.empty() ? "synthetic " + s.arch : opts.name);
  w.set_string("general.description",
               "Random weights generated by folio synth (seed " + std::to_string(opts.seed) +
                   "); the text it produces means nothing.");
  w.set_u32("general.file_type", recipe.file_type);
  if (type_traits(recipe.base).quantized) w.set_u32("general.quantization_version", 2);
  w.set_u32(a + "vocab_size", static_cast<uint32_t>(s.n_vocab));
  w.set_u32(a + "context_length", static_cast<uint32_t>(s.n_ctx));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(s.n_embd));
  w.set_u32(a + "block_count", static_cast<uint32_t>(s.n_layer));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(s.n_head));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  if (s.arch == "deepseek2") {
    w.set_u32(a + "attention.key_length", static_cast<uint32_t>(s.head_dim + s.rope_dim));
    w.set_u32(a + "attention.value_length", static_cast<uint32_t>(s.v_head_dim));
    w.set_u32(a + "rope.dimension_count", static_cast<uint32_t>(s.rope_dim));
    if (s.q_lora_rank > 0) w.set_u32(a + "attention.q_lora_rank", static_cast<uint32_t>(s.q_lora_rank));
    w.set_u32(a + "attention.kv_lora_rank", static_cast<uint32_t>(s.kv_lora_rank));
    w.set_u32(a + "leading_dense_block_count", static_cast<uint32_t>(s.n_layer_dense_lead));
    if (s.n_expert > 0) {
      w.set_u32(a + "expert_feed_forward_length", static_cast<uint32_t>(s.n_ff_exp));
      w.set_u32(a + "expert_shared_count", static_cast<uint32_t>(s.n_expert_shared));
      w.set_f32(a + "expert_weights_scale", s.expert_weights_scale);
      w.set_bool(a + "expert_weights_norm", s.expert_weights_norm);
      w.set_u32(a + "expert_gating_func", s.sigmoid_gating ? 2 : 1);
    }
    if (s.yarn_factor > 0) {
      w.set_string(a + "rope.scaling.type", "yarn");
      w.set_f32(a + "rope.scaling.factor", s.yarn_factor);
      w.set_u32(a + "rope.scaling.original_context_length", static_cast<uint32_t>(s.yarn_n_ctx_orig));
      w.set_f32(a + "rope.scaling.yarn_log_multiplier", s.yarn_log_mul);
    }
  } else if (s.head_dim > 0 && s.head_dim != s.n_embd / s.n_head) {
    w.set_u32(a + "attention.key_length", static_cast<uint32_t>(s.head_dim));
    w.set_u32(a + "attention.value_length", static_cast<uint32_t>(s.head_dim));
  }
  if (s.arch == "llama") w.set_u32(a + "rope.dimension_count", static_cast<uint32_t>(s.n_embd_head()));
  w.set_f32(a + "rope.freq_base", s.rope_base);
  w.set_f32(a + "attention.layer_norm_rms_epsilon", s.norm_eps);
  if (s.n_expert > 0) {
    w.set_u32(a + "expert_count", static_cast<uint32_t>(s.n_expert));
    w.set_u32(a + "expert_used_count", static_cast<uint32_t>(s.n_expert_used));
  }
}

}  // namespace

Result<gguf::Writer> build_writer(const SynthOptions& opts) {
  ModelShape s = opts.shape;
  FOLIO_ASSIGN_OR_RETURN(Recipe recipe, parse_recipe(opts.quant));
  FOLIO_ASSIGN_OR_RETURN(Vocab vocab, load_vocab(opts.vocab_path));
  if (s.n_vocab == 0) s.n_vocab = vocab.n_source;
  if (vocab.n_source > s.n_vocab) {
    return make_error("the vocabulary of %s has %lld tokens, more than the model's %lld; pass a larger --vocab-size",
                      opts.vocab_path.c_str(), static_cast<long long>(vocab.n_source),
                      static_cast<long long>(s.n_vocab));
  }
  if (s.arch == "deepseek2") s.n_head_kv = s.n_head;  // latent attention: K and V per head
  FOLIO_TRY(validate_shape(s));

  gguf::Writer w;
  write_hparams(s, opts, recipe, w);
  FOLIO_TRY(write_vocab(vocab, s.n_vocab, w));

  const std::vector<TensorPlan> plan = plan_tensors(s);
  std::vector<RecipeTensor> rt;
  for (const TensorPlan& t : plan) rt.push_back({t.name, t.shape, TensorType::kF32});
  const RecipeModel rm{s.arch, s.n_layer, s.n_head, s.n_head_kv, s.n_expert};
  const std::vector<TensorType> types = choose_types(recipe, rm, rt);

  const int threads = opts.threads > 0 ? opts.threads : available_cpus();
  for (size_t k = 0; k < plan.size(); ++k) {
    const TensorPlan& t = plan[k];
    const TensorType type = types[k];
    const int64_t row = t.shape[0];
    const uint64_t tensor_seed = opts.seed ^ Rng::hash(t.name);
    const float rope_base = s.rope_base;
    const int64_t head_dim = s.n_embd_head();
    gguf::RowSource source = [=](int64_t first, int64_t n, uint8_t* dst) -> Result<void> {
      const size_t rb = row_bytes(type, row);
      const QuantizeFn quantize = convert_fns(type).from_float;
      FOLIO_CHECK(quantize != nullptr);
      parallel_for(n, threads, 1, [&](int64_t r0, int64_t r1) {
        std::vector<float> buf(static_cast<size_t>(row));
        for (int64_t r = r0; r < r1; ++r) {
          if (t.init == Init::kRopeFreqs) {
            llama3_rope_factors(row, head_dim, rope_base, buf.data());
          } else {
            // One generator per row: the data do not depend on the chunking.
            Rng rng(tensor_seed + 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(first + r));
            fill_row(rng, t.init, buf.data(), row);
          }
          quantize(buf.data(), dst + static_cast<size_t>(r) * rb, row);
        }
      });
      return {};
    };
    FOLIO_TRY(w.add_tensor(gguf::TensorSpec{t.name, type, t.shape, std::move(source)}));
  }
  return w;
}

Result<SynthResult> synthesize(const SynthOptions& opts, const std::string& path) {
  FOLIO_ASSIGN_OR_RETURN(gguf::Writer w, build_writer(opts));
  SynthResult r;
  r.file_type = parse_recipe(opts.quant)->name;
  for (const auto& t : w.tensors()) {
    r.bytes += t.nbytes();
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    r.n_params += static_cast<uint64_t>(n);
  }
  if (opts.split_max_bytes > 0) {
    std::string prefix = path;
    if (prefix.size() > 5 && prefix.compare(prefix.size() - 5, 5, ".gguf") == 0) prefix.resize(prefix.size() - 5);
    FOLIO_ASSIGN_OR_RETURN(r.paths, w.write_split(prefix, opts.split_max_bytes));
  } else {
    FOLIO_TRY(w.write(path));
    r.paths.push_back(path);
  }
  return r;
}

}  // namespace folio::synth
