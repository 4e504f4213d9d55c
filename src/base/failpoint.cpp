#include "base/failpoint.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace folio {

void failpoint(std::string_view name) {
  static const std::string armed = [] {
    const char* v = std::getenv("FOLIO_FAILPOINT");
    return std::string(v != nullptr ? v : "");
  }();
  if (armed.empty() || armed != name) return;
  std::fprintf(stderr, "folio: failpoint %s reached\n", armed.c_str());
  std::fflush(stderr);
  for (;;) ::sleep(60);
}

}  // namespace folio
