#include "cli/chat.h"

#include <editline/readline.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <thread>

#include "base/log.h"
#include "base/strings.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "engine/options.h"
#include "server/server.h"

namespace folio::cli {

using nlohmann::json;

namespace {

// Ctrl+C: a flag, and a byte in a pipe so that a read waiting at the
// prompt wakes up whenever the signal came (even just before the read).
volatile sig_atomic_t g_interrupted = 0;
int g_wake[2] = {-1, -1};
void on_sigint(int) {
  const int saved = errno;
  g_interrupted = 1;
  const char c = 1;
  [[maybe_unused]] ssize_t n = ::write(g_wake[1], &c, 1);
  errno = saved;
}

// libedit's character source: stdin, or end of input on Ctrl+C.
int read_key(FILE* in) {
  for (;;) {
    if (g_interrupted) return EOF;
    pollfd p[2] = {{fileno(in), POLLIN, 0}, {g_wake[0], POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return EOF;
    }
    if (p[1].revents != 0) return EOF;  // g_interrupted is set
    unsigned char c = 0;
    const ssize_t n = ::read(fileno(in), &c, 1);
    if (n == 1) return c;
    if (n < 0 && errno == EINTR) continue;
    return EOF;
  }
}

void drain_wake() {
  char buf[64];
  while (::read(g_wake[0], buf, sizeof buf) > 0) {
  }
}

// A server inside this process on 127.0.0.1:<free port>, stopped on
// destruction.
class LocalServer {
 public:
  static Result<std::unique_ptr<LocalServer>> start() {
    FOLIO_ASSIGN_OR_RETURN(SchedulerConfig cfg, SchedulerConfig::from_env());
    auto s = std::unique_ptr<LocalServer>(new LocalServer(cfg));
    FOLIO_TRY(s->server_.bind());
    s->server_.set_request_log(false);
    s->thread_ = std::thread([p = s.get()] { p->server_.run(); });
    return s;
  }
  ~LocalServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return server_.port(); }

 private:
  explicit LocalServer(SchedulerConfig cfg) : server_(Store::default_root(), HostPort{"127.0.0.1", 0}, cfg) {}
  Server server_;
  std::thread thread_;
};

struct Connection {
  std::unique_ptr<LocalServer> local;
  std::unique_ptr<ApiClient> client;
};

// The server at FOLIO_HOST, or one in this process when none answers.
Result<Connection> connect() {
  FOLIO_ASSIGN_OR_RETURN(ApiClient c, ApiClient::from_env());
  Connection conn;
  if (c.call("GET", "/api/version", nullptr).ok()) {
    conn.client = std::make_unique<ApiClient>(std::move(c));
    return conn;
  }
  if (std::getenv("FOLIO_DEBUG") == nullptr) set_log_level(LogLevel::kWarn);
  FOLIO_ASSIGN_OR_RETURN(conn.local, LocalServer::start());
  conn.client = std::make_unique<ApiClient>(ApiClient::at(HostPort{"127.0.0.1", conn.local->port()}));
  return conn;
}

// NAME VALUE... as a request option, typed as the API wants it; the text is
// checked by the engine's set_option (its messages: unknown names with the
// closest known one, wrong types, ranges).
Result<void> set_option_json(json& options, const std::string& name, const std::vector<std::string>& values) {
  Options check;
  for (const std::string& v : values) FOLIO_TRY(set_option(check, name, v));
  const std::string& last = values.back();
  switch (find_option(name)->type) {  // known: set_option accepted it
    case OptionType::kInt: options[name] = std::stoll(last); break;
    case OptionType::kFloat: options[name] = std::stod(last); break;
    case OptionType::kBool: options[name] = to_lower(last) == "true" || last == "1"; break;
    case OptionType::kStringList: options[name] = values; break;
  }
  return {};
}

// -p NAME=VALUE assignments as request options (-p stop=a -p stop=b adds).
Result<json> options_of(const std::vector<std::string>& params) {
  json o = json::object();
  Options check;
  for (const std::string& p : params) {
    FOLIO_TRY(set_option_assignment(check, p));
    const size_t eq = p.find('=');
    const std::string name = p.substr(0, eq);
    std::vector<std::string> values;
    if (find_option(name)->type == OptionType::kStringList && o.contains(name)) {
      values = o[name].get<std::vector<std::string>>();
    }
    values.push_back(p.substr(eq + 1));
    FOLIO_TRY(set_option_json(o, name, values));
  }
  return o;
}

// Go time.Duration text of nanoseconds, as Ollama's --verbose.
std::string duration(int64_t ns) {
  const double s = ns / 1e9;
  if (s >= 1) return strfmt("%.6gs", s);
  if (s >= 1e-3) return strfmt("%.6gms", s * 1e3);
  return strfmt("%.6gµs", s * 1e6);
}

void print_stats(const json& f) {
  const auto n = [&](const char* k) { return f.value(k, int64_t{0}); };
  std::fprintf(stderr, "total duration:       %s\n", duration(n("total_duration")).c_str());
  std::fprintf(stderr, "load duration:        %s\n", duration(n("load_duration")).c_str());
  std::fprintf(stderr, "prompt eval count:    %lld token(s)\n", static_cast<long long>(n("prompt_eval_count")));
  std::fprintf(stderr, "prompt eval duration: %s\n", duration(n("prompt_eval_duration")).c_str());
  if (n("prompt_eval_duration") > 0) {
    std::fprintf(stderr, "prompt eval rate:     %.2f tokens/s\n", n("prompt_eval_count") / (n("prompt_eval_duration") / 1e9));
  }
  std::fprintf(stderr, "eval count:           %lld token(s)\n", static_cast<long long>(n("eval_count")));
  std::fprintf(stderr, "eval duration:        %s\n", duration(n("eval_duration")).c_str());
  if (n("eval_duration") > 0) {
    std::fprintf(stderr, "eval rate:            %.2f tokens/s\n", n("eval_count") / (n("eval_duration") / 1e9));
  }
}

// Streams one request, printing the text; false from keep_going hangs up.
// Returns the final object (null when cut short) and the text.
struct Answer {
  json final;
  std::string text;
  bool interrupted = false;
};

Result<Answer> stream_answer(ApiClient& c, const std::string& path, const json& req) {
  Answer a;
  FOLIO_ASSIGN_OR_RETURN(bool stopped, c.stream_until(path, req, [&](const json& j) {
    if (g_interrupted) return false;
    const std::string piece = j.contains("message") ? j["message"].value("content", "") : j.value("response", "");
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    a.text += piece;
    if (j.value("done", false)) a.final = j;
    return true;
  }));
  a.interrupted = stopped;
  return a;
}

int one_shot(ApiClient& c, const ChatArgs& a, const json& options) {
  std::string prompt;
  if (!isatty(STDIN_FILENO)) prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  for (const std::string& w : a.prompt) prompt += (prompt.empty() ? "" : " ") + w;
  auto r = stream_answer(c, "/api/generate", {{"model", a.model}, {"prompt", prompt}, {"options", options}});
  if (!r.ok()) return fail(r.error().message);
  if (r->text.empty() || r->text.back() != '\n') std::fputc('\n', stdout);
  if (a.verbose && !r->final.is_null()) {
    std::fputc('\n', stderr);
    print_stats(r->final);
  }
  return 0;
}

// The interactive chat (ref: ollama cmd/interactive.go).
class Repl {
 public:
  Repl(ApiClient& c, const ChatArgs& a, json options) : c_(c), model_(a.model), options_(std::move(options)), verbose_(a.verbose) {}

