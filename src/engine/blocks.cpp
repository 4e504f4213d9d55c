#include "engine/blocks.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/attention.h"
#include "tensor/fp16.h"

namespace folio {

namespace {
// Scratch buffer slots used by the blocks (the architectures use 0..7).
constexpr size_t kBufRope = 10, kBufScores = 11, kBufGate = 12, kBufUp = 13, kBufFfnOut = 14;
}  // namespace

void linear(Context& ctx, const WeightView& w, const float* bias, const float* x, int64_t n, float* y) {
  matmul(ctx.pool(), w, x, w.n_in, n, y, w.n_out, ctx.matmul_scratch());
  if (bias == nullptr) return;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < w.n_out; ++r) y[t * w.n_out + r] += bias[r];
  }
}

std::vector<RowPlace> rows_in(Context& ctx, int64_t pos0, int64_t n) {
  std::vector<RowPlace> rows(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) rows[static_cast<size_t>(i)] = {&ctx.kv(), pos0 + i};
  return rows;
}

void rope_qk(Context& ctx, const ops::RopeParams& rope, const AttentionShape& s, float* q, float* k, int64_t n,
             const RowPlace* rows) {
  float* cs = ctx.buffer(kBufRope, static_cast<size_t>(rope.n_rot));
  for (int64_t t = 0; t < n; ++t) {
    ops::rope_cache(rope, rows[t].pos, cs);
    for (int64_t h = 0; h < s.n_head; ++h) ops::rope_apply(rope, cs, q + (t * s.n_head + h) * s.head_dim_k);
    for (int64_t h = 0; h < s.n_head_kv; ++h) ops::rope_apply(rope, cs, k + (t * s.n_head_kv + h) * s.head_dim_k);
  }
}

void attention(Context& ctx, int64_t layer, const AttentionShape& s, const float* q, const float* k, const float* v,
               int64_t n, const RowPlace* rows, float* out) {
  const int64_t kw = s.n_head_kv * s.head_dim_k, vw = s.n_head_kv * s.head_dim_v;
  for (int64_t t = 0; t < n; ++t) {
    uint16_t* kc = rows[t].kv->k(layer, rows[t].pos);
    uint16_t* vc = rows[t].kv->v(layer, rows[t].pos);
    for (int64_t i = 0; i < kw; ++i) kc[i] = f32_to_fp16(k[t * kw + i]);
    for (int64_t i = 0; i < vw; ++i) vc[i] = f32_to_fp16(v[t * vw + i]);
  }
  int64_t n_ctx = 0;
  for (int64_t t = 0; t < n; ++t) n_ctx = std::max(n_ctx, rows[t].kv->n_ctx());
  const int nth = ctx.pool().size();
  const size_t per_thread = static_cast<size_t>(n_ctx + s.head_dim_k);
  float* scores_all = ctx.buffer(kBufScores, static_cast<size_t>(nth) * per_thread);
  const int64_t gqa = s.n_head / s.n_head_kv;
  const AttendFn attend = attend_kernel();
  ctx.pool().run([&](int ith, int nth_) {
    AttendArgs a;
    a.scores = scores_all + static_cast<size_t>(ith) * per_thread;
    a.k_stride = static_cast<size_t>(kw);
    a.v_stride = static_cast<size_t>(vw);
    a.head_dim_k = s.head_dim_k;
    a.head_dim_v = s.head_dim_v;
    a.scale = s.scale;
    a.softcap = s.softcap;
    // Tasks dealt round-robin: under the causal mask later tokens see more
    // keys, so contiguous ranges would leave one thread the longest rows.
    for (int64_t task = ith; task < n * s.n_head; task += nth_) {
      const int64_t t = task / s.n_head, h = task % s.n_head, g = h / gqa;
      KvCache& kv = *rows[t].kv;
      const int64_t pos = rows[t].pos;
      const int64_t first = s.window > 0 && pos - s.window + 1 > 0 ? pos - s.window + 1 : 0;
      a.q = q + (t * s.n_head + h) * s.head_dim_k;
      a.k = kv.k(layer, first) + g * s.head_dim_k;
      a.v = kv.v(layer, first) + g * s.head_dim_v;
      a.n_keys = pos + 1 - first;
      a.out = out + (t * s.n_head + h) * s.head_dim_v;
      attend(a);
    }
  });
}

const float* ffn_gated(Context& ctx, const FfnWeights& w, FfnActivation act, const float* xn, int64_t n) {
  const int64_t n_ff = w.gate.n_out, n_embd = w.down.n_out;
  float* gate = ctx.buffer(kBufGate, static_cast<size_t>(n * n_ff));
  float* up = ctx.buffer(kBufUp, static_cast<size_t>(n * n_ff));
  float* y = ctx.buffer(kBufFfnOut, static_cast<size_t>(n * n_embd));
  linear(ctx, w.gate, nullptr, xn, n, gate);
  linear(ctx, w.up, nullptr, xn, n, up);
  if (act == FfnActivation::kSilu) {
    for (int64_t i = 0; i < n * n_ff; ++i) gate[i] = ops::silu(gate[i]) * up[i];
  } else {
    for (int64_t i = 0; i < n * n_ff; ++i) gate[i] = ops::gelu_tanh(gate[i]) * up[i];
  }
  linear(ctx, w.down, nullptr, gate, n, y);
  return y;
}

}  // namespace folio
