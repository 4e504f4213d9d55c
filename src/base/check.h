// FOLIO_CHECK: aborts on a broken invariant (a bug, never a user error).
#pragma once

namespace folio {
[[noreturn]] void check_failed(const char* file, int line, const char* expr);
}  // namespace folio

#define FOLIO_CHECK(cond) \
  ((cond) ? (void)0 : ::folio::check_failed(__FILE__, __LINE__, #cond))
