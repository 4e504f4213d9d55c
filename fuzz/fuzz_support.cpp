#include "fuzz_target.h"

#include <filesystem>
#include <system_error>

#include <unistd.h>

#include "base/log.h"

namespace folio::fuzz {

namespace {

std::vector<Target>& registry() {
  static std::vector<Target> r;
  return r;
}

struct Scratch {
  std::string path;
  pid_t owner = 0;
  Scratch() {
    std::error_code ec;
    const auto base = std::filesystem::temp_directory_path(ec);
    std::string tmpl = (ec ? std::string("/tmp") : base.string()) + "/folio-fuzz-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("folio fuzz: mkdtemp");
      std::abort();
    }
    path = tmpl;
    owner = ::getpid();
  }
  ~Scratch() {
    if (::getpid() != owner) return;  // a forked child leaves it to its parent
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

bool register_target(const char* name, TargetFn fn) {
  registry().push_back({name, fn});
  return true;
}

const std::vector<Target>& targets() { return registry(); }

void quiet_logs() { set_log_level(LogLevel::kError); }

const std::string& scratch_dir() {
  static Scratch s;
  return s.path;
}

}  // namespace folio::fuzz
