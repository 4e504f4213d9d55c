// Opens the SIMD target region of a kernel file: every function defined
// from here to kernels/target_end.h is compiled for FOLIO_TARGET (a string
// literal of target features, defined just before the include), nothing
// else in the program is, so the runtime dispatch alone decides what runs.
// Also quiets GCC 12's AVX-512 headers, which start some conversions from
// _mm512_undefined_* values and warn about them as uninitialized (nothing
// of ours is). Include <immintrin.h> after it. No include guard: one
// region per file.
#ifndef FOLIO_TARGET
#error "define FOLIO_TARGET before including kernels/target_begin.h"
#endif
#define FOLIO_PRAGMA_STR(x) #x
#define FOLIO_PRAGMA(x) _Pragma(FOLIO_PRAGMA_STR(x))
#if defined(__clang__)
FOLIO_PRAGMA(clang attribute push(__attribute__((target(FOLIO_TARGET))), apply_to = function))
#else
FOLIO_PRAGMA(GCC push_options)
FOLIO_PRAGMA(GCC target(FOLIO_TARGET))
#endif
#pragma GCC diagnostic push
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"
