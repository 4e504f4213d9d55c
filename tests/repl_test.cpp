// `folio run NAME` interactive, through a pseudo-terminal: the >>> prompt,
// a chat turn, /set parameter, /show parameters, Ctrl+C at the prompt,
// /bye and Ctrl+D; and `folio run` without a server (in-process).
#include <gtest/gtest.h>

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "ollama_store.h"
#include "test_util.h"

extern char** environ;

namespace folio {
namespace {

using testing::ServerProcess;

// A child on a pseudo-terminal: what it printed, and its keyboard.
class Terminal {
 public:
  Terminal(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    std::vector<std::string> argv_s = {testing::folio_binary()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) env_s.emplace_back(*e);
    env_s.push_back("TERM=dumb");
    env_s.insert(env_s.end(), env.begin(), env.end());
    std::vector<char*> argv, envp;
    for (auto& a : argv_s) argv.push_back(a.data());
    for (auto& e : env_s) envp.push_back(e.data());
    argv.push_back(nullptr);
    envp.push_back(nullptr);
    pid_ = forkpty(&fd_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
  }
  ~Terminal() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  bool started() const { return pid_ > 0; }
  // Waits (10 s at most) until the line editor has the terminal (canonical
  // mode off), as a person waits for the prompt: an end-of-file key typed
  // while the terminal is still in canonical mode is the line discipline's,
  // not the editor's.
  void wait_for_editor() {
    for (int i = 0; i < 1000; ++i) {
      termios t{};
      if (::tcgetattr(fd_, &t) == 0 && (t.c_lflag & ICANON) == 0) return;
      ::usleep(10 * 1000);
    }
    ADD_FAILURE() << "the line editor never took the terminal";
  }
  void type(const std::string& keys) { ASSERT_EQ(::write(fd_, keys.data(), keys.size()), static_cast<ssize_t>(keys.size())); }
  // Reads until `text` appears after the last expect (30 s at most); the
  // output in between.
  std::string expect(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      const size_t at = out_.find(text, mark_);
      if (at != std::string::npos) {
        std::string seen = out_.substr(mark_, at + text.size() - mark_);
        mark_ = at + text.size();
        return seen;
      }
      const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            deadline - std::chrono::steady_clock::now()).count());
      pollfd p{fd_, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, left) <= 0) break;
      char buf[4096];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      out_.append(buf, static_cast<size_t>(n));
    }
    ADD_FAILURE() << "never saw \"" << text << "\"; output so far:\n" << out_;
    return "";
  }
  // The exit status (waits up to 30 s).
  int wait() {
    for (int i = 0; i < 300; ++i) {
      int status = 0;
      char buf[4096];
      for (;;) {  // drain (never blocking), so the child is not blocked writing
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0 || ::read(fd_, buf, sizeof buf) <= 0) break;
      }
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      ::usleep(100 * 1000);
    }
    return -2;
  }

 private:
  int fd_ = -1;
  pid_t pid_ = -1;
  bool exited_ = false;
  std::string out_;
  size_t mark_ = 0;
};

TEST(Repl, ChatTurnSetShowAndBye) {
  testing::OllamaStore store;
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  Terminal t({"run", "stories"}, server.env());
  ASSERT_TRUE(t.started());
  t.expect(">>> ");
  t.type("Once upon a time\r");
  // The answer (temperature 0, stop "Lily"), then a blank line and the prompt.
  std::string answer = t.expect(">>> ");
  EXPECT_NE(answer.find(", there was a little girl named \r\n\r\n"), std::string::npos) << answer;
  t.type("/set parameter num_predict 3\r");
  EXPECT_NE(t.expect(">>> ").find("Set parameter 'num_predict' to '3'"), std::string::npos);
  t.type("/show parameters\r");
  const std::string shown = t.expect(">>> ");
  EXPECT_NE(shown.find("Model defined parameters:"), std::string::npos) << shown;
  EXPECT_NE(shown.find("stop"), std::string::npos) << shown;
  EXPECT_NE(shown.find("\"Lily\""), std::string::npos) << shown;
  EXPECT_NE(shown.find("User defined parameters:"), std::string::npos) << shown;
  EXPECT_NE(shown.find("num_predict"), std::string::npos) << shown;
  // The parameter applies to the next turn: three tokens.
  t.type("/clear\r");
  EXPECT_NE(t.expect(">>> ").find("Cleared session context"), std::string::npos);
  t.type("Once upon a time\r");
  answer = t.expect(">>> ");
  EXPECT_NE(answer.find(", there was\r\n\r\n"), std::string::npos) << answer;  // three tokens
  // Ctrl+C at the prompt explains how to leave; /bye leaves.
  t.type("\x03");
  EXPECT_NE(t.expect(">>> ").find("Use Ctrl + d or /bye to exit."), std::string::npos);
  t.type("/bye\r");
  EXPECT_EQ(t.wait(), 0);
}

