// AVX-512 attention for one query (see kernels/attention.h).
#pragma once

#include "kernels/attention.h"

namespace folio::avx512 {

void attend(const AttendArgs& a);

}  // namespace folio::avx512
