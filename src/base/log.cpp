#include "base/log.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace folio {

namespace {
LogLevel initial_level() {
  const char* d = std::getenv("FOLIO_DEBUG");
  return (d && *d && *d != '0') ? LogLevel::kDebug : LogLevel::kWarn;
}
std::atomic<LogLevel> g_level{initial_level()};
const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warning";
    case LogLevel::kError: return "error";
  }
  return "?";
}
}  // namespace

void set_log_level(LogLevel level) { g_level = level; }

void log_msg(LogLevel level, const char* fmt, ...) {
  if (level < g_level.load()) return;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "folio: %s: %s\n", level_name(level), buf);
}

}  // namespace folio
