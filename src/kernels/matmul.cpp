#include "kernels/matmul.h"

#include <algorithm>

#include "base/check.h"
#include "kernels/dot.h"
#include "kernels/packed.h"
#include "tensor/convert.h"

namespace folio {

namespace {

// Activations of one token chunk stay in the core's L2 cache while the
// weight rows stream past them once per chunk.
constexpr size_t kActChunkBytes = size_t{1} << 20;
// Rows per tile (the kernels' register tile height): a thread's rows start
// at a multiple of it.
constexpr int64_t kRowTile = 4;

// The activations of n_tokens rows of x in k's activation type, in scratch;
// several tokens on all threads (even 4 serially left the other core
// waiting: 2% slower at 4 sequences).
const uint8_t* quantize(ThreadPool& pool, const DotKernel& k, int64_t n_in, const float* x, int64_t x_stride,
                        int64_t n_tokens, MatmulScratch& scratch) {
  const size_t act_row = row_bytes(k.act_type, n_in);
  scratch.act.resize(act_row * static_cast<size_t>(n_tokens));
  uint8_t* act = scratch.act.data();
  if (n_tokens == 1) {
    k.quantize_act(x, act, n_in);
  } else {
    pool.parallel_for(n_tokens, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) k.quantize_act(x + t * x_stride, act + t * act_row, n_in);
    });
  }
  return act;
}

// The kernel for w's rows: packed, panels (a batch) or register tiles.
TileFn kernel_for(const WeightView& w, bool panel) {
  if (w.packed) return packed_kernel(w.type);
  const DotKernel& k = dot_kernel(w.type);
  return panel ? k.gemm : k.tile;
}

// Whether one pass can serve all of outs: the same input width and
// activation type, tile kernels for all, the same path (panels or tiles;
// packed weights take either).
bool one_pass(const MatmulOut* outs, int count, int64_t n_tokens) {
  const DotKernel& k0 = dot_kernel(outs[0].w->type);
  int gemm = 0, plain = 0;
  for (int i = 0; i < count; ++i) {
    const DotKernel& k = dot_kernel(outs[i].w->type);
    if (k.tile == nullptr || k.act_type != k0.act_type || outs[i].w->n_in != outs[0].w->n_in) return false;
    if (!outs[i].w->packed) ++(k.gemm != nullptr ? gemm : plain);
  }
  return n_tokens < kGemmMinTokens || gemm == 0 || plain == 0;
}

}  // namespace

void matmul(ThreadPool& pool, const WeightView& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y,
            int64_t y_stride, MatmulScratch& scratch) {
  const MatmulOut out{&w, y, y_stride};
  matmul_group(pool, &out, 1, x, x_stride, n_tokens, scratch);
}

void matmul_group(ThreadPool& pool, const MatmulOut* outs, int count, const float* x, int64_t x_stride,
                  int64_t n_tokens, MatmulScratch& scratch) {
  FOLIO_CHECK(count >= 1);
  for (int i = 0; i < count; ++i) {
    FOLIO_CHECK(dot_kernel(outs[i].w->type).vec_dot != nullptr);
    FOLIO_CHECK(!outs[i].w->packed || (packed_kernel(outs[i].w->type) != nullptr && outs[i].w->n_out % kPackRows == 0));
  }
  if (count > 1 && !one_pass(outs, count, n_tokens)) {
    for (int i = 0; i < count; ++i) matmul_group(pool, outs + i, 1, x, x_stride, n_tokens, scratch);
    return;
  }
  const DotKernel& k = dot_kernel(outs[0].w->type);
  const int64_t n_in = outs[0].w->n_in;
  const size_t act_row = row_bytes(k.act_type, n_in);
  const uint8_t* act = quantize(pool, k, n_in, x, x_stride, n_tokens, scratch);
  if (k.tile == nullptr && !outs[0].w->packed) {  // count == 1 here
    const WeightView& w = *outs[0].w;
    float* y = outs[0].y;
    const int64_t y_stride = outs[0].y_stride;
    pool.parallel_for(w.n_out, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* row = w.row(r);
        for (int64_t t = 0; t < n_tokens; ++t) y[t * y_stride + r] = k.vec_dot(w.n_in, row, act + t * act_row);
      }
    });
    return;
  }
  // Each thread takes a contiguous run of rows of the matrices side by side
  // (each weight row is read from memory once per chunk of tokens) and
  // walks it in register tiles (packed: whole panels).
  bool panel = n_tokens >= kGemmMinTokens, packed = false;
  for (int i = 0; i < count; ++i) {
    packed = packed || outs[i].w->packed;
    if (!outs[i].w->packed) panel = panel && dot_kernel(outs[i].w->type).gemm != nullptr;
  }
  const int64_t row_tile = panel ? kGemmRows : packed ? kPackRows : kRowTile;
  const int64_t chunk = std::max<int64_t>(kGemmMinTokens, static_cast<int64_t>(kActChunkBytes / act_row) / 8 * 8);
  int64_t tiles = 0;
  for (int i = 0; i < count; ++i) tiles += (outs[i].w->n_out + row_tile - 1) / row_tile;
  pool.run([&](int ith, int nth) {
    const int64_t first = tiles * ith / nth, last = tiles * (ith + 1) / nth;  // this thread's tiles
    if (first >= last) return;
    for (int64_t t0 = 0; t0 < n_tokens; t0 += chunk) {
      const int64_t nt = std::min(chunk, n_tokens - t0);
      int64_t base = 0;  // the first tile of matrix i
      for (int i = 0; i < count && base < last; ++i) {
        const WeightView& w = *outs[i].w;
        const int64_t mine = (w.n_out + row_tile - 1) / row_tile;
        const int64_t r0 = std::min(w.n_out, (std::max(first, base) - base) * row_tile);
        const int64_t r1 = std::min(w.n_out, (std::min(last, base + mine) - base) * row_tile);
        base += mine;
        if (r0 >= r1) continue;
        kernel_for(w, panel)(n_in, w.row(r0), w.row_bytes, static_cast<int>(r1 - r0), act + t0 * act_row, act_row, static_cast<int>(nt),
           outs[i].y + t0 * outs[i].y_stride + r0, static_cast<size_t>(outs[i].y_stride));
      }
    }
  });
}

void dequantize_row(const WeightView& w, int64_t r, float* out) {
  const ConvertFns& c = convert_fns(w.type);
  FOLIO_CHECK(c.to_float != nullptr);
  if (!w.packed) return c.to_float(w.row(r), out, w.n_in);
  thread_local std::vector<uint8_t> row;
  row.resize(w.row_bytes);
  unpack_row(w.type, w.n_in, w.data, r, row.data());
  c.to_float(row.data(), out, w.n_in);
}

}  // namespace folio