TEST(Repl, CtrlCStopsTheAnswer) {
  testing::OllamaStore store;
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  // A model whose answer runs for minutes (64K context, no end token).
  testing::TempDir work;
  auto r = testing::run_folio({"synth", work.file("long.gguf"), "--preset", "tiny", "--ctx", "65536", "-t", "F32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  testing::write_file(work.file("Modelfile"), [&] {
    const std::string m = "FROM " + work.file("long.gguf") + "\nPARAMETER temperature 0\nPARAMETER num_ctx 65536\n";
    return std::vector<uint8_t>(m.begin(), m.end());
  }());
  r = testing::run_folio({"create", "long", "-f", work.file("Modelfile")}, "", server.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Terminal t({"run", "long"}, server.env());
  ASSERT_TRUE(t.started());
  t.expect(">>> ");
  t.type("Once upon a time\r");
  t.expect("Once upon a time\r\n");  // the echo; then the answer streams
  ::usleep(300 * 1000);
  t.type("\x03");
  t.expect(">>> ");  // back long before the answer could end
  t.type("/bye\r");
  EXPECT_EQ(t.wait(), 0);
  // The server stopped generating: the slot is free.
  r = testing::run_folio({"ps"}, "", server.env());
  EXPECT_NE(r.out.find("long:latest"), std::string::npos) << r.out;
}

TEST(Repl, MultiLineSystemAndCtrlD) {
  testing::OllamaStore store;
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  Terminal t({"run", "stories"}, server.env());
  ASSERT_TRUE(t.started());
  t.expect(">>> ");
  t.type("/set system \"\"\"You tell\r");
  t.expect("... ");
  t.type("stories.\"\"\"\r");
  EXPECT_NE(t.expect(">>> ").find("Set system message."), std::string::npos);
  t.type("/show system\r");
  EXPECT_NE(t.expect(">>> ").find("You tell\r\nstories."), std::string::npos);
  t.type("/nonsense\r");
  EXPECT_NE(t.expect(">>> ").find("Unknown command '/nonsense'. Type /? for help"), std::string::npos);
  t.wait_for_editor();
  t.type("\x04");  // Ctrl+D on an empty line
  EXPECT_EQ(t.wait(), 0);
}

TEST(Repl, RunWithoutAServerUsesTheEngineInProcess) {
  testing::OllamaStore store;
  const int port = testing::free_port();  // nothing listens there
  const std::vector<std::string> env = {"FOLIO_HOST=127.0.0.1:" + std::to_string(port), "FOLIO_MODELS=" + store.dir.path()};
  testing::RunResult r = testing::run_folio({"run", "stories", "Once", "upon", "a", "time"}, "", env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ", there was a little girl named \n");
  EXPECT_EQ(r.err, "");  // no server log lines
  // Piped stdin is the prompt; --verbose prints Ollama's statistics.
  r = testing::run_folio({"run", "stories", "--verbose"}, "Once upon a time", env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ", there was a little girl named \n");
  EXPECT_NE(r.err.find("eval rate:"), std::string::npos) << r.err;
  // A model the store lacks is pulled first; a registry that is not there
  // says so (a loopback port nothing listens on: no network needed).
  r = testing::run_folio({"run", "127.0.0.1:9/x/nope", "hi"}, "", env);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot reach the registry at http://127.0.0.1:9"), std::string::npos) << r.err;
  r = testing::run_folio({"run", "stories", "-p", "temperature=hot", "hi"}, "", env);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("temperature"), std::string::npos) << r.err;
  r = testing::run_folio({"run", "stories", "-p", "temprature=0", "hi"}, "", env);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("did you mean temperature"), std::string::npos) << r.err;
  // A boolean in any case the engine accepts.
  r = testing::run_folio({"run", "stories", "-p", "use_mmap=TRUE", "Once upon a time"}, "", env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Repl, PsAndStop) {
  testing::OllamaStore store;
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  testing::RunResult r = testing::run_folio({"ps"}, "", server.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')).find("NAME"), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  ASSERT_EQ(testing::run_folio({"run", "stories", "Once upon a time"}, "", server.env()).exit_code, 0);
  r = testing::run_folio({"ps"}, "", server.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* col : {"NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL", "MODE", "WEIGHTS IN RAM"}) {
    EXPECT_NE(r.out.find(col), std::string::npos) << col << "\n" << r.out;
  }
  EXPECT_NE(r.out.find("stories:latest"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("100% CPU"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("minutes from now"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mmap"), std::string::npos) << r.out;
  r = testing::run_folio({"stop", "stories"}, "", server.env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_folio({"ps"}, "", server.env());
  EXPECT_EQ(r.out.find("stories"), std::string::npos) << r.out;
  r = testing::run_folio({"stop", "nope"}, "", server.env());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: couldn't find model \"nope\" to stop\n");
}

}  // namespace
}  // namespace folio
