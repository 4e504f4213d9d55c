// folio serve and the store commands end to end: a store written by hand in
// Ollama's layout is listed, shown and run; create / cp / rm through the CLI
// against a running server; blob uploads verified; quantized create.
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/sha256.h"
#include "gguf/writer.h"
#include "memory/model_file.h"
#include "ollama_store.h"
#include "quantize/recipe.h"
#include "synth/synth.h"
#include "test_util.h"

namespace folio {
namespace {

using nlohmann::json;
using testing::RunResult;
using testing::ServerProcess;
using testing::TempDir;

std::string bundled() { return std::string(FOLIO_MODELS_DIR) + "/stories260K.gguf"; }

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(Server, ListsShowsAndRunsAStoreWrittenAsOllamaWritesIt) {
  testing::OllamaStore store;
  ServerProcess server(store.dir.path());
  ASSERT_TRUE(server.ready());
  const RunResult list = testing::run_folio({"list"}, "", server.env());
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("stories:latest"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(sha256_hex(store.manifest_text).substr(0, 12)), std::string::npos) << list.out;
  const RunResult show = testing::run_folio({"show", "stories"}, "", server.env());
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("architecture        llama"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("quantization        F32"), std::string::npos) << show.out;
  const RunResult tmpl = testing::run_folio({"show", "stories", "--template"}, "", server.env());
  EXPECT_EQ(tmpl.out, "{{ .Prompt }}\n");
  // run uses the model's parameters: temperature 0 and stop "Lily".
  const RunResult run = testing::run_folio({"run", "stories", "Once upon a time"}, "", server.env());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, ", there was a little girl named \n");
}

TEST(Server, CreateCopyRemoveThroughTheCli) {
  TempDir models, work;
  ServerProcess server(models.path());
  ASSERT_TRUE(server.ready());
  std::ofstream(work.file("model.gguf"), std::ios::binary) << std::ifstream(bundled(), std::ios::binary).rdbuf();
  write_text(work.file("Modelfile"),
             "FROM ./model.gguf\nPARAMETER temperature 0\nPARAMETER stop Lily\nSYSTEM You tell stories.\n"
             "LICENSE MIT\nMESSAGE user Tell me a story\n");
  RunResult r = testing::run_folio({"create", "tales", "-f", work.file("Modelfile")}, "", server.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("success"), std::string::npos) << r.err;
  r = testing::run_folio({"show", "tales", "--modelfile"}, "", server.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("SYSTEM You tell stories."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PARAMETER stop Lily"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MESSAGE user Tell me a story"), std::string::npos) << r.out;
  // The printed Modelfile creates the same model again.
  write_text(work.file("Modelfile2"), r.out);
  r = testing::run_folio({"create", "tales2", "-f", work.file("Modelfile2")}, "", server.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string mf1 = testing::run_folio({"show", "tales", "--modelfile"}, "", server.env()).out;
  const std::string mf2 = testing::run_folio({"show", "tales2", "--modelfile"}, "", server.env()).out;
  EXPECT_EQ(mf1.substr(mf1.find("FROM /")), mf2.substr(mf2.find("FROM /")));

  r = testing::run_folio({"cp", "tales", "me/copy:v1"}, "", server.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_folio({"rm", "tales", "tales2"}, "", server.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<uint8_t> model_bytes = testing::read_file(bundled());
  const std::string model_blob = models.path() + "/blobs/sha256-" +
                                 sha256_hex(std::string(model_bytes.begin(), model_bytes.end()));
  EXPECT_EQ(::access(model_blob.c_str(), F_OK), 0) << "a blob still used by me/copy:v1 was deleted";
  r = testing::run_folio({"list"}, "", server.env());
  EXPECT_NE(r.out.find("me/copy:v1"), std::string::npos);
  EXPECT_EQ(r.out.find("tales:latest"), std::string::npos);
  r = testing::run_folio({"rm", "me/copy:v1"}, "", server.env());
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(::access(model_blob.c_str(), F_OK), 0) << "an unused blob was kept";
  r = testing::run_folio({"rm", "nothing"}, "", server.env());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: model 'nothing:latest' not found\n");
}

TEST(Server, CreateErrorsAreOneLine) {
  TempDir models, work;
  ServerProcess server(models.path());
  ASSERT_TRUE(server.ready());
  write_text(work.file("bad"), "FROM x\nPARAMETER temperature warm\n");
  RunResult r = testing::run_folio({"create", "m", "-f", work.file("bad")}, "", server.env());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: " + work.file("bad") + " (line 2): option temperature expects a number, got 'warm'\n");
  write_text(work.file("missing"), "FROM ./nowhere.gguf\n");
  r = testing::run_folio({"create", "m", "-f", work.file("missing")}, "", server.env());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: " + work.file("missing") + " (line 1): FROM ./nowhere.gguf: no such file\n");
  write_text(work.file("unknown"), "FROM llama9:70b\n");
  r = testing::run_folio({"create", "m", "-f", work.file("unknown")}, "", server.env());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: base model 'llama9:70b' not found\n");
  // A name with a namespace is a model name, not a missing file.
  write_text(work.file("ns"), "FROM someone/tales:v2\n");
  r = testing::run_folio({"create", "m", "-f", work.file("ns")}, "", server.env());
  EXPECT_EQ(r.err, "Error: base model 'someone/tales:v2' not found\n");
  write_text(work.file("draft"), "FROM x\nDRAFT y\n");
  r = testing::run_folio({"create", "m", "-f", work.file("draft")}, "", server.env());
  EXPECT_EQ(r.err, "Error: " + work.file("draft") +
                       " (line 2): DRAFT (a draft model for speculative decoding) is not supported yet; remove the line\n");
  // A Modelfile brings in GGUF files only, whatever a path or symlink
  // points at: not a secret, not a device, not a directory.
  write_text(work.file("secret.txt"), "password=hunter2\n");
  ASSERT_EQ(::symlink(work.file("secret.txt").c_str(), work.file("evil.gguf").c_str()), 0);
  write_text(work.file("smuggle"), "FROM ./evil.gguf\n");
  r = testing::run_folio({"create", "m", "-f", work.file("smuggle")}, "", server.env());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad GGUF file " + work.file("evil.gguf") + ": not a GGUF file"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("hashing"), std::string::npos) << r.err;
  write_text(work.file("device"), "FROM /dev/zero\n");
  r = testing::run_folio({"create", "m", "-f", work.file("device")}, "", server.env());
  EXPECT_EQ(r.err, "Error: " + work.file("device") +
                       " (line 1): /dev/zero is not a regular file; a Modelfile can bring in only GGUF files\n");
  write_text(work.file("adapter"), "FROM ./nowhere.gguf\nADAPTER " + work.path() + "\n");
  r = testing::run_folio({"create", "m", "-f", work.file("adapter")}, "", server.env());
  EXPECT_EQ(r.exit_code, 1);
  r = testing::run_folio({"create", "../../etc", "-f", work.file("unknown")}, "", server.env());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("invalid model name"), std::string::npos) << r.err;
  // Nothing was written for any of the failed creates.
  EXPECT_TRUE(models.list().empty() || testing::run_process({"/usr/bin/find", models.path(), "-type", "f"}).out.empty());
}

// Sends bytes on a fresh connection and returns what comes back until the
// server closes it (or 5 s pass).
// A TCP connection to 127.0.0.1:port, -1 if refused.
int connect_local(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The server still answers.
void expect_serving(httplib::Client& c) {
  auto alive = c.Get("/api/version");
  ASSERT_TRUE(alive);
  EXPECT_EQ(alive->status, 200);
}

std::string raw_request(int port, const std::string& bytes) {
  const int fd = connect_local(port);
  if (fd < 0) return "";
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

// A small LoRA adapter GGUF in llama.cpp's layout (general.type adapter).
void write_lora(const std::string& path) {
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.set_string("general.type", "adapter");
  w.set_string("adapter.type", "lora");
  w.set_f32("adapter.lora.alpha", 16.0f);
  for (const char* name : {"blk.0.attn_q.weight.lora_a", "blk.0.attn_q.weight.lora_b"}) {
    ASSERT_TRUE(w.add_tensor({name, TensorType::kF32, {64, 4}, [](int64_t, int64_t n, uint8_t* dst) -> Result<void> {
                                std::memset(dst, 0, static_cast<size_t>(n) * 64 * sizeof(float));
                                return {};
                              }}).ok());
  }
  ASSERT_TRUE(w.write(path).ok());
}

TEST(Server, AdapterAndRequiresAreStoredAndShown) {
  TempDir models, work;
  ServerProcess server(models.path());
  ASSERT_TRUE(server.ready());
  write_lora(work.file("lora.gguf"));
  write_text(work.file("Modelfile"), "FROM " + bundled() + "\nADAPTER ./lora.gguf\nREQUIRES 0.5.0\n");
  RunResult r = testing::run_folio({"create", "tuned", "-f", work.file("Modelfile")}, "", server.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The adapter is a layer of its own, REQUIRES goes to the config blob.
  const std::string manifest_path = models.path() + "/manifests/registry.ollama.ai/library/tuned/latest";
  const std::vector<uint8_t> mbytes = testing::read_file(manifest_path);
  const json manifest = json::parse(mbytes.begin(), mbytes.end());
  std::string adapter_digest, config_digest = manifest["config"]["digest"];
  for (const auto& l : manifest["layers"]) {
    if (l["mediaType"] == "application/vnd.ollama.image.adapter") adapter_digest = l["digest"];
  }
  const std::vector<uint8_t> lora = testing::read_file(work.file("lora.gguf"));
  EXPECT_EQ(adapter_digest, "sha256:" + sha256_hex(std::string(lora.begin(), lora.end())));
  const std::vector<uint8_t> cbytes = testing::read_file(models.path() + "/blobs/sha256-" + config_digest.substr(7));
  EXPECT_EQ(json::parse(cbytes.begin(), cbytes.end())["requires"], "0.5.0");
  r = testing::run_folio({"show", "tuned", "--modelfile"}, "", server.env());
  EXPECT_NE(r.out.find("ADAPTER " + models.path() + "/blobs/sha256-" + adapter_digest.substr(7)), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("REQUIRES 0.5.0"), std::string::npos) << r.out;
  // A model derived from it keeps both.
  write_text(work.file("Derived"), "FROM tuned\nSYSTEM Be brief.\n");
  ASSERT_EQ(testing::run_folio({"create", "derived", "-f", work.file("Derived")}, "", server.env()).exit_code, 0);
  r = testing::run_folio({"show", "derived", "--modelfile"}, "", server.env());
  EXPECT_NE(r.out.find("ADAPTER "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("REQUIRES 0.5.0"), std::string::npos) << r.out;
  // folio cannot apply adapters yet: run says so instead of ignoring it.
  r = testing::run_folio({"run", "tuned", "hi"}, "", server.env());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: model 'tuned:latest' uses a LoRA adapter (ADAPTER), which folio cannot apply yet; create a "
                   "model without ADAPTER to run its base\n");
  // An adapter that is not GGUF, or missing, is refused in one line.
  write_text(work.file("notgguf.bin"), "not a gguf file at all");
  write_text(work.file("Bad"), "FROM " + bundled() + "\nADAPTER ./notgguf.bin\n");
  r = testing::run_folio({"create", "bad", "-f", work.file("Bad")}, "", server.env());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("Error: " + work.file("Bad") + " (line 2): bad GGUF file " + work.file("notgguf.bin") +
                        ": not a GGUF file: it holds text", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  // A client of the API that uploads it anyway gets a 400.
  httplib::Client http("127.0.0.1", server.port());
  const std::string junk = "not a gguf file at all";
  const std::string junk_digest = "sha256:" + sha256_hex(junk);
  ASSERT_EQ(http.Post(("/api/blobs/" + junk_digest).c_str(), junk, "application/octet-stream")->status, 201);
  const json req = {{"model", "bad"}, {"from", "tuned"}, {"adapters", {{"x.gguf", junk_digest}}}, {"stream", false}};
  auto res = http.Post("/api/create", req.dump(), "application/json");
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("x.gguf: bad GGUF file"), std::string::npos) << res->body;
  // The next server start prunes the blob no model uses (once it is an hour
  // old), and only it.
  const std::string junk_path = models.path() + "/blobs/sha256-" + junk_digest.substr(7);
  ASSERT_EQ(::access(junk_path.c_str(), F_OK), 0);
  const timespec two_hours_ago[2] = {{std::time(nullptr) - 7200, 0}, {std::time(nullptr) - 7200, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, junk_path.c_str(), two_hours_ago, 0), 0);
  const size_t blobs_before = testing::list_dir(models.path() + "/blobs").size();
  {
    ServerProcess again(models.path());
    ASSERT_TRUE(again.ready());
  }
  EXPECT_NE(::access(junk_path.c_str(), F_OK), 0);
  EXPECT_EQ(testing::list_dir(models.path() + "/blobs").size(), blobs_before - 1);
  write_text(work.file("Missing"), "FROM " + bundled() + "\nADAPTER ./gone.gguf\n");
  r = testing::run_folio({"create", "bad", "-f", work.file("Missing")}, "", server.env());
  EXPECT_EQ(r.err, "Error: " + work.file("Missing") + " (line 2): ADAPTER ./gone.gguf: no such file\n");
}

TEST(Server, BlobUploadsAreVerified) {
  TempDir models;
  ServerProcess server(models.path());
  ASSERT_TRUE(server.ready());
  httplib::Client c("127.0.0.1", server.port());
  const std::string body = "some bytes";
  const std::string good = "sha256:" + sha256_hex(body);
  const std::string wrong = "sha256:" + std::string(64, 'a');
  auto head = c.Head(("/api/blobs/" + good).c_str());
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 404);
  auto bad = c.Post(("/api/blobs/" + wrong).c_str(), body, "application/octet-stream");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(json::parse(bad->body)["error"].get<std::string>().find("digest mismatch"), std::string::npos);
  const auto listing = testing::run_process({"/bin/ls", "-A", models.path() + "/blobs"});
  EXPECT_EQ(listing.out, "") << "the bad upload left something behind";
  auto ok = c.Post(("/api/blobs/" + good).c_str(), body, "application/octet-stream");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201);
  EXPECT_EQ(c.Head(("/api/blobs/" + good).c_str())->status, 200);
  EXPECT_EQ(c.Post("/api/blobs/sha256:..x", body, "application/octet-stream")->status, 400);
  EXPECT_GE(c.Post("/api/blobs/sha256:..%2F..%2Fx", body, "application/octet-stream")->status, 400);
  // JSON errors with Ollama's status codes.
  auto parse = c.Post("/api/show", "{not json", "application/json");
  EXPECT_EQ(parse->status, 400);
  EXPECT_TRUE(json::parse(parse->body).contains("error"));
  EXPECT_EQ(c.Post("/api/show", R"({"model":"absent"})", "application/json")->status, 404);
  EXPECT_EQ(c.Get("/api/version")->status, 200);
  EXPECT_EQ(c.Get("/")->body, "Folio is running");
  // Ollama's other spelling of a digest works too.
  EXPECT_EQ(c.Head(("/api/blobs/sha256-" + good.substr(7)).c_str())->status, 200);
  // Bodies other than blob uploads are bounded (httplib would hold them in
  // memory): refused from the headers, before any of the body is read.
  const std::string reply = raw_request(server.port(),
                                        "POST /api/show HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                        "Content-Length: 40000000\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0u) << reply;
  EXPECT_NE(reply.find("request body too large (40 MB; at most 33 MB)"), std::string::npos) << reply;
}

// DNS rebinding and CORS as Ollama guards them: on loopback, a request for
// another host name is refused; browser origins other than the local ones
// (and FOLIO_ORIGINS) are refused; an allowed origin is echoed, and its
// preflight answered.
TEST(Server, RefusesForeignHostsAndOrigins) {
  TempDir models;
  ServerProcess server(models.path(), {"FOLIO_ORIGINS=https://my.app"});
  ASSERT_TRUE(server.ready());
  const std::string rebound = raw_request(server.port(),
                                          "GET /api/tags HTTP/1.1\r\nHost: evil.example.com:11434\r\n"
                                          "Connection: close\r\n\r\n");
  EXPECT_EQ(rebound.rfind("HTTP/1.1 403", 0), 0u) << rebound;
  EXPECT_NE(rebound.find("request for host 'evil.example.com:11434' refused"), std::string::npos) << rebound;
  httplib::Client c("127.0.0.1", server.port());
  auto foreign = c.Get("/api/tags", {{"Origin", "http://evil.example.com"}});
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->status, 403);
  EXPECT_NE(json::parse(foreign->body)["error"].get<std::string>().find("add it to FOLIO_ORIGINS"), std::string::npos);
  for (const char* origin : {"http://localhost:3000", "https://my.app"}) {
    auto local = c.Get("/api/tags", {{"Origin", origin}});
    ASSERT_TRUE(local);
    EXPECT_EQ(local->status, 200) << origin;
    EXPECT_EQ(local->get_header_value("Access-Control-Allow-Origin"), origin);
    auto pre = c.Options("/api/chat", {{"Origin", origin}, {"Access-Control-Request-Method", "POST"}});
    ASSERT_TRUE(pre);
    EXPECT_EQ(pre->status, 204) << origin;
    EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Origin"), origin);
    EXPECT_NE(pre->get_header_value("Access-Control-Allow-Headers").find("Content-Type"), std::string::npos);
  }
  auto plain = c.Get("/api/tags");  // no Origin: not a browser, no CORS headers
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);
  EXPECT_FALSE(plain->has_header("Access-Control-Allow-Origin"));
}

// Hostile or malformed requests get their status and a message naming the
// problem, before any model is looked up, and the server keeps serving.
TEST(Server, HostileRequestsGetTheirStatusAndTheServerKeepsServing) {
  TempDir models;
  ServerProcess server(models.path());
  ASSERT_TRUE(server.ready());
  httplib::Client c("127.0.0.1", server.port());
  struct Case {
    const char* method;
    const char* path;
    const char* body;
    int status;
    const char* message;
  };
  const Case cases[] = {
      {"POST", "/api/generate", R"({"model": 5})", 400, "model must be a string"},
      {"POST", "/api/generate", R"({"model": "absent", "prompt": 7})", 400, "prompt must be a string"},
      {"POST", "/api/generate", R"({"model": "absent", "context": "x"})", 400, "context must be a list of token ids"},
      {"POST", "/api/generate", R"({"model": "absent", "raw": "yes"})", 400, "raw must be true or false"},
      {"POST", "/api/generate", R"({"model": "absent", "format": 3})", 400, "invalid format"},
      {"POST", "/api/chat", R"({"model": "absent", "messages": "hi"})", 400, "messages must be a list"},
      {"POST", "/api/chat", R"({"model": "absent", "top_logprobs": 99})", 400, "top_logprobs must be between 0 and 20"},
      {"POST", "/api/generate", R"({"model": "../../etc/passwd"})", 400, "invalid model name"},
      {"POST", "/api/generate", R"({"model": "/etc/passwd"})", 400, "invalid model name"},
      {"POST", "/api/copy", R"({"source": "a", "destination": "../../x"})", 400, "invalid model name"},
      {"DELETE", "/api/delete", R"({"model": "../../../x"})", 400, "invalid model name"},
      {"POST", "/api/create", R"({"model": "../evil", "from": "x"})", 400, "invalid model name"},
      {"POST", "/api/show", "[1, 2]", 400, "expected a JSON object"},
      {"POST", "/api/show", "{\"model\": ", 400, "expected a JSON object"},
      {"POST", "/api/embed", R"({"model": "absent", "input": {"a": 1}})", 400, "input must be a string or a list of strings"},
      {"POST", "/api/generate", R"({"model": "absent"})", 404, "model 'absent' not found"},
      {"GET", "/api/nope", nullptr, 404, "no route GET /api/nope"},
      {"POST", "/api/tags", "{}", 404, "no route POST /api/tags"},
      {"GET", "/api/blobs/sha256:zzz", nullptr, 400, "invalid digest"},
  };
  for (const Case& k : cases) {
    httplib::Request rq;
    rq.method = k.method;
    rq.path = k.path;
    if (k.body != nullptr) {
      rq.body = k.body;
      rq.set_header("Content-Type", "application/json");
    }
    auto r = c.send(rq);
    ASSERT_TRUE(r) << k.method << " " << k.path;
    EXPECT_EQ(r->status, k.status) << k.method << " " << k.path << " " << (k.body ? k.body : "") << ": " << r->body;
    EXPECT_NE(r->body.find(k.message), std::string::npos) << k.method << " " << k.path << ": " << r->body;
  }
  // 800 KB of nested arrays: refused, not a crash.
  const std::string deep = std::string(400000, '[') + std::string(400000, ']');
  for (const char* path : {"/api/show", "/api/chat", "/v1/chat/completions"}) {
    auto r = c.Post(path, deep, "application/json");
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 400) << path;
  }
  expect_serving(c);
}

// Sends bytes and keeps the connection open without finishing the request;
// returns the socket (the caller closes it).
int stalled_connection(int port, const std::string& bytes) {
  const int fd = connect_local(port);
  if (fd >= 0) (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  return fd;
}

TEST(Server, RequestLimitsAreRefusedWithTheirReasons) {
  TempDir models;
  ServerProcess server(models.path());
  ASSERT_TRUE(server.ready());
  httplib::Client c("127.0.0.1", server.port());
  const auto post = [&](const char* path, const std::string& body) {
    auto r = c.Post(path, body, "application/json");
    EXPECT_TRUE(r) << path;
    return r ? std::make_pair(r->status, r->body) : std::make_pair(0, std::string());
  };
  const auto expect = [&](const char* path, const std::string& body, int status, const std::string& message) {
    const auto [st, text] = post(path, body);
    EXPECT_EQ(st, status) << path << " " << body.substr(0, 200) << ": " << text;
    EXPECT_NE(text.find(message), std::string::npos) << path << ": " << text;
  };
  // Nesting: 100 levels (the object and 99 arrays) are taken, 101 are not.
  std::string ok_deep = R"({"model": "absent", "format": )", too_deep = ok_deep;
  for (int i = 0; i < 99; ++i) ok_deep += "[";
  ok_deep += std::string(99, ']') + "}";
  for (int i = 0; i < 100; ++i) too_deep += "[";
  too_deep += std::string(100, ']') + "}";
  expect("/api/show", ok_deep, 404, "not found");
  expect("/api/chat", too_deep, 400, "request body nests deeper than 100 levels");
  expect("/v1/chat/completions", too_deep, 400, "request body nests deeper than 100 levels");
  // Messages of one chat.
  json many = {{"model", "absent"}, {"messages", json::array()}};
  for (int i = 0; i < 10001; ++i) many["messages"].push_back({{"role", "user"}, {"content", "hi"}});
  expect("/api/chat", many.dump(), 400, "too many messages (10001; at most 10000 in one request)");
  // Option ranges and types.
  expect("/api/generate", R"({"model": "absent", "options": {"num_ctx": 33554432}})", 400,
         "num_ctx must be between 1 and 16777216");
  expect("/api/generate", R"({"model": "absent", "options": {"num_predict": -3}})", 400,
         "num_predict must be between -2 and 16777216");
  expect("/api/generate", R"({"model": "absent", "options": {"num_ctx": 1e300}})", 400, "is out of range");
  expect("/api/generate", R"({"model": "absent", "options": {"num_ctx": 18446744073709551615}})", 400, "out of range");
  expect("/api/generate", R"({"model": "absent", "options": {"num_ctx": 2.5}})", 400, "must be of type integer");
  expect("/api/generate", R"({"model": "absent", "keep_alive": "9999999999h"})", 400, "invalid duration");
  // A body past 32 MiB is refused from its Content-Length, unread.
  std::string reply = raw_request(server.port(), "POST /api/show HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                 "Content-Type: application/json\r\nContent-Length: 40000000\r\n\r\n{");
  EXPECT_NE(reply.find("HTTP/1.1 413"), std::string::npos) << reply;
  EXPECT_NE(reply.find("request body too large (40 MB; at most 33 MB)"), std::string::npos) << reply;
  // A chunked JSON body has no length to check: refused.
  reply = raw_request(server.port(), "POST /api/show HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                                     "Content-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  EXPECT_NE(reply.find("HTTP/1.1 411"), std::string::npos) << reply;
  EXPECT_NE(reply.find("send the request body with a Content-Length"), std::string::npos) << reply;
  // A blob whose bytes do not match its digest: 400, nothing kept.
  const std::string wrong = "sha256:" + std::string(64, 'a');
  auto r = c.Post(("/api/blobs/" + wrong).c_str(), "not those bytes", "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("digest"), std::string::npos) << r->body;
  EXPECT_EQ(c.Head(("/api/blobs/" + wrong).c_str())->status, 404);
  EXPECT_TRUE(testing::run_process({"/usr/bin/find", models.path(), "-type", "f"}).out.empty());
  expect_serving(c);
}

TEST(Server, SlowClientsAreDroppedWhileOthersAreServed) {
  TempDir models;
  ServerProcess server(models.path());
  ASSERT_TRUE(server.ready());
  // Twenty connections that stall: half inside the headers, half inside a
  // body that is never finished.
  std::vector<int> slow;
  for (int i = 0; i < 20; ++i) {
    slow.push_back(stalled_connection(server.port(), i % 2 ? "POST /api/show HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"mo"
                                                           : "GET /api/tags HTTP/1.1\r\nHost: 127."));
    ASSERT_GE(slow.back(), 0);
  }
  // Others are answered meanwhile, at once.
  httplib::Client c("127.0.0.1", server.port());
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c.Get("/api/tags");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  }
  // The stalled ones are closed by the server (its read timeout), not kept.
  for (int fd : slow) {
    timeval tv{20, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    ssize_t n;
    std::string got;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
    EXPECT_EQ(n, 0) << "connection not closed by the server: " << std::strerror(errno);
    ::close(fd);
  }
  expect_serving(c);
}

TEST(Server, CreateStreamsNdjsonAndRefusesBadRequestsUpFront) {
  TempDir models;
  ServerProcess server(models.path());
  ASSERT_TRUE(server.ready());
  httplib::Client c("127.0.0.1", server.port());
  // Wrong on its face: a status code, no stream.
  auto r = c.Post("/api/create", R"({"model":"x"})", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["error"], "neither from nor files names a model");
  r = c.Post("/api/create", R"({"model":"../x","from":"y"})", "application/json");
  EXPECT_EQ(r->status, 400);
  // Found wrong while working: the stream's last line is the error.
  r = c.Post("/api/create", R"({"model":"x","from":"absent"})", "application/json");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/x-ndjson");
  EXPECT_EQ(r->body, "{\"error\":\"base model 'absent:latest' not found\"}\n");
  // Not streamed: the error with its status code.
  r = c.Post("/api/create", R"({"model":"x","from":"absent","stream":false})", "application/json");
  EXPECT_EQ(r->status, 404);
  // A whole create: one JSON object per line, success last.
  const std::vector<uint8_t> gguf = testing::read_file(bundled());
  const std::string bytes(gguf.begin(), gguf.end()), digest = "sha256:" + sha256_hex(bytes);
  ASSERT_EQ(c.Post(("/api/blobs/" + digest).c_str(), bytes, "application/octet-stream")->status, 201);
  r = c.Post("/api/create", json{{"model", "s"}, {"files", {{"s.gguf", digest}}}, {"system", "Hi."}}.dump(),
             "application/json");
  ASSERT_EQ(r->status, 200);
  std::vector<json> lines;
  std::istringstream in(r->body);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  ASSERT_GE(lines.size(), 3u) << r->body;
  EXPECT_EQ(lines.back(), json({{"status", "success"}}));
  EXPECT_EQ(lines[lines.size() - 2], json({{"status", "writing manifest"}}));
}

TEST(Server, QuantizedCreateFollowsTheRecipe) {
  TempDir models, work;
  ServerProcess server(models.path());
  ASSERT_TRUE(server.ready());
  synth::SynthOptions o;
  o.shape = *synth::find_preset("tiny");
  o.quant = "F16";
  o.vocab_path = bundled();
  ASSERT_TRUE(synth::synthesize(o, work.file("f16.gguf")).ok());
  write_text(work.file("Modelfile"), "FROM ./f16.gguf\n");
  RunResult r = testing::run_folio({"create", "tiny-q", "-f", work.file("Modelfile"), "-q", "q4_k_m"}, "", server.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("quantizing F16 model to Q4_K_M"), std::string::npos) << r.err;
  r = testing::run_folio({"show", "tiny-q"}, "", server.env());
  EXPECT_NE(r.out.find("quantization        Q4_K_M"), std::string::npos) << r.out;
  // Per-tensor types as the recipe decides for this shape.
  const json show = json::parse(testing::run_folio({"show", "tiny-q", "--json"}, "", server.env()).out);
  const std::string modelfile = show["modelfile"];
  const size_t from = modelfile.find("\nFROM ") + 6;
  const std::string blob = modelfile.substr(from, modelfile.find('\n', from) - from);
  auto f = ModelFile::open(blob);
  ASSERT_TRUE(f.ok()) << blob << ": " << f.error().message;
  std::vector<RecipeTensor> rt;
  for (const auto& t : f->tensors()) rt.push_back({std::string(t.name), std::vector<int64_t>(t.ne, t.ne + t.n_dims), TensorType::kF32});
  const auto types = choose_types(*parse_recipe("Q4_K_M"), {"llama", 2, 4, 2, 0}, rt);
  for (size_t i = 0; i < rt.size(); ++i) EXPECT_EQ(f->tensors()[i].type, types[i]) << rt[i].name;
  EXPECT_EQ(f->meta().get_int("general.file_type"), 15);
  r = testing::run_folio({"run", "tiny-q", "Once upon a time", "-p", "num_predict=8", "-p", "seed=1", "--verbose"}, "",
                         server.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("eval count:           8 token(s)"), std::string::npos) << r.err;
}

TEST(Server, LogsRequestsAndStopsOnSigterm) {
  TempDir models;
  ServerProcess server(models.path());
  ASSERT_TRUE(server.ready());
  ASSERT_EQ(testing::run_folio({"list"}, "", server.env()).exit_code, 0);
  testing::run_folio({"show", "nothing"}, "", server.env());
  const RunResult r = server.stop();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("listening on 127.0.0.1:" + std::to_string(server.port())), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[folio] 200 | 127.0.0.1 | GET /api/tags\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[folio] 404 | 127.0.0.1 | POST /api/show\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("folio: SIGTERM received, stopping"), std::string::npos) << r.err;
}

TEST(Server, PortInUseAndNoServer) {
  TempDir models;
  ServerProcess server(models.path());
  ASSERT_TRUE(server.ready());
  RunResult r = testing::run_folio({"serve"}, "", server.env());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(server.port())), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("already running"), std::string::npos) << r.err;
  const int port = testing::free_port();
  r = testing::run_folio({"list"}, "", {"FOLIO_HOST=127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("could not connect to a folio server at http://127.0.0.1:" + std::to_string(port)),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find("folio serve"), std::string::npos);
}

}  // namespace
}  // namespace folio
