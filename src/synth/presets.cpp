#include "synth/presets.h"

namespace folio::synth {

namespace {

ModelShape llama(int64_t vocab, int64_t embd, int64_t layers, int64_t heads, int64_t heads_kv, int64_t ff, int64_t ctx,
                 float rope_base, bool tied, bool llama3_rope) {
  ModelShape s;
  s.arch = "llama";
  s.n_vocab = vocab;
  s.n_embd = embd;
  s.n_layer = layers;
  s.n_head = heads;
  s.n_head_kv = heads_kv;
  s.n_ff = ff;
  s.n_ctx = ctx;
  s.rope_base = rope_base;
  s.norm_eps = 1e-5f;
  s.tied_embeddings = tied;
  s.llama3_rope = llama3_rope;
  return s;
}

ModelShape qwen2(int64_t vocab, int64_t embd, int64_t layers, int64_t heads, int64_t heads_kv, int64_t ff,
                 int64_t ctx, bool tied) {
  ModelShape s = llama(vocab, embd, layers, heads, heads_kv, ff, ctx, 1000000.f, tied, false);
  s.arch = "qwen2";
  s.norm_eps = 1e-6f;
  s.qkv_bias = true;
  return s;
}

// deepseek2: embd wide, layers deep, heads with (nope + rope) K and v V,
// latent ranks, dense FFN ff for the leading layer, then experts.
struct Mla {
  int64_t q_lora, kv_lora, nope, rope, v;
};
struct Experts {
  int64_t n, used, shared, ff;
  float scale;
  bool norm, sigmoid;
};
ModelShape deepseek2(int64_t vocab, int64_t embd, int64_t layers, int64_t heads, int64_t ff, int64_t ctx, Mla a,
                     Experts e, int64_t dense_lead, float yarn_factor, int64_t yarn_orig, float yarn_log_mul) {
  ModelShape s = llama(vocab, embd, layers, heads, heads, ff, ctx, 10000.f, false, false);
  s.arch = "deepseek2";
  s.norm_eps = 1e-6f;
  s.head_dim = a.nope;
  s.q_lora_rank = a.q_lora;
  s.kv_lora_rank = a.kv_lora;
  s.rope_dim = a.rope;
  s.v_head_dim = a.v;
  s.n_expert = e.n;
  s.n_expert_used = e.used;
  s.n_expert_shared = e.shared;
  s.n_ff_exp = e.ff;
  s.expert_weights_scale = e.scale;
  s.expert_weights_norm = e.norm;
  s.sigmoid_gating = e.sigmoid;
  s.n_layer_dense_lead = dense_lead;
  s.yarn_factor = yarn_factor;
  s.yarn_n_ctx_orig = yarn_orig;
  s.yarn_log_mul = yarn_log_mul;
  return s;
}

ModelShape moe(ModelShape s, int64_t n_expert, int64_t n_used) {
  s.n_expert = n_expert;
  s.n_expert_used = n_used;
  return s;
}

// Shapes from the models' published configs (config.json of each
// Hugging Face repository named in the description).
const std::vector<Preset> kPresets = {
    {"tiny", "2 layers, 256 wide (the shape of the golden synthetic llama); vocabulary as given",
     llama(0, 256, 2, 4, 2, 512, 512, 10000.f, true, false)},
    {"tiny-moe", "tiny with 4 experts, 2 used (Mixtral layout)",
     moe(llama(0, 256, 2, 4, 2, 128, 512, 1000000.f, true, false), 4, 2)},
    {"stories260k", "the shape of karpathy/tinyllamas stories260K", llama(512, 64, 5, 8, 4, 172, 512, 10000.f, false, false)},
    {"smollm2-135m", "HuggingFaceTB/SmolLM2-135M", llama(49152, 576, 30, 9, 3, 1536, 8192, 100000.f, true, false)},
    {"tinyllama-1.1b", "TinyLlama/TinyLlama-1.1B-Chat-v1.0", llama(32000, 2048, 22, 32, 4, 5632, 2048, 10000.f, false, false)},
    {"llama-3.2-1b", "meta-llama/Llama-3.2-1B", llama(128256, 2048, 16, 32, 8, 8192, 131072, 500000.f, true, true)},
    {"llama-3.2-3b", "meta-llama/Llama-3.2-3B", llama(128256, 3072, 28, 24, 8, 8192, 131072, 500000.f, true, true)},
    {"llama-3.1-8b", "meta-llama/Llama-3.1-8B", llama(128256, 4096, 32, 32, 8, 14336, 131072, 500000.f, false, true)},
    {"mistral-7b", "mistralai/Mistral-7B-v0.3", llama(32768, 4096, 32, 32, 8, 14336, 32768, 1000000.f, false, false)},
    {"mixtral-8x7b", "mistralai/Mixtral-8x7B-v0.1 (47B parameters, 8 experts, 2 used)",
     moe(llama(32000, 4096, 32, 32, 8, 14336, 32768, 1000000.f, false, false), 8, 2)},
    {"qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B", qwen2(151936, 896, 24, 14, 2, 4864, 32768, true)},
    {"qwen2.5-1.5b", "Qwen/Qwen2.5-1.5B", qwen2(151936, 1536, 28, 12, 2, 8960, 32768, true)},
    {"qwen2.5-7b", "Qwen/Qwen2.5-7B", qwen2(152064, 3584, 28, 28, 4, 18944, 32768, false)},
    {"tiny-deepseek2", "the shape of the golden synthetic DeepSeek-V3-like model (latent attention, 4 experts, 2 used, 1 shared)",
     deepseek2(0, 256, 2, 4, 512, 512, {256, 256, 64, 32, 64}, {4, 2, 1, 256, 2.5f, true, true}, 1, 40.f, 4096, 0.1f)},
    {"deepseek-v2-lite", "deepseek-ai/DeepSeek-V2-Lite (16B parameters, 64 experts, 6 used, 2 shared)",
     deepseek2(102400, 2048, 27, 16, 10944, 163840, {0, 512, 128, 64, 128}, {64, 6, 2, 1408, 1.f, false, false}, 1, 40.f,
               4096, 0.0707f)},
    {"deepseek-v3", "deepseek-ai/DeepSeek-V3 (671B parameters, 256 experts, 8 used, 1 shared)",
     deepseek2(129280, 7168, 61, 128, 18432, 163840, {1536, 512, 128, 64, 128}, {256, 8, 1, 2048, 2.5f, true, true}, 3,
               40.f, 4096, 0.1f)},
};

}  // namespace

const std::vector<Preset>& presets() { return kPresets; }

Result<ModelShape> find_preset(std::string_view name) {
  std::string names;
  for (const Preset& p : kPresets) {
    if (name == p.name) return p.shape;
    names += std::string(names.empty() ? "" : ", ") + p.name;
  }
  return make_error("unknown preset '%s'; choose one of %s", std::string(name).c_str(), names.c_str());
}

Result<void> validate_shape(const ModelShape& s) {
  if (s.arch != "llama" && s.arch != "qwen2" && s.arch != "deepseek2") {
    return make_error("synth cannot generate architecture '%s' yet (llama, qwen2, deepseek2)", s.arch.c_str());
  }
  if (s.arch == "deepseek2" && (s.kv_lora_rank <= 0 || s.rope_dim <= 0 || s.rope_dim % 2 != 0 || s.v_head_dim <= 0 ||
                                (s.n_expert > 0 && s.n_ff_exp <= 0))) {
    return make_error("a deepseek2 shape needs kv_lora_rank, an even rope dimension, the V head size and the expert width");
  }
  if (s.n_embd <= 0 || s.n_layer <= 0 || s.n_head <= 0 || s.n_head_kv <= 0 || s.n_ff <= 0 || s.n_ctx <= 0) {
    return make_error("model shape needs positive embedding, layers, heads, kv heads, ffn and context sizes");
  }
  if (s.head_dim <= 0 && s.n_embd % s.n_head != 0) {
    return make_error("embedding length %lld is not a multiple of the head count %lld", static_cast<long long>(s.n_embd),
                      static_cast<long long>(s.n_head));
  }
  if (s.n_head % s.n_head_kv != 0) {
    return make_error("head count %lld is not a multiple of the kv head count %lld", static_cast<long long>(s.n_head),
                      static_cast<long long>(s.n_head_kv));
  }
  if (s.n_embd_head() % 2 != 0) return make_error("head dimension must be even for rope");
  if (s.n_expert > 0 && (s.n_expert_used <= 0 || s.n_expert_used > s.n_expert)) {
    return make_error("experts used (%lld) must be between 1 and the expert count (%lld)",
                      static_cast<long long>(s.n_expert_used), static_cast<long long>(s.n_expert));
  }
  return {};
}

}  // namespace folio::synth
