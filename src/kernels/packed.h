// Weights repacked at load for the AVX-512 VNNI kernels (Q4_0 and Q8_0),
// when the memory plan says the copy fits (engine/loader). In the GGUF
// layout a kernel that puts 16 rows in the lanes of a vector must gather
// and transpose every block; packed, the same vectors are plain loads.
//
// Layout: the rows in panels of kPackRows; panel p (rows 16p .. 16p+15)
// takes the bytes the 16 rows took (16 x row_bytes) at p x 16 x row_bytes,
// so a panel starts where its first row did. In a panel of nb blocks:
//   [scales: nb x 16 f16, block-major, row within]   32 bytes a block
//   [values: nb x D x 16 dwords]                     64 bytes a dword
// where value dword c (c < D) of block j holds, for each of the 16 rows,
// dword c of that row's qs: Q4_0 (D = 4) bytes 4c..4c+3, values 4c.. in
// the low nibbles and 16+4c.. in the high ones, as stored; Q8_0 (D = 8)
// values 4c..4c+3 plus 128, as unsigned bytes. With nb even every vector
// of a 64-byte aligned panel is aligned.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/types.h"
#include "kernels/dot.h"

namespace folio {

inline constexpr int kPackRows = 16;

// Whether a kernel for packed t exists on this CPU and an n_in x n_out
// matrix fits the layout (n_out a multiple of kPackRows).
bool can_pack(TensorType t, int64_t n_in, int64_t n_out);

// Packs n_out rows of t (src_stride bytes apart) into dst, which holds
// n_out x row_bytes(t, n_in) bytes.
void pack_rows(TensorType t, int64_t n_in, int64_t n_out, const uint8_t* src, size_t src_stride, uint8_t* dst);
// Row r of a packed matrix (as pack_rows wrote it) back in GGUF blocks:
// row_bytes(t, n_in) bytes into row.
void unpack_row(TensorType t, int64_t n_in, const uint8_t* packed, int64_t r, uint8_t* row);

// The TileFn contract over packed weights: w is the first row's panel,
// ws = row_bytes(t, n_in) (the GGUF row size), nr a multiple of
// kPackRows; activations as dot_kernel(t) quantizes them. nullptr: none.
TileFn packed_kernel(TensorType t);
// The scalar reference: each row unpacked, then the reference dot.
TileFn packed_kernel_ref(TensorType t);

}  // namespace folio
