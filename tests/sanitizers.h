// FOLIO_ASAN: defined when built with AddressSanitizer, by GCC
// (__SANITIZE_ADDRESS__) or clang (__has_feature(address_sanitizer)).
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define FOLIO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FOLIO_ASAN 1
#endif
#endif
