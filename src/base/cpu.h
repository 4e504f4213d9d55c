// CPU facts, probed once: physical core count (the default thread count for
// inference: hyperthreads share the memory bandwidth and the FMA units that
// matrix-vector work needs) and SIMD features.
#pragma once

namespace folio {

// Cores this process may run on, counting each physical core once
// (siblings from /sys topology), at least 1.
int physical_cores();

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512dq = false;
  bool avx512vl = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;

  // What kernels/avx512 is compiled for (F, BW, VL, DQ, VNNI, with FMA and
  // F16C): the one test for the AVX-512 kernels' dispatch.
  bool avx512_kernels() const { return avx512f && avx512bw && avx512vl && avx512dq && avx512vnni && fma && f16c; }
};

const CpuFeatures& cpu_features();

}  // namespace folio
