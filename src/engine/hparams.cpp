#include "engine/hparams.h"

#include "base/strings.h"

namespace folio {

namespace {

Result<int64_t> require_int(const gguf::File& f, const std::string& key) {
  const gguf::Value* v = f.find(key);
  if (v == nullptr) return make_error("model metadata lacks %s; the file is incomplete or not a model", key.c_str());
  auto i = v->as_int();
  if (!i || *i <= 0) {
    return make_error("model metadata %s is %s, expected a positive integer", key.c_str(), v->to_display().c_str());
  }
  return *i;
}

Result<float> optional_float(const gguf::File& f, const std::string& key, float fallback) {
  const gguf::Value* v = f.find(key);
  if (v == nullptr) return fallback;
  auto d = v->as_number();
  if (!d) return make_error("model metadata %s has type %s, expected a number", key.c_str(), gguf::value_type_name(v->type));
  return static_cast<float>(*d);
}

Result<int64_t> optional_int(const gguf::File& f, const std::string& key, int64_t fallback) {
  const gguf::Value* v = f.find(key);
  if (v == nullptr) return fallback;
  auto i = v->as_int();
  if (!i || *i < 0) return make_error("model metadata %s is %s, expected an integer", key.c_str(), v->to_display().c_str());
  return *i;
}

}  // namespace

Result<Hparams> read_hparams(const gguf::File& meta, const std::string& arch) {
  Hparams h;
  h.arch = arch;
  const std::string a = arch + ".";
  FOLIO_ASSIGN_OR_RETURN(h.n_ctx_train, require_int(meta, a + "context_length"));
  FOLIO_ASSIGN_OR_RETURN(h.n_embd, require_int(meta, a + "embedding_length"));
  FOLIO_ASSIGN_OR_RETURN(h.n_layer, require_int(meta, a + "block_count"));
  FOLIO_ASSIGN_OR_RETURN(h.n_head, require_int(meta, a + "attention.head_count"));
  FOLIO_ASSIGN_OR_RETURN(h.n_head_kv, optional_int(meta, a + "attention.head_count_kv", h.n_head));
  FOLIO_ASSIGN_OR_RETURN(h.n_ff, optional_int(meta, a + "feed_forward_length", 0));
  if (h.n_head_kv <= 0 || h.n_head % h.n_head_kv != 0) {
    return make_error("model metadata: head count %lld is not a multiple of the KV head count %lld",
                      static_cast<long long>(h.n_head), static_cast<long long>(h.n_head_kv));
  }
  FOLIO_ASSIGN_OR_RETURN(h.head_dim_k, optional_int(meta, a + "attention.key_length", h.n_embd / h.n_head));
  FOLIO_ASSIGN_OR_RETURN(h.head_dim_v, optional_int(meta, a + "attention.value_length", h.n_embd / h.n_head));
  FOLIO_ASSIGN_OR_RETURN(h.n_rot, optional_int(meta, a + "rope.dimension_count", h.head_dim_k));
  if (h.head_dim_k <= 0 || h.head_dim_v <= 0 || h.n_rot % 2 != 0 || h.n_rot > h.head_dim_k) {
    return make_error("model metadata: inconsistent head size (key %lld, value %lld, rope %lld)",
                      static_cast<long long>(h.head_dim_k), static_cast<long long>(h.head_dim_v),
                      static_cast<long long>(h.n_rot));
  }
  FOLIO_ASSIGN_OR_RETURN(h.norm_eps, optional_float(meta, a + "attention.layer_norm_rms_epsilon", 1e-5f));
  FOLIO_ASSIGN_OR_RETURN(h.rope_base, optional_float(meta, a + "rope.freq_base", 10000.f));
  if (auto type = meta.get_string(a + "rope.scaling.type"); type && (*type == "linear" || *type == "yarn")) {
    h.rope_scaling = std::string(*type);
    FOLIO_ASSIGN_OR_RETURN(h.rope_scaling_factor, optional_float(meta, a + "rope.scaling.factor", 1.f));
    if (h.rope_scaling_factor > 0) h.rope_freq_scale = 1.f / h.rope_scaling_factor;
    FOLIO_ASSIGN_OR_RETURN(h.rope_n_ctx_orig, optional_int(meta, a + "rope.scaling.original_context_length", h.n_ctx_train));
    FOLIO_ASSIGN_OR_RETURN(h.rope_yarn_log_mul, optional_float(meta, a + "rope.scaling.yarn_log_multiplier", 0.f));
  }
  FOLIO_ASSIGN_OR_RETURN(h.q_lora_rank, optional_int(meta, a + "attention.q_lora_rank", 0));
  FOLIO_ASSIGN_OR_RETURN(h.kv_lora_rank, optional_int(meta, a + "attention.kv_lora_rank", 0));
  FOLIO_ASSIGN_OR_RETURN(h.n_layer_dense_lead, optional_int(meta, a + "leading_dense_block_count", 0));
  FOLIO_ASSIGN_OR_RETURN(h.n_ff_exp, optional_int(meta, a + "expert_feed_forward_length", 0));
  FOLIO_ASSIGN_OR_RETURN(h.n_expert_shared, optional_int(meta, a + "expert_shared_count", 0));
  FOLIO_ASSIGN_OR_RETURN(h.n_ff_shexp, optional_int(meta, a + "expert_shared_feed_forward_length", 0));
  FOLIO_ASSIGN_OR_RETURN(h.expert_weights_scale, optional_float(meta, a + "expert_weights_scale", 1.f));
  if (const gguf::Value* v = meta.find(a + "expert_weights_norm")) {
    const auto b = v->as_bool();
    if (!b) return make_error("model metadata %sexpert_weights_norm is %s, expected a bool", a.c_str(), v->to_display().c_str());
    h.expert_weights_norm = *b;
  }
  FOLIO_ASSIGN_OR_RETURN(h.expert_gating, optional_int(meta, a + "expert_gating_func", 0));
  if (h.expert_gating > 2) {
    return make_error("model metadata %sexpert_gating_func is %lld; folio knows softmax (1) and sigmoid (2)", a.c_str(),
                      static_cast<long long>(h.expert_gating));
  }
  FOLIO_ASSIGN_OR_RETURN(h.sliding_window, optional_int(meta, a + "attention.sliding_window", 0));
  FOLIO_ASSIGN_OR_RETURN(h.attn_softcap, optional_float(meta, a + "attn_logit_softcapping", 0.f));
  FOLIO_ASSIGN_OR_RETURN(h.final_softcap, optional_float(meta, a + "final_logit_softcapping", 0.f));
  if (h.attn_softcap < 0 || h.final_softcap < 0) {
    return make_error("model metadata: negative logit soft-capping (%g, %g)", h.attn_softcap, h.final_softcap);
  }
  FOLIO_ASSIGN_OR_RETURN(h.n_expert, optional_int(meta, a + "expert_count", 0));
  FOLIO_ASSIGN_OR_RETURN(h.n_expert_used, optional_int(meta, a + "expert_used_count", 0));
  FOLIO_ASSIGN_OR_RETURN(h.pooling, optional_int(meta, a + "pooling_type", 0));
  if (h.pooling < 0 || h.pooling > 3) {
    return make_error("model metadata %spooling_type is %lld; folio knows none (0), mean (1), cls (2) and last (3)",
                      a.c_str(), static_cast<long long>(h.pooling));
  }
  // Bounds far above any real model, so that products of these numbers
  // (widths, cache sizes) cannot overflow.
  struct Bound {
    const char* key;
    int64_t value, max;
  };
  const Bound bounds[] = {{"context_length", h.n_ctx_train, int64_t{1} << 30}, {"embedding_length", h.n_embd, 1 << 20},
                          {"block_count", h.n_layer, 1 << 12},             {"feed_forward_length", h.n_ff, 1 << 22},
                          {"attention.head_count", h.n_head, 1 << 12},     {"attention.head_count_kv", h.n_head_kv, 1 << 12},
                          {"attention.key_length", h.head_dim_k, 1 << 14},  {"attention.value_length", h.head_dim_v, 1 << 14},
                          {"expert_count", h.n_expert, 1 << 14},           {"expert_used_count", h.n_expert_used, 1 << 14},
                          {"attention.q_lora_rank", h.q_lora_rank, 1 << 20}, {"attention.kv_lora_rank", h.kv_lora_rank, 1 << 20},
                          {"expert_feed_forward_length", h.n_ff_exp, 1 << 22}, {"expert_shared_count", h.n_expert_shared, 1 << 14},
                          {"expert_shared_feed_forward_length", h.n_ff_shexp, 1 << 22},
                          {"leading_dense_block_count", h.n_layer_dense_lead, 1 << 12}};
  for (const Bound& b : bounds) {
    if (b.value > b.max) {
      return make_error("model metadata %s%s is %lld, more than any model has (at most %lld); the file is damaged",
                        a.c_str(), b.key, static_cast<long long>(b.value), static_cast<long long>(b.max));
    }
  }
  // The vocabulary size is the tokenizer's; <arch>.vocab_size is optional.
  if (const gguf::Value* t = meta.find("tokenizer.ggml.tokens"); t && t->as_array()) {
    h.n_vocab = static_cast<int64_t>(t->as_array()->size);
  } else {
    FOLIO_ASSIGN_OR_RETURN(h.n_vocab, optional_int(meta, a + "vocab_size", 0));
  }
  return h;
}

}  // namespace folio
