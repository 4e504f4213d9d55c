// Hyperparameters of a model, read from GGUF metadata by key name
// (ref: llama.cpp llama-arch.cpp LLM_KV names; "<arch>." prefix).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "gguf/reader.h"

namespace folio {

struct Hparams {
  std::string arch;
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;   // context_length
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_ff = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim_k = 0;    // attention.key_length, default n_embd / n_head
  int64_t head_dim_v = 0;    // attention.value_length, default n_embd / n_head
  int64_t n_rot = 0;         // rope.dimension_count, default head_dim_k
  float norm_eps = 1e-5f;    // attention.layer_norm_rms_epsilon
  float rope_base = 10000.f; // rope.freq_base
  float rope_freq_scale = 1.f;  // 1 / rope.scaling.factor for linear scaling
  int64_t sliding_window = 0;  // attention.sliding_window (0: none)
  float attn_softcap = 0.f;    // attn_logit_softcapping (gemma2; 0: none)
  float final_softcap = 0.f;   // final_logit_softcapping (gemma2; 0: none)
  // Rope scaling by name (rope.scaling.type): "linear" sets rope_freq_scale;
  // "yarn" also keeps the original context and the log multiplier.
  std::string rope_scaling;
  float rope_scaling_factor = 1.f;
  int64_t rope_n_ctx_orig = 0;     // rope.scaling.original_context_length
  float rope_yarn_log_mul = 0.f;   // rope.scaling.yarn_log_multiplier
  // Multi-head latent attention and experts (deepseek2).
  int64_t q_lora_rank = 0;         // attention.q_lora_rank (0: plain attn_q)
  int64_t kv_lora_rank = 0;        // attention.kv_lora_rank
  int64_t n_layer_dense_lead = 0;  // leading_dense_block_count
  int64_t n_ff_exp = 0;            // expert_feed_forward_length
  int64_t n_expert_shared = 0;     // expert_shared_count
  int64_t n_ff_shexp = 0;          // expert_shared_feed_forward_length (qwen2moe)
  float expert_weights_scale = 1.f;
  bool expert_weights_norm = false;
  int64_t expert_gating = 0;       // expert_gating_func: 0 unset, 1 softmax, 2 sigmoid
  int64_t n_expert = 0;
  int64_t n_expert_used = 0;
  int64_t pooling = 0;       // pooling_type: 0 none (last token), 1 mean, 2 cls (first), 3 last

  int64_t n_gqa() const { return n_head / n_head_kv; }
};

// Reads the common transformer hyperparameters of arch. Errors name the
// missing or inconsistent key.
Result<Hparams> read_hparams(const gguf::File& meta, const std::string& arch);

}  // namespace folio
