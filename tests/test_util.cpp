#include "test_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace folio::testing {

namespace {
// environ with `extra` ("NAME=value") replacing or adding entries.
std::vector<std::string> merged_env(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  for (char** p = environ; *p; ++p) {
    const std::string e = *p;
    const std::string key = e.substr(0, e.find('='));
    bool replaced = false;
    for (const auto& x : extra) replaced |= x.substr(0, x.find('=')) == key;
    if (!replaced) out.push_back(e);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

void remove_tree(const std::string& path) {
  if (DIR* d = ::opendir(path.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      const std::string child = path + "/" + name;
      if (e->d_type == DT_DIR) remove_tree(child);
      else ::unlink(child.c_str());
    }
    ::closedir(d);
  }
  ::rmdir(path.c_str());
}
}  // namespace

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::string bundled_model_bytes() { return slurp(std::string(FOLIO_MODELS_DIR) + "/stories260K.gguf"); }

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/folio-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() { remove_tree(path_); }

std::vector<std::string> TempDir::list() const { return list_dir(path_); }

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(path.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(name);
    }
    ::closedir(d);
  }
  return out;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<uint8_t> read_file(const std::string& path) {
  const std::string s = slurp(path);
  return std::vector<uint8_t>(s.begin(), s.end());
}

std::string folio_binary() { return FOLIO_BINARY; }

RunResult run_folio(const std::vector<std::string>& args, const std::string& stdin_text,
                    const std::vector<std::string>& env) {
  std::vector<std::string> argv = {FOLIO_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, stdin_text, env);
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(fd);
  return ntohs(sa.sin_port);
}

namespace {

// A peer that closes a connection mid-request must give an error, not kill
// the test binary (as it must not kill folio).
const bool kIgnoreSigpipe = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

// waitpid with a deadline: SIGKILL when it passes. False if it was killed.
bool wait_for(pid_t pid, int* status, double seconds) {
  for (double waited = 0; waited < seconds; waited += 0.01) {
    const pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return true;
    ::usleep(10 * 1000);
  }
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, status, 0) < 0 && errno == EINTR) {
  }
  return false;
}

}  // namespace

ServerProcess::ServerProcess(const std::string& models_dir, const std::vector<std::string>& extra_env)
    : models_dir_(models_dir) {
  char tmpl[] = "/tmp/folio-serve-log-XXXXXX";
  const int log_fd = ::mkstemp(tmpl);
  if (log_fd >= 0) ::close(log_fd);
  log_path_ = tmpl;
  port_ = free_port();
  std::vector<std::string> server_env = env();
  server_env.insert(server_env.end(), extra_env.begin(), extra_env.end());
  std::vector<std::string> env_s = merged_env(server_env);
  std::vector<char*> envp;
  for (auto& x : env_s) envp.push_back(x.data());
  envp.push_back(nullptr);
  std::string bin = FOLIO_BINARY, cmd = "serve";
  char* argv[] = {bin.data(), cmd.data(), nullptr};
  const int log = ::open(log_path_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // The server dies with the test process, even when that one crashes,
    // and holds none of its output pipes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(null, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execve(argv[0], argv, envp.data());
    ::_exit(127);
  }
  ::close(log);
  ::close(null);
  if (pid > 0) pid_ = pid;
  // Ready when the port accepts connections and the server has said it is
  // listening (at most 10 s): it binds first and only then clears what
  // interrupted writers left and prunes, which a test must not race.
  for (int i = 0; i < 200 && pid_ > 0; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(static_cast<uint16_t>(port_));
    const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
                    slurp(log_path_).find(" listening on ") != std::string::npos;
    ::close(fd);
    if (up) {
      ready_ = true;
      break;
    }
    ::usleep(50 * 1000);
  }
}

ServerProcess::~ServerProcess() {
  stop();
  ::unlink(log_path_.c_str());
}

RunResult ServerProcess::stop() {
  RunResult r;
  if (pid_ <= 0) return r;
  ::kill(pid_, SIGTERM);
  int status = 0;
  const bool stopped = wait_for(pid_, &status, 10);
  pid_ = -1;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.err = slurp(log_path_);
  if (!stopped) r.err += "\n(did not stop within 10 s after SIGTERM; killed)\n";
  return r;
}

std::string ServerProcess::log() const { return slurp(log_path_); }

void ServerProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  wait_for(pid_, &status, 10);
  pid_ = -1;
}

std::vector<std::string> ServerProcess::env() const {
  return {"FOLIO_HOST=127.0.0.1:" + std::to_string(port_), "FOLIO_MODELS=" + models_dir_};
}

RunResult run_process(const std::vector<std::string>& argv_in, const std::string& stdin_text,
                      const std::vector<std::string>& env) {
  TempDir io;
  const std::string out_path = io.file("out"), err_path = io.file("err"), in_path = io.file("in");
  write_file(in_path, std::vector<uint8_t>(stdin_text.begin(), stdin_text.end()));
  std::vector<std::string> argv_s = argv_in;
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  RunResult r;
  std::vector<std::string> env_s = merged_env(env);
  std::vector<char*> envp;
  for (auto& x : env_s) envp.push_back(x.data());
  envp.push_back(nullptr);
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    r.err = "spawn failed";
    return r;
  }
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  const bool finished = wait_for(pid, &status, 600);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  if (!finished) r.err += "\n(still running after 600 s; killed)\n";
  return r;
}

}  // namespace folio::testing
