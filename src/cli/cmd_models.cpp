// Model store commands, as clients of the server's API (like Ollama's):
// folio list | cp SRC DST | rm NAME... | create NAME [-f Modelfile] [-q TYPE]
#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "base/fs.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "engine/options.h"
#include "memory/model_file.h"
#include "store/modelfile.h"
#include "store/name.h"

namespace folio::cli {

using nlohmann::json;

namespace {

std::string ago(const std::string& rfc3339) {
  std::tm tm{};
  if (!strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return rfc3339;
  const double s = std::difftime(std::time(nullptr), timegm(&tm));
  if (s < 60) return "Less than a minute ago";
  if (s < 3600) return strfmt("%d minutes ago", static_cast<int>(s / 60));
  if (s < 86400) return strfmt("%d hours ago", static_cast<int>(s / 3600));
  return strfmt("%d days ago", static_cast<int>(s / 86400));
}

int run_list() {
  auto c = ApiClient::from_env();
  if (!c.ok()) return fail(c.error().message);
  auto r = c->call("GET", "/api/tags", nullptr);
  if (!r.ok()) return fail(r.error().message);
  std::printf("%-40s %-14s %-10s %s\n", "NAME", "ID", "SIZE", "MODIFIED");
  for (const auto& m : (*r)["models"]) {
    std::printf("%-40s %-14s %-10s %s\n", m["name"].get<std::string>().c_str(),
                m["digest"].get<std::string>().substr(0, 12).c_str(), human_bytes(m["size"].get<uint64_t>()).c_str(),
                ago(m["modified_at"].get<std::string>()).c_str());
  }
  return 0;
}

int run_cp(const std::string& src, const std::string& dst) {
  auto c = ApiClient::from_env();
  if (!c.ok()) return fail(c.error().message);
  auto r = c->call("POST", "/api/copy", {{"source", src}, {"destination", dst}});
  if (!r.ok()) return fail(r.error().message);
  std::printf("copied '%s' to '%s'\n", src.c_str(), dst.c_str());
  return 0;
}

int run_rm(const std::vector<std::string>& names) {
  auto c = ApiClient::from_env();
  if (!c.ok()) return fail(c.error().message);
  for (const std::string& n : names) {
    auto r = c->call("DELETE", "/api/delete", {{"model", n}});
    if (!r.ok()) return fail(r.error().message);
    std::printf("deleted '%s'\n", n.c_str());
  }
  return 0;
}

// A Modelfile path value: absolute, ~/..., or relative to the Modelfile.
std::string expand(std::string p, const std::string& base_dir) {
  if (!p.empty() && p[0] == '/') return p;
  while (p.rfind("./", 0) == 0) p.erase(0, 2);
  if (p.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    return std::string(home ? home : "") + p.substr(1);
  }
  return base_dir == "." ? p : base_dir + "/" + p;
}

// The typed JSON of a PARAMETER value (checked by the parser already).
json typed(const std::string& name, const std::string& value) {
  const OptionInfo* info = find_option(name);
  if (info == nullptr || info->type == OptionType::kStringList) return value;
  if (info->type == OptionType::kBool) return to_lower(value) == "true" || value == "1";
  if (info->type == OptionType::kInt) return std::stoll(value);
  return std::stod(value);
}

// A Modelfile's FROM or ADAPTER file, opened once: what is checked is what
// is hashed and sent, whatever happens to the path (a symlink swapped
// after the check) in between. Only a regular file that opens as a GGUF
// gets this far, so a Modelfile cannot bring anything else (a key, a
// device) into the store.
struct LocalFile {
  std::string shown;  // as the Modelfile names it, resolved
  int fd = -1;
  bool adapter = false;
  std::string via_fd() const { return "/proc/self/fd/" + std::to_string(fd); }
};

Result<LocalFile> open_local(const std::string& path, bool adapter) {
  LocalFile f;
  f.shown = path;
  f.adapter = adapter;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (f.fd < 0) return make_error("%s: %s", path.c_str(), std::strerror(errno));
  struct stat st;
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(f.fd);
    return make_error("%s is not a regular file; a Modelfile can bring in only GGUF files", path.c_str());
  }
  if (auto m = ModelFile::open(f.via_fd()); !m.ok()) {
    ::close(f.fd);
    std::string why = m.error().message;  // (naming the file as the user did)
    for (size_t at; (at = why.find(f.via_fd())) != std::string::npos;) why.replace(at, f.via_fd().size(), path);
    return make_error("%s", why.c_str());
  }
  return f;
}

// Makes sure the server has the local file as a blob (hashing it, uploading
// it only if missing) and returns its digest.
Result<std::string> ensure_blob(ApiClient& c, const std::string& local, const std::string& display) {
  std::fprintf(stderr, "hashing %s\n", display.c_str());
  FOLIO_ASSIGN_OR_RETURN(std::string hex, sha256_file(local));
  const std::string digest = "sha256:" + hex;
  FOLIO_ASSIGN_OR_RETURN(int status, c.head("/api/blobs/" + digest));
  if (status == 200) {
    std::fprintf(stderr, "using existing layer %s\n", digest.c_str());
    return digest;
  }
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  int shown = -1;
  FOLIO_TRY(c.upload("/api/blobs/" + digest, local, [&](uint64_t sent, uint64_t total) {
    const int pct = total == 0 ? 100 : static_cast<int>(sent * 100 / total);
    if (!tty || pct == shown) return;
    shown = pct;
    const int bar = pct / 5;
    std::fprintf(stderr, "\rcopying file %s %3d%% %s%s %s/%s ", digest.substr(0, 19).c_str(), pct,
                 std::string(bar, '#').c_str(), std::string(20 - bar, '.').c_str(), human_bytes(sent).c_str(),
                 human_bytes(total).c_str());
  }));
  if (tty) std::fputc('\n', stderr);
  std::fprintf(stderr, "copied %s\n", digest.c_str());
  return digest;
}

int run_create(const std::string& name, const std::string& modelfile_path, const std::string& quantize) {
  std::string path = modelfile_path.empty() ? "Modelfile" : modelfile_path;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(modelfile_path.empty() ? "no Modelfile in this directory; pass one with -f FILE"
                                       : path + ": cannot read the Modelfile");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto mf = parse_modelfile(ss.str());
  if (!mf.ok()) return fail(path + " " + mf.error().message);
  const std::string base_dir = dir_name(path);
  auto c = ApiClient::from_env();
  if (!c.ok()) return fail(c.error().message);

  json req = {{"model", name}};
  if (!quantize.empty()) req["quantize"] = quantize;
  json params = json::object(), messages = json::array(), licenses = json::array();
  // Local files are all checked (present, a GGUF folio can read) before
  // anything is hashed or sent, so a bad Modelfile fails in one line.
  std::vector<LocalFile> files;
  struct CloseAll {
    std::vector<LocalFile>& f;
    ~CloseAll() {
      for (const LocalFile& x : f) ::close(x.fd);
    }
  } close_all{files};
  for (const auto& cmd : mf->commands) {
    const std::string where = path + " (line " + std::to_string(cmd.line) + "): ";
    if (cmd.name == "model" || cmd.name == "adapter") {
      const bool adapter = cmd.name == "adapter";
      const std::string local = expand(cmd.args, base_dir);
      // A FROM value that is no file is a model name (user/model,
      // hf.co/org/repo:tag), unless it can only be a path.
      const bool looks_like_path = cmd.args[0] == '/' || cmd.args[0] == '~' || cmd.args.rfind("./", 0) == 0 ||
                                   cmd.args.rfind("../", 0) == 0 ||
                                   (cmd.args.size() > 5 && cmd.args.compare(cmd.args.size() - 5, 5, ".gguf") == 0) ||
                                   !parse_model_name(cmd.args).ok();
      const bool is_path = adapter || looks_like_path;
      struct stat st;
      if (::stat(local.c_str(), &st) == 0) {
        auto f = open_local(local, adapter);
        if (!f.ok()) return fail(where + f.error().message);
        files.push_back(*f);
      } else if (is_path) {
        return fail(where + (adapter ? "ADAPTER " : "FROM ") + cmd.args + ": no such file");
      } else {
        req["from"] = cmd.args;
      }
    } else if (cmd.name == "template" || cmd.name == "system") {
      req[cmd.name] = cmd.args;
    } else if (cmd.name == "license") {
      licenses.push_back(cmd.args);
    } else if (cmd.name == "message") {
      const size_t sep = cmd.args.find(": ");
      messages.push_back({{"role", cmd.args.substr(0, sep)}, {"content", sep == std::string::npos ? "" : cmd.args.substr(sep + 2)}});
    } else if (cmd.name == "requires" || cmd.name == "renderer" || cmd.name == "parser") {
      req[cmd.name] = cmd.args;
    } else if (cmd.name == "draft") {
      return fail(where + "DRAFT (a draft model for speculative decoding) is not supported yet; remove the line");
    } else {
      const json v = typed(cmd.name, cmd.args);
      if (cmd.name == "stop") params["stop"].push_back(v);
      else params[cmd.name] = v;
    }
  }
  for (const LocalFile& f : files) {
    auto digest = ensure_blob(*c, f.via_fd(), f.shown);
    if (!digest.ok()) return fail(digest.error().message);
    if (f.adapter) req["adapters"][base_name(f.shown)] = *digest;
    else req["files"] = {{base_name(f.shown), *digest}};
  }
  if (!params.empty()) req["parameters"] = params;
  if (!messages.empty()) req["messages"] = messages;
  if (!licenses.empty()) req["license"] = licenses;
  auto r = c->stream("/api/create", req, [](const json& line) {
    if (line.contains("status")) std::fprintf(stderr, "%s\n", line["status"].get<std::string>().c_str());
  });
  if (!r.ok()) return fail(r.error().message);
  return 0;
}

}  // namespace

void add_model_commands(CLI::App& app, int* exit_code) {
  CLI::App* list = app.add_subcommand("list", "List models");
  list->alias("ls");
  list->callback([exit_code] { *exit_code = run_list(); });

  auto cp = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* cpc = app.add_subcommand("cp", "Copy a model");
  cpc->add_option("source", cp->first)->required();
  cpc->add_option("destination", cp->second)->required();
  cpc->callback([cp, exit_code] { *exit_code = run_cp(cp->first, cp->second); });

  auto names = std::make_shared<std::vector<std::string>>();
  CLI::App* rm = app.add_subcommand("rm", "Remove models");
  rm->add_option("model", *names)->required();
  rm->callback([names, exit_code] { *exit_code = run_rm(*names); });

  struct CreateArgs {
    std::string name, file, quantize;
  };
  auto ca = std::make_shared<CreateArgs>();
  CLI::App* create = app.add_subcommand("create", "Create a model from a Modelfile");
  create->add_option("model", ca->name)->required();
  create->add_option("-f,--file", ca->file, "Modelfile (default: ./Modelfile)");
  create->add_option("-q,--quantize", ca->quantize, "Quantize the model (Q4_K_M, Q8_0, ...)");
  create->callback([ca, exit_code] { *exit_code = run_create(ca->name, ca->file, ca->quantize); });
}

}  // namespace folio::cli
