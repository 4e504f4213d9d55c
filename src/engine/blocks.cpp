#include "engine/blocks.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/check.h"
#include "kernels/attention.h"
#include "kernels/gated_act.h"
#include "memory/mapped_file.h"

namespace folio {

namespace {
// Scratch buffer slots used by the blocks (the architectures use 0..7).
constexpr size_t kBufRope = 10, kBufScores = 11, kBufGate = 12, kBufUp = 13, kBufFfnOut = 14;
constexpr size_t kBufRouter = 15, kBufMoeIn = 16, kBufMoeOut = 17;
}  // namespace

namespace {
void add_bias(const float* bias, int64_t n, int64_t width, float* y) {
  if (bias == nullptr) return;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < width; ++r) y[t * width + r] += bias[r];
  }
}
}  // namespace

void linear(Context& ctx, const WeightView& w, const float* bias, const float* x, int64_t n, float* y) {
  matmul(ctx.pool(), w, x, w.n_in, n, y, w.n_out, ctx.matmul_scratch());
  add_bias(bias, n, w.n_out, y);
}

void linear_group(Context& ctx, const LinearOut* outs, int count, const float* x, int64_t n) {
  MatmulOut mo[4];
  FOLIO_CHECK(count >= 1 && count <= 4);
  for (int i = 0; i < count; ++i) mo[i] = {outs[i].w, outs[i].y, outs[i].w->n_out};
  matmul_group(ctx.pool(), mo, count, x, outs[0].w->n_in, n, ctx.matmul_scratch());
  for (int i = 0; i < count; ++i) add_bias(outs[i].bias, n, outs[i].w->n_out, outs[i].y);
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
    store_f16(k + t * kw, kc, kw);
    store_f16(v + t * vw, vc, vw);
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

namespace {
WeightView expert(const WeightView& w, int64_t e) {
  WeightView v = w;
  v.data = w.row(0, e);
  v.n_mat = 1;
  return v;
}
}  // namespace

const float* moe_ffn(Context& ctx, const MoeWeights& w, const MoeSpec& s, FfnActivation act, const float* xn, int64_t n,
                     bool read_ahead, std::vector<int64_t>* experts_used) {
  const int64_t n_expert = w.router.n_out, n_embd = w.experts.down.n_out;
  const int64_t k = std::min<int64_t>(s.n_used, n_expert);
  float* probs = ctx.buffer(kBufRouter, static_cast<size_t>(n * n_expert));
  linear(ctx, w.router, nullptr, xn, n, probs);
  // Per token: the chosen experts and their weights.
  std::vector<int32_t> chosen(static_cast<size_t>(n * k));
  std::vector<float> weight(static_cast<size_t>(n * k));
  std::vector<int32_t> order(static_cast<size_t>(n_expert));
  std::vector<float> key(static_cast<size_t>(n_expert));
  for (int64_t t = 0; t < n; ++t) {
    float* p = probs + t * n_expert;
    if (s.gating == MoeGating::kSoftmax) {
      ops::softmax(p, n_expert);
    } else {
      for (int64_t e = 0; e < n_expert; ++e) p[e] = 1.f / (1.f + std::exp(-p[e]));
    }
    for (int64_t e = 0; e < n_expert; ++e) {
      key[static_cast<size_t>(e)] = p[e] + (w.selection_bias != nullptr ? w.selection_bias[e] : 0.f);
      order[static_cast<size_t>(e)] = static_cast<int32_t>(e);
    }
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
      return key[static_cast<size_t>(a)] > key[static_cast<size_t>(b)] || (key[static_cast<size_t>(a)] == key[static_cast<size_t>(b)] && a < b);
    });
    float sum = 0;
    for (int64_t i = 0; i < k; ++i) {
      const int32_t e = order[static_cast<size_t>(i)];
      chosen[static_cast<size_t>(t * k + i)] = e;
      weight[static_cast<size_t>(t * k + i)] = p[e];
      sum += p[e];
    }
    for (int64_t i = 0; i < k; ++i) {
      float& wt = weight[static_cast<size_t>(t * k + i)];
      if (s.normalize && sum > 0) wt /= sum;
      wt *= s.scale;
    }
  }
  float* y = ctx.buffer(kBufMoeOut, static_cast<size_t>(n * n_embd));
  std::fill(y, y + n * n_embd, 0.f);
  // The tokens routed to each expert (token, weight), in one pass.
  std::vector<std::vector<std::pair<int64_t, float>>> routed(static_cast<size_t>(n_expert));
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t i = 0; i < k; ++i) {
      const size_t at = static_cast<size_t>(t * k + i);
      routed[static_cast<size_t>(chosen[at])].emplace_back(t, weight[at]);
    }
  }
  if (read_ahead) {
    for (int64_t e = 0; e < n_expert; ++e) {
      if (routed[static_cast<size_t>(e)].empty()) continue;
      for (const WeightView* m : {&w.experts.gate, &w.experts.up, &w.experts.down}) {
        advise_range_willneed(m->row(0, e), static_cast<size_t>(m->n_out) * m->row_bytes);
      }
    }
  }
  const int64_t n_in = w.experts.gate.n_in;
  float* xs = ctx.buffer(kBufMoeIn, static_cast<size_t>(n * n_in));
  for (int64_t e = 0; e < n_expert; ++e) {
    const auto& rows = routed[static_cast<size_t>(e)];
    if (rows.empty()) continue;
    if (experts_used != nullptr) (*experts_used)[static_cast<size_t>(e)] += static_cast<int64_t>(rows.size());
    const int64_t m = static_cast<int64_t>(rows.size());
    for (int64_t j = 0; j < m; ++j) {
      const int64_t t = rows[static_cast<size_t>(j)].first;
      std::copy(xn + t * n_in, xn + (t + 1) * n_in, xs + j * n_in);
    }
    const FfnWeights ew{expert(w.experts.gate, e), expert(w.experts.up, e), expert(w.experts.down, e)};
    const float* out = ffn_gated(ctx, ew, act, xs, m);
    for (int64_t j = 0; j < m; ++j) {
      const auto [t, wt] = rows[static_cast<size_t>(j)];
      float* dst = y + t * n_embd;
      for (int64_t i = 0; i < n_embd; ++i) dst[i] += wt * out[j * n_embd + i];
    }
  }
  if (w.shared.gate.data != nullptr) {
    const float* out = ffn_gated(ctx, w.shared, act, xn, n);
    const int64_t n_in = w.shared.gate.n_in;
    for (int64_t t = 0; t < n; ++t) {
      float g = 1.f;
      if (w.shared_gate != nullptr) {
        double dot = 0;
        for (int64_t i = 0; i < n_in; ++i) dot += static_cast<double>(w.shared_gate[i]) * xn[t * n_in + i];
        g = 1.f / (1.f + std::exp(-static_cast<float>(dot)));
      }
      for (int64_t i = 0; i < n_embd; ++i) y[t * n_embd + i] += g * out[t * n_embd + i];
    }
  }
  return y;
}

const float* ffn_gated(Context& ctx, const FfnWeights& w, FfnActivation act, const float* xn, int64_t n) {
  const int64_t n_ff = w.gate.n_out, n_embd = w.down.n_out;
  float* gate = ctx.buffer(kBufGate, static_cast<size_t>(n * n_ff));
  float* up = ctx.buffer(kBufUp, static_cast<size_t>(n * n_ff));
  float* y = ctx.buffer(kBufFfnOut, static_cast<size_t>(n * n_embd));
  const LinearOut gate_up[2] = {{&w.gate, nullptr, gate}, {&w.up, nullptr, up}};
  linear_group(ctx, gate_up, 2, xn, n);
  // The activation on both cores (an exp per value: 8192 per token for a
  // 1B model, serial it left the other core waiting), vectorized.
  const GatedActFn fn = gated_act_kernel(act == FfnActivation::kSilu ? GatedAct::kSilu : GatedAct::kGeluTanh);
  ctx.pool().parallel_for(n * n_ff, [&](int64_t i0, int64_t i1) { fn(gate + i0, up + i0, i1 - i0); });
  linear(ctx, w.down, nullptr, gate, n, y);
  return y;
}

}  // namespace folio
