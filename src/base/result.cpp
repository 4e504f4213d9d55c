#include "base/result.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace folio {

namespace {
std::string vstrfmt(const char* fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, ap2);
  va_end(ap2);
  std::string out(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(out.data(), out.size() + 1, fmt, ap);
  return out;
}
}  // namespace

std::string strfmt(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = vstrfmt(fmt, ap);
  va_end(ap);
  return s;
}

Error make_error(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Error e{vstrfmt(fmt, ap)};
  va_end(ap);
  return e;
}

void check_failed(const char* file, int line, const char* expr) {
  std::fprintf(stderr, "folio: internal error: check failed at %s:%d: %s\n", file, line, expr);
  std::abort();
}

}  // namespace folio