  int run() {
    struct sigaction sa{};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a blocked read returns at Ctrl+C
    if (::pipe2(g_wake, O_NONBLOCK | O_CLOEXEC) != 0) return fail("cannot create a pipe");
    sigaction(SIGINT, &sa, nullptr);
    rl_catch_signals = 0;        // Ctrl+C is ours (on_sigint)
    rl_getc_function = read_key;
    using_history();
    for (;;) {
      g_interrupted = 0;
      drain_wake();
      char* raw = readline(multiline_ ? "... " : ">>> ");
      if (g_interrupted) {  // Ctrl+C at the prompt
        if (raw != nullptr) std::free(raw);
        std::printf("\nUse Ctrl + d or /bye to exit.\n");
        buffer_.clear();
        multiline_ = false;
        continue;
      }
      if (raw == nullptr) {  // Ctrl+D
        std::printf("\n");
        return 0;
      }
      std::string line(raw);
      std::free(raw);
      if (!line.empty() && history_) add_history(line.c_str());
      if (!handle(line)) return 0;
    }
  }

 private:
  // false: /bye.
  bool handle(const std::string& line) {
    if (multiline_) {
      std::string before = line;
      const bool end = before.ends_with("\"\"\"");
      if (end) before.resize(before.size() - 3);
      buffer_ += before;
      if (!end) {
        buffer_ += "\n";
        return true;
      }
      multiline_ = false;
      if (multiline_system_) {
        set_system(buffer_);
        buffer_.clear();
        multiline_system_ = false;
        return true;
      }
    } else if (line.starts_with("\"\"\"")) {
      std::string rest = line.substr(3);
      if (rest.ends_with("\"\"\"") && rest.size() >= 3) {
        buffer_ += rest.substr(0, rest.size() - 3);
      } else {
        buffer_ += rest + "\n";
        multiline_ = true;
        return true;
      }
    } else if (line.starts_with("/")) {
      return command(line);
    } else {
      buffer_ += line;
    }
    if (buffer_.empty()) return true;
    messages_.push_back({{"role", "user"}, {"content", buffer_}});
    buffer_.clear();
    chat_turn();
    return true;
  }

