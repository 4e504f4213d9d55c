// The pre-norm transformer decoder most architectures share (llama, qwen2,
// phi3, gemma2, ...). Per layer:
//   x += post_attn_norm?(attention(attn_norm(x)))
//   x += post_ffn_norm?(ffn(ffn_norm(x)))
// then logits = final_softcap?(output(output_norm(x))). An architecture's
// file binds the tensors into a DecoderModel and sets its DecoderSpec; the
// forward pass, batched decoding and hidden states are shared.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/blocks.h"
#include "engine/model.h"
#include "engine/weights.h"

namespace folio {

struct DecoderLayer {
  const float* attn_norm = nullptr;
  WeightView wq, wk, wv, wo;                      // fused QKV files bind row ranges of one matrix
  const float *bq = nullptr, *bk = nullptr, *bv = nullptr;  // optional biases (qwen2)
  const float *q_norm = nullptr, *k_norm = nullptr;          // optional per-head RMSNorm of q and k before rope (qwen3)
  const float* post_attn_norm = nullptr;          // optional (gemma2)
  const float* ffn_norm = nullptr;
  FfnWeights ffn;
  MoeWeights moe;                                 // experts instead of ffn when moe.router.data != nullptr
  const float* post_ffn_norm = nullptr;           // optional (gemma2)
  int64_t window = 0;                             // sliding-window attention (> 0) in this layer
  bool local_rope = false;                        // rope with spec.rope_local (gemma3's sliding layers)
};

struct DecoderSpec {
  ops::RopeParams rope;
  ops::RopeParams rope_local;  // for layers with local_rope
  AttentionShape attn;        // the window is per layer
  float embd_scale = 1.f;     // token embeddings are multiplied by it (gemma2: sqrt(n_embd))
  float final_softcap = 0.f;  // > 0: logits = cap * tanh(logits / cap)
  FfnActivation act = FfnActivation::kSilu;
  MoeSpec moe;                // routing of the expert layers
};

class DecoderModel : public Model {
 public:
  DecoderModel(const ModelFile& file, const Hparams& hp);

  // Binding, by the architecture's loader.
  Weights& weights() { return weights_; }
  // rope and attention from the hyperparameters (NORM rope unless neox),
  // scale 1/sqrt(head_dim_k).
  void set_defaults(bool neox_rope);

  WeightView tok_embd, output;  // output defaults to tok_embd (tied) when left empty
  const float* output_norm = nullptr;
  std::vector<DecoderLayer> layers;
  DecoderSpec spec;

  void forward(Context& ctx, const int32_t* tokens, int64_t n, bool all_logits, float* logits) const override;
  void decode(Context* const* ctxs, const int32_t* tokens, int64_t n, float* logits) const override;
  void hidden(Context& ctx, const int32_t* tokens, int64_t n, float* out) const override;
  // Paged: the experts get no read-around; each step asks for its routed
  // experts' bytes before computing them.
  void set_paged(bool paged) override;
  // The dense matrices (token embedding or output, attention and FFN
  // projections) of a type and shape with a packed kernel.
  uint64_t packable_bytes() const override;
  Result<void> pack_weights() override;

 protected:
  // Layer l's attention over the normed rows xn: the output projection's
  // result (n, n_embd) in a scratch buffer. The default: Q/K/V projections
  // (+ biases), rope, attention over the cache, output projection.
  // Architectures with another attention (deepseek2's latent attention)
  // override it.
  virtual const float* self_attention(Context& ctx, int64_t l, const float* xn, int64_t n, const RowPlace* rows) const;

 private:
  void logits_of(Context& ctx, const float* x, int64_t first, int64_t n, float* logits) const;
  const float* trunk(Context& ctx, const int32_t* tokens, int64_t n, const RowPlace* rows) const;
  void prefetch_layer(const DecoderLayer& L) const;
  const WeightView& out_matrix() const { return output.data != nullptr ? output : tok_embd; }

  Weights weights_;
  MappedFile packed_;  // the repacked copies
};

// Binds what every decoder has: token_embd, output_norm, output (optional:
// tied), and sizes the layers; checks feed_forward_length.
Result<void> bind_ends(DecoderModel& m);

// Binds the llama-style tensors shared by llama and qwen2: token_embd,
// output_norm, output (optional: tied), per layer attn_norm, attn_q/k/v
// (+ optional biases), attn_output, ffn_norm, ffn_gate/up/down, or with
// expert_count > 0 the router ffn_gate_inp and the experts
// ffn_{gate,up,down}_exps (Mixtral layout).
Result<void> bind_llama_tensors(DecoderModel& m);

// The gemma layout: the llama tensors (tied: an output.weight is an
// error), post_attention_norm and post_ffw_norm per layer, and with
// qk_norms attn_q_norm / attn_k_norm (gemma3).
Result<void> bind_gemma_tensors(DecoderModel& m, bool qk_norms);

// Binds layer b's router and 3-D experts (ffn_gate_inp, ffn_{gate,up,
// down}_exps of width n_ff_exp); sets spec.moe.n_used.
Result<void> bind_experts(DecoderModel& m, const std::string& b, int64_t n_ff_exp, MoeWeights& moe);

// Rows [first, first + count) of w as a matrix of their own (zero-copy):
// the parts of a fused QKV or gate-up matrix.
WeightView row_range(const WeightView& w, int64_t first, int64_t count);

}  // namespace folio
