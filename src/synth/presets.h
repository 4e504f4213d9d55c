// Model shapes for `folio synth`: presets that match real models, so that
// benchmarks and memory tests run on files laid out like the ones users
// download (sizes, tensor names, types), only with random weights.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace folio::synth {

struct ModelShape {
  std::string arch;            // general.architecture: "llama", "qwen2" or "deepseek2"
  int64_t n_vocab = 0;         // 0: the vocabulary source's size
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;        // 0: n_embd / n_head
  int64_t n_ff = 0;            // dense FFN width, or the expert width for MoE
  int64_t n_ctx = 0;           // context_length
  float rope_base = 10000.f;
  float norm_eps = 1e-5f;
  bool tied_embeddings = false;  // no output.weight
  bool qkv_bias = false;         // qwen2
  bool llama3_rope = false;      // rope_freqs.weight with Llama 3.1 scaling factors
  int64_t n_expert = 0;          // MoE (Mixtral style) when > 0
  int64_t n_expert_used = 0;
  // deepseek2 (multi-head latent attention, routed + shared experts): the
  // head is head_dim (the no-rope part of K) + rope_dim; V is v_head_dim.
  int64_t q_lora_rank = 0;       // 0: a plain attn_q
  int64_t kv_lora_rank = 0;
  int64_t rope_dim = 0;          // qk_rope_head_dim
  int64_t v_head_dim = 0;
  int64_t n_layer_dense_lead = 0;
  int64_t n_ff_exp = 0;          // expert width (n_ff is the dense layers')
  int64_t n_expert_shared = 0;
  float expert_weights_scale = 1.f;
  bool expert_weights_norm = false;
  bool sigmoid_gating = false;   // V3: sigmoid + exp_probs_b selection bias
  float yarn_factor = 0.f;       // > 0: rope.scaling yarn with this factor
  int64_t yarn_n_ctx_orig = 0;
  float yarn_log_mul = 0.f;

  int64_t n_embd_head() const { return head_dim > 0 ? head_dim : n_embd / n_head; }
};

struct Preset {
  const char* name;
  const char* description;
  ModelShape shape;
};

const std::vector<Preset>& presets();

// Errors list the preset names.
Result<ModelShape> find_preset(std::string_view name);

// Checks the shape is consistent (heads divide, sizes positive).
Result<void> validate_shape(const ModelShape& s);

}  // namespace folio::synth
