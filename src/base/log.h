// Minimal leveled logging to stderr. Level from FOLIO_DEBUG (1 = debug).
#pragma once

namespace folio {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Prints "folio: <level>: message" to stderr when level >= the current level.
void log_msg(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void set_log_level(LogLevel level);

}  // namespace folio

#define FOLIO_LOG_DEBUG(...) ::folio::log_msg(::folio::LogLevel::kDebug, __VA_ARGS__)
#define FOLIO_LOG_INFO(...) ::folio::log_msg(::folio::LogLevel::kInfo, __VA_ARGS__)
#define FOLIO_LOG_WARN(...) ::folio::log_msg(::folio::LogLevel::kWarn, __VA_ARGS__)
