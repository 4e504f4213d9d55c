#include "kernels/matmul.h"

#include <algorithm>

#include "base/check.h"
#include "kernels/dot.h"
#include "tensor/convert.h"

namespace folio {

namespace {

// Activations of one token chunk stay in the core's L2 cache while the
// weight rows stream past them once per chunk.
constexpr size_t kActChunkBytes = size_t{1} << 20;
// Rows per tile (the kernels' register tile height): a thread's rows start
// at a multiple of it.
constexpr int64_t kRowTile = 4;

}  // namespace

void matmul(ThreadPool& pool, const WeightView& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y,
            int64_t y_stride, MatmulScratch& scratch) {
  const DotKernel& k = dot_kernel(w.type);
  FOLIO_CHECK(k.vec_dot != nullptr);
  const size_t act_row = row_bytes(k.act_type, w.n_in);
  scratch.act.resize(act_row * static_cast<size_t>(n_tokens));
  uint8_t* act = scratch.act.data();
  if (n_tokens == 1) {
    k.quantize_act(x, act, w.n_in);
  } else {
    pool.parallel_for(n_tokens, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) k.quantize_act(x + t * x_stride, act + t * act_row, w.n_in);
    });
  }
  if (k.tile == nullptr) {
    pool.parallel_for(w.n_out, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* row = w.row(r);
        for (int64_t t = 0; t < n_tokens; ++t) y[t * y_stride + r] = k.vec_dot(w.n_in, row, act + t * act_row);
      }
    });
    return;
  }
  // Each thread takes a contiguous run of rows (each weight row is read
  // from memory once per chunk of tokens) and walks it in register tiles.
  const bool panel = k.gemm != nullptr && n_tokens >= kGemmMinTokens;
  const TileFn fn = panel ? k.gemm : k.tile;
  const int64_t row_tile = panel ? kGemmRows : kRowTile;
  const int64_t chunk = std::max<int64_t>(kGemmMinTokens, static_cast<int64_t>(kActChunkBytes / act_row) / 8 * 8);
  const int64_t tiles = (w.n_out + row_tile - 1) / row_tile;
  pool.run([&](int ith, int nth) {
    const int64_t r0 = std::min(w.n_out, tiles * ith / nth * row_tile);
    const int64_t r1 = std::min(w.n_out, tiles * (ith + 1) / nth * row_tile);
    if (r0 >= r1) return;
    for (int64_t t0 = 0; t0 < n_tokens; t0 += chunk) {
      const int64_t nt = std::min(chunk, n_tokens - t0);
      fn(w.n_in, w.row(r0), w.row_bytes, static_cast<int>(r1 - r0), act + t0 * act_row, act_row, static_cast<int>(nt),
         y + t0 * y_stride + r0, static_cast<size_t>(y_stride));
    }
  });
}

void dequantize_row(const WeightView& w, int64_t r, float* out) {
  const ConvertFns& c = convert_fns(w.type);
  FOLIO_CHECK(c.to_float != nullptr);
  c.to_float(w.row(r), out, w.n_in);
}

}  // namespace folio