  void chat_turn() {
    json req = {{"model", model_}, {"messages", messages_}, {"options", options_}};
    auto r = stream_answer(c_, "/api/chat", req);
    if (!r.ok()) {
      std::printf("Error: %s\n", r.error().message.c_str());
      messages_.erase(messages_.size() - 1);
      return;
    }
    std::printf("\n\n");
    if (r->interrupted) {
      messages_.erase(messages_.size() - 1);  // as Ollama: a stopped answer is not kept
      return;
    }
    messages_.push_back({{"role", "assistant"}, {"content", r->text}});
    if (verbose_ && !r->final.is_null()) print_stats(r->final);
  }

  void set_system(const std::string& text) {
    system_ = text;
    const json m = {{"role", "system"}, {"content", text}};
    if (!messages_.empty() && messages_.back()["role"] == "system") messages_.back() = m;
    else messages_.push_back(m);
    std::printf("Set system message.\n");
  }

  bool command(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> args;
    for (std::string w; in >> w;) args.push_back(w);
    const std::string& cmd = args[0];
    if (cmd == "/bye" || cmd == "/exit") return false;
    if (cmd == "/?" || cmd == "/help") {
      help(args.size() > 1 ? args[1] : "");
    } else if (cmd == "/clear") {
      messages_.clear();
      if (!system_.empty()) messages_.push_back({{"role", "system"}, {"content", system_}});
      std::printf("Cleared session context\n");
    } else if (cmd == "/set") {
      set(args, line);
    } else if (cmd == "/show") {
      show(args);
    } else if (cmd == "/load") {
      if (args.size() != 2) {
        std::printf("Usage:\n  /load <modelname>\n");
        return true;
      }
      std::printf("Loading model '%s'\n", args[1].c_str());
      auto r = c_.call("POST", "/api/generate", {{"model", args[1]}, {"stream", false}});
      if (!r.ok()) {
        std::printf(r.error().message.find("not found") != std::string::npos ? "Couldn't find model '%s'\n" : "error: %s\n",
                    r.error().message.find("not found") != std::string::npos ? args[1].c_str() : r.error().message.c_str());
        return true;
      }
      model_ = args[1];
      messages_.clear();
      system_.clear();
    } else if (cmd == "/save") {
      if (args.size() != 2) {
        std::printf("Usage:\n  /save <modelname>\n");
        return true;
      }
      json req = {{"model", args[1]}, {"from", model_}, {"messages", messages_}, {"stream", false}};
      if (!options_.empty()) req["parameters"] = options_;
      if (!system_.empty()) req["system"] = system_;
      auto r = c_.call("POST", "/api/create", req);
      if (!r.ok()) {
        std::printf("error: %s\n", r.error().message.c_str());
        return true;
      }
      std::printf("Created new model '%s'\n", args[1].c_str());
    } else {
      std::printf("Unknown command '%s'. Type /? for help\n", cmd.c_str());
    }
    return true;
  }

