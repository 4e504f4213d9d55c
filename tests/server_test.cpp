// folio serve and the store commands end to end: a store written by hand in
// Ollama's layout is listed, shown and run; create / cp / rm through the CLI
// against a running server; blob uploads verified; quantized create.
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <fstream>

#include "base/sha256.h"
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
  r = testing::run_folio({"create", "../../etc", "-f", work.file("unknown")}, "", server.env());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("invalid model name"), std::string::npos) << r.err;
  // Nothing was written for any of the failed creates.
  EXPECT_TRUE(models.list().empty() || testing::run_process({"/usr/bin/find", models.path(), "-type", "f"}).out.empty());
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
