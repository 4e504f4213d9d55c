// Helpers for tests: temporary directories, files, running the folio binary.
#pragma once

#include <string>
#include <vector>

namespace folio::testing {

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Names of the entries in the directory (no "." or "..").
  std::vector<std::string> list() const;

 private:
  std::string path_;
};

// Names of the entries of any directory (empty if it cannot be read).
std::vector<std::string> list_dir(const std::string& path);
void write_file(const std::string& path, const std::vector<uint8_t>& bytes);
std::vector<uint8_t> read_file(const std::string& path);
// A whole file's bytes as a string ("" when it cannot be read).
std::string slurp(const std::string& path);
// The bundled model's bytes (data/models/stories260K.gguf).
std::string bundled_model_bytes();

struct RunResult {
  int exit_code = -1;    // exit status, or -1 when killed by a signal
  int signal = 0;        // the signal that killed it, 0 if none
  std::string out, err;
};

// Runs argv (argv[0] a path), with stdin_text on its standard input and
// env ("NAME=value") added to the environment, and waits (at most 10
// minutes: then it is killed, so a hang fails the test instead of CI).
RunResult run_process(const std::vector<std::string>& argv, const std::string& stdin_text = "",
                      const std::vector<std::string>& env = {});

// Runs the folio binary built with the tests, with args.
RunResult run_folio(const std::vector<std::string>& args, const std::string& stdin_text = "",
                    const std::vector<std::string>& env = {});

// A `folio serve` child on a free loopback port with its own store, stopped
// (SIGTERM, then waited for) on destruction.
class ServerProcess {
 public:
  // extra_env: more NAME=value settings for the server (FOLIO_NUM_PARALLEL...).
  explicit ServerProcess(const std::string& models_dir, const std::vector<std::string>& extra_env = {});
  ~ServerProcess();
  // SIGTERM, then waits (SIGKILL after 10 s): the exit status and, in err,
  // what the server wrote to stderr.
  RunResult stop();
  // SIGKILL, without warning (a crash); waits for it to die.
  void kill();
  // What the server has written to stderr so far.
  std::string log() const;
  int port() const { return port_; }
  bool ready() const { return ready_; }
  // FOLIO_HOST and FOLIO_MODELS for clients of this server.
  std::vector<std::string> env() const;

 private:
  int pid_ = -1;
  int port_ = 0;
  bool ready_ = false;
  std::string models_dir_;
  std::string log_path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// The path of the folio binary built with the tests.
std::string folio_binary();

}  // namespace folio::testing