  void set(const std::vector<std::string>& args, const std::string& line) {
    if (args.size() < 2) return help("set");
    const std::string& what = args[1];
    if (what == "parameter") {
      if (args.size() < 4) return help("parameters");
      std::vector<std::string> values(args.begin() + 3, args.end());
      if (auto r = set_option_json(options_, args[2], values); !r.ok()) {
        std::printf("Couldn't set parameter: \"%s\"\n", r.error().message.c_str());
        return;
      }
      std::string joined;
      for (const auto& v : values) joined += (joined.empty() ? "" : ", ") + v;
      std::printf("Set parameter '%s' to '%s'\n", args[2].c_str(), joined.c_str());
    } else if (what == "system") {
      if (args.size() < 3) return help("set");
      std::string text = line.substr(line.find("system") + 6);
      while (!text.empty() && text.front() == ' ') text.erase(0, 1);
      if (text.starts_with("\"\"\"")) {
        text = text.substr(3);
        if (text.ends_with("\"\"\"")) {
          text.resize(text.size() - 3);
        } else {
          buffer_ = text + "\n";
          multiline_ = multiline_system_ = true;
          return;
        }
      }
      set_system(text);
    } else if (what == "verbose" || what == "quiet") {
      verbose_ = what == "verbose";
      std::printf("Set '%s' mode.\n", what.c_str());
    } else if (what == "history" || what == "nohistory") {
      history_ = what == "history";
      std::printf("Set '%s' mode.\n", what.c_str());
    } else if (what == "wordwrap" || what == "nowordwrap") {
      std::printf("Set '%s' mode.\n", what.c_str());
    } else if (what == "format" || what == "noformat") {
      std::printf("folio does not support output formats yet\n");
    } else {
      std::printf("Unknown command '/set %s'. Type /? for help\n", what.c_str());
    }
  }

  void show(const std::vector<std::string>& args) {
    if (args.size() < 2) return help("show");
    auto r = c_.call("POST", "/api/show", {{"model", model_}});
    if (!r.ok()) {
      std::printf("error: couldn't get model\n");
      return;
    }
    const json& j = *r;
    const auto text = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
    const std::string& what = args[1];
    if (what == "info") {
      print_model_info(j);
    } else if (what == "license") {
      std::printf("%s\n", text("license").empty() ? "No license was specified for this model." : text("license").c_str());
    } else if (what == "modelfile") {
      std::printf("%s\n", text("modelfile").c_str());
    } else if (what == "parameters") {
      std::printf("Model defined parameters:\n");
      if (text("parameters").empty()) std::printf("  No additional parameters were specified for this model.\n");
      std::istringstream lines(text("parameters"));
      for (std::string l; std::getline(lines, l);) std::printf("  %s\n", l.c_str());
      std::printf("\n");
      if (!options_.empty()) {
        std::printf("User defined parameters:\n");
        for (const auto& [k, v] : options_.items()) std::printf("  %-30s %s\n", k.c_str(), v.dump().c_str());
        std::printf("\n");
      }
    } else if (what == "system") {
      const std::string s = !system_.empty() ? system_ : text("system");
      std::printf("%s\n", s.empty() ? "No system message was specified for this model." : (s + "\n").c_str());
    } else if (what == "template") {
      std::printf("%s\n", text("template").empty() ? "No prompt template was specified for this model." : text("template").c_str());
    } else {
      std::printf("Unknown command '/show %s'. Type /? for help\n", what.c_str());
    }
  }

