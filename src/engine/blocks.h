// Transformer blocks shared by the architectures: attention over the KV
// cache and the gated FFN. Shapes in comments: (tokens, width).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/context.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"

namespace folio {

struct AttentionShape {
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim_k = 0;
  int64_t head_dim_v = 0;
  float scale = 1.f;       // applied to q.k before the softmax
  float softcap = 0.f;     // > 0: s = softcap * tanh(s / softcap) (gemma2)
  int64_t window = 0;      // > 0: a query at i sees keys j with i - j < window
};

// Where a row of a batch belongs: the KV cache of its sequence and its
// position there. One sequence's prompt is rows at pos0, pos0 + 1, ... of
// one cache; a batched decode step is one row per sequence, each in its
// own cache at its own position.
struct RowPlace {
  KvCache* kv = nullptr;
  int64_t pos = 0;
};

// Rows at pos0 .. pos0 + n - 1 of ctx's cache.
std::vector<RowPlace> rows_in(Context& ctx, int64_t pos0, int64_t n);

// Rotates q (n, n_head * head_dim_k) and k (n, n_head_kv * head_dim_k) in
// place, row i for position rows[i].pos.
void rope_qk(Context& ctx, const ops::RopeParams& rope, const AttentionShape& s, float* q, float* k, int64_t n,
             const RowPlace* rows);

// Stores row i of k (n, n_head_kv * head_dim_k) and v (n, n_head_kv *
// head_dim_v) in rows[i].kv at rows[i].pos, then attends each query in q
// (n, n_head * head_dim_k) to the keys 0..its position of its cache;
// writes out (n, n_head * head_dim_v). ctx gives the threads and scratch.
// Numerics as llama.cpp with an F16 cache: q and the softmax probabilities
// are rounded to F16 for the products.
void attention(Context& ctx, int64_t layer, const AttentionShape& s, const float* q, const float* k, const float* v,
               int64_t n, const RowPlace* rows, float* out);

// The gated FFN: y (n, n_embd) = down(act(gate(xn)) * up(xn)); SiLU
// (SwiGLU: llama, qwen2, phi3) or GELU with the tanh approximation (GeGLU:
// gemma). Returns y in a scratch buffer of ctx, valid until the next call.
struct FfnWeights {
  WeightView gate, up, down;
};
enum class FfnActivation { kSilu, kGeluTanh };
const float* ffn_gated(Context& ctx, const FfnWeights& w, FfnActivation act, const float* xn, int64_t n);

// Mixture of experts (Mixtral, Qwen MoE, DeepSeek): per token the router
// picks n_used of the experts (3-D gate/up/down, n_mat = n_expert), whose
// gated FFN outputs are summed with the routing weights, plus the shared
// expert when present. Tokens are grouped by expert, so each chosen expert's
// matrices are read once per call and the others not at all (under mmap an
// unrouted expert is never paged in).
struct MoeWeights {
  WeightView router;                    // (n_embd -> n_expert): ffn_gate_inp
  const float* selection_bias = nullptr;  // exp_probs_b: added for the choice only (DeepSeek-V3)
  FfnWeights experts;                   // ffn_{gate,up,down}_exps
  FfnWeights shared;                    // ffn_{gate,up,down}_shexp (gate.data == nullptr: none)
  const float* shared_gate = nullptr;   // ffn_gate_inp_shexp (n_embd): shared output times sigmoid(gate . x) (qwen2moe)
};
enum class MoeGating { kSoftmax, kSigmoid };
struct MoeSpec {
  int64_t n_used = 2;
  MoeGating gating = MoeGating::kSoftmax;
  bool normalize = true;  // the chosen weights divided by their sum
  float scale = 1.f;      // then multiplied by this
};
// Returns y (n, n_embd) in a scratch buffer of ctx. read_ahead: ask the
// kernel for all routed experts' bytes as soon as the routing is known (the
// weights are paged), so their reads overlap the first experts' compute.
// experts_used (optional, n_expert counters) counts the tokens routed to
// each expert.
const float* moe_ffn(Context& ctx, const MoeWeights& w, const MoeSpec& s, FfnActivation act, const float* xn, int64_t n,
                     bool read_ahead = false, std::vector<int64_t>* experts_used = nullptr);

// y (n, w.n_out) = W xn (n, w.n_in) + bias (optional).
void linear(Context& ctx, const WeightView& w, const float* bias, const float* x, int64_t n, float* y);

// Several linear layers of the same input (q, k, v; gate, up) in one pass
// over the threads (matmul_group), each with its optional bias.
struct LinearOut {
  const WeightView* w = nullptr;
  const float* bias = nullptr;
  float* y = nullptr;
};
void linear_group(Context& ctx, const LinearOut* outs, int count, const float* x, int64_t n);

}  // namespace folio
