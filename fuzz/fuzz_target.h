// One fuzz target per fuzz/<name>_fuzz.cpp, written once for two builds:
//   - the libFuzzer build (cmake -DFOLIO_FUZZ=ON, clang): the target is the
//     executable's LLVMFuzzerTestOneInput;
//   - the test build: the target registers itself by name, and
//     tests/fuzz_regression_test.cpp replays fuzz/corpus/<name> and
//     fuzz/regressions/<name> through it under the plain and ASan builds.
// A target returns 0, never throws, and checks its own invariants with
// FUZZ_CHECK (an abort the fuzzer reports as a crash).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace folio::fuzz {

using TargetFn = int (*)(const uint8_t* data, size_t size);

struct Target {
  std::string name;
  TargetFn fn;
};

bool register_target(const char* name, TargetFn fn);
const std::vector<Target>& targets();

// A fresh directory for the process (removed at exit): stores and files a
// target writes.
const std::string& scratch_dir();

// Only errors are logged (warnings about a fuzzed input's odd fields would
// be most of the fuzzer's time and output).
void quiet_logs();

}  // namespace folio::fuzz

#define FUZZ_CHECK(cond)                                                               \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

#ifdef FOLIO_FUZZ_ENTRY
#define FOLIO_FUZZ_TARGET(name)                                                        \
  static int folio_fuzz_##name(const uint8_t* data, size_t size);                      \
  extern "C" int LLVMFuzzerInitialize(int*, char***) {                                 \
    folio::fuzz::quiet_logs();                                                         \
    return 0;                                                                          \
  }                                                                                    \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {            \
    return folio_fuzz_##name(data, size);                                              \
  }                                                                                    \
  static int folio_fuzz_##name(const uint8_t* data, size_t size)
#else
#define FOLIO_FUZZ_TARGET(name)                                                        \
  static int folio_fuzz_##name(const uint8_t* data, size_t size);                      \
  [[maybe_unused]] static const bool folio_fuzz_registered_##name =                    \
      folio::fuzz::register_target(#name, folio_fuzz_##name);                          \
  static int folio_fuzz_##name(const uint8_t* data, size_t size)
#endif