  void help(const std::string& topic) {
    if (topic == "set") {
      std::fprintf(stderr,
                   "Available Commands:\n  /set parameter ...     Set a parameter\n  /set system <string>   Set system message\n"
                   "  /set history           Enable history\n  /set nohistory         Disable history\n"
                   "  /set verbose           Show LLM stats\n  /set quiet             Disable LLM stats\n\n");
    } else if (topic == "show") {
      std::fprintf(stderr,
                   "Available Commands:\n  /show info         Show details for this model\n"
                   "  /show license      Show model license\n  /show modelfile    Show Modelfile for this model\n"
                   "  /show parameters   Show parameters for this model\n  /show system       Show system message\n"
                   "  /show template     Show prompt template\n\n");
    } else if (topic == "parameters") {
      std::fprintf(stderr,
                   "Available Parameters:\n  /set parameter seed <int>             Random number seed\n"
                   "  /set parameter num_predict <int>      Max number of tokens to predict\n"
                   "  /set parameter top_k <int>            Pick from top k num of tokens\n"
                   "  /set parameter top_p <float>          Pick token based on sum of probabilities\n"
                   "  /set parameter min_p <float>          Pick token based on top token probability * min_p\n"
                   "  /set parameter num_ctx <int>          Set the context size\n"
                   "  /set parameter temperature <float>    Set creativity level\n"
                   "  /set parameter repeat_penalty <float> How strongly to penalize repetitions\n"
                   "  /set parameter repeat_last_n <int>    Set how far back to look for repetitions\n"
                   "  /set parameter stop <string> <string> ...   Set the stop parameters\n\n");
    } else if (topic == "shortcuts") {
      std::fprintf(stderr,
                   "Available keyboard shortcuts:\n  Ctrl + a            Move to the beginning of the line (Home)\n"
                   "  Ctrl + e            Move to the end of the line (End)\n"
                   "  Ctrl + k            Delete the sentence after the cursor\n"
                   "  Ctrl + u            Delete the sentence before the cursor\n"
                   "  Ctrl + w            Delete the word before the cursor\n\n"
                   "  Ctrl + c            Stop the model from responding\n  Ctrl + d            Exit folio (/bye)\n\n");
    } else {
      std::fprintf(stderr,
                   "Available Commands:\n  /set            Set session variables\n  /show           Show model information\n"
                   "  /load <model>   Load a session or model\n  /save <model>   Save your current session\n"
                   "  /clear          Clear session context\n  /bye            Exit\n"
                   "  /?, /help       Help for a command\n  /? shortcuts    Help for keyboard shortcuts\n\n"
                   "Use \"\"\" to begin a multi-line message.\n\n");
    }
  }

  ApiClient& c_;
  std::string model_;
  json options_;
  bool verbose_;
  bool history_ = true;
  std::string system_, buffer_;
  bool multiline_ = false, multiline_system_ = false;
  json messages_ = json::array();
};

}  // namespace

int run_named_model(const ChatArgs& a) {
  auto options = options_of(a.params);
  if (!options.ok()) return fail(options.error().message);
  auto conn = connect();
  if (!conn.ok()) return fail(conn.error().message);
  ApiClient& c = *conn->client;
  // A model the store lacks is pulled first, as Ollama does.
  if (auto r = c.call("POST", "/api/show", {{"model", a.model}}); !r.ok()) {
    if (r.error().message.find("not found") == std::string::npos) return fail(r.error().message);
    if (auto p = transfer(c, "/api/pull", a.model, false); !p.ok()) return fail(p.error().message);
  }
  if (!a.prompt.empty() || !isatty(STDIN_FILENO)) return one_shot(c, a, *options);
  // Load first, as Ollama does, so the first answer does not wait.
  if (auto r = c.call("POST", "/api/generate", {{"model", a.model}, {"options", *options}, {"stream", false}}); !r.ok()) {
    return fail(r.error().message);
  }
  return Repl(c, a, *options).run();
}

}  // namespace folio::cli
