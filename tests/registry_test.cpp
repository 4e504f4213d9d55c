// pull and push (registry/pull.h): the URLs a name resolves to; a push to
// and pull from a real registry (Debian's docker-registry on loopback)
// giving byte-identical blobs and manifest; and, against a registry played
// by this test, a pull cut off half way that resumes without fetching
// again what it had, layers already present not fetched at all, and a
// corrupted blob refused with nothing written.
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/sha256.h"
#include "registry/client.h"
#include "registry/pull.h"
#include "registry/target.h"
#include "store/manifest.h"
#include "fake_registry.h"
#include "test_util.h"

namespace folio {
namespace {

using nlohmann::json;
using testing::ServerProcess;
using testing::TempDir;
namespace fs = std::filesystem;

TEST(Registry, NamesResolveAsOllamasDo) {
  const auto url = [](const std::string& name, bool insecure = false) {
    return registry_target(*parse_model_name(name), insecure).manifest_url();
  };
  EXPECT_EQ(url("llama3.2"), "https://registry.ollama.ai/v2/library/llama3.2/manifests/latest");
  EXPECT_EQ(url("qwen3:0.6b"), "https://registry.ollama.ai/v2/library/qwen3/manifests/0.6b");
  EXPECT_EQ(url("someone/tales:v2"), "https://registry.ollama.ai/v2/someone/tales/manifests/v2");
  EXPECT_EQ(url("example.com/team/m:1"), "https://example.com/v2/team/m/manifests/1");
  EXPECT_EQ(url("example.com/team/m:1", true), "http://example.com/v2/team/m/manifests/1");
  EXPECT_EQ(url("localhost:5000/team/m"), "http://localhost:5000/v2/team/m/manifests/latest");
  EXPECT_EQ(url("127.0.0.1:5000/team/m"), "http://127.0.0.1:5000/v2/team/m/manifests/latest");
  const RegistryTarget t = registry_target(*parse_model_name("llama3.2"), false);
  EXPECT_EQ(t.blob_path("sha256:ab"), "/v2/library/llama3.2/blobs/sha256:ab");
  EXPECT_EQ(t.uploads_path(), "/v2/library/llama3.2/blobs/uploads/");
  EXPECT_TRUE(is_loopback_host("[::1]:5000"));
  EXPECT_FALSE(is_loopback_host("127example.com"));
}

// A self-signed certificate for 127.0.0.1 (no CA of the system signed it).
void write_self_signed(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_sign(x, key, EVP_sha256());
  FILE* f = std::fopen(cert_path.c_str(), "w");
  PEM_write_X509(f, x);
  std::fclose(f);
  f = std::fopen(key_path.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
}

// https is checked against the system's CAs: a registry whose certificate
// none of them signed is refused before any byte of a model is read.
TEST(Registry, AnHttpsRegistryWithAnUntrustedCertificateIsRefused) {
  TempDir dir;
  write_self_signed(dir.file("cert.pem"), dir.file("key.pem"));
  httplib::SSLServer https(dir.file("cert.pem").c_str(), dir.file("key.pem").c_str());
  ASSERT_TRUE(https.is_valid());
  bool served = false;
  https.Get("/v2/test/m/manifests/v1", [&](const httplib::Request&, httplib::Response& res) {
    served = true;
    res.set_content("{}", kMediaManifest);
  });
  const int port = https.bind_to_any_port("127.0.0.1");
  std::thread t([&] { https.listen_after_bind(); });
  RegistryClient client({"https", "127.0.0.1:" + std::to_string(port), "test/m", "v1"});
  auto r = client.request("GET", client.target().manifest_path());
  https.stop();
  t.join();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot reach the registry at https://127.0.0.1:" + std::to_string(port)),
            std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("its TLS certificate is not signed by a CA this system trusts"), std::string::npos)
      << r.error().message;
  EXPECT_FALSE(served);
}

// Debian's docker-registry (distribution 2.8) on a free loopback port.
class RegistryProcess {
 public:
  RegistryProcess() {
    port_ = testing::free_port();
    const std::string config = dir_.file("config.yml");
    std::ofstream(config) << "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: "
                          << dir_.file("data") << "\nhttp:\n  addr: 127.0.0.1:" << port_ << "\n";
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int null = ::open("/dev/null", O_RDWR);  // (its access log)
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execl("/usr/bin/docker-registry", "docker-registry", "serve", config.c_str(), nullptr);
      ::_exit(127);
    }
    httplib::Client c("127.0.0.1", port_);
    for (int i = 0; i < 200 && !ready_; ++i) {
      auto r = c.Get("/v2/");
      ready_ = r && r->status == 200;
      if (!ready_) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~RegistryProcess() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  bool ready() const { return ready_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool ready_ = false;
};

// Every file under dir/blobs and dir/manifests, by path relative to dir.
std::map<std::string, std::string> store_files(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = testing::slurp(e.path().string());
  }
  return out;
}

TEST(Registry, PushThenPullIntoAnEmptyStoreIsByteIdenticalAndRuns) {
  ASSERT_EQ(::access("/usr/bin/docker-registry", X_OK), 0) << "docker-registry is not installed (scripts/install-deps.sh)";
  RegistryProcess registry;
  ASSERT_TRUE(registry.ready());
  TempDir a_dir, b_dir, work;
  ServerProcess a(a_dir.path()), b(b_dir.path());
  ASSERT_TRUE(a.ready() && b.ready());
  testing::write_file(work.file("model.gguf"), testing::read_file(std::string(FOLIO_MODELS_DIR) + "/stories260K.gguf"));
  std::ofstream(work.file("Modelfile")) << "FROM ./model.gguf\nSYSTEM You tell stories.\nPARAMETER temperature 0\n";
  const std::string name = registry.host() + "/test/tales:v1";
  ASSERT_EQ(testing::run_folio({"create", name, "-f", work.file("Modelfile")}, "", a.env()).exit_code, 0);
  testing::RunResult r = testing::run_folio({"push", name}, "", a.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("pushing manifest"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("success"), std::string::npos) << r.err;
  // Pushed again: every blob is already there.
  r = testing::run_folio({"push", name}, "", a.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;

  r = testing::run_folio({"pull", name}, "", b.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* step : {"pulling manifest", "verifying sha256 digest", "writing manifest", "success"}) {
    EXPECT_NE(r.err.find(step), std::string::npos) << step << " in " << r.err;
  }
  EXPECT_EQ(store_files(b_dir.path()), store_files(a_dir.path()));
  httplib::Client c("127.0.0.1", b.port());
  c.set_read_timeout(60);
  auto gen = c.Post("/api/generate",
                    json{{"model", name}, {"prompt", "Once"}, {"stream", false}, {"options", {{"num_predict", 4}}}}.dump(),
                    "application/json");
  ASSERT_TRUE(gen);
  EXPECT_EQ(gen->status, 200) << gen->body;
  // `run` pulls a model the store lacks first, as Ollama does.
  TempDir c_dir;
  ServerProcess c3(c_dir.path());
  ASSERT_TRUE(c3.ready());
  r = testing::run_folio({"run", name, "Once upon a time", "-p", "num_predict=4"}, "", c3.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("pulling manifest"), std::string::npos) << r.err;
  EXPECT_FALSE(r.out.empty());
  EXPECT_EQ(store_files(c_dir.path()), store_files(a_dir.path()));
  // A name the registry does not have: its own words.
  r = testing::run_folio({"pull", registry.host() + "/test/absent"}, "", b.env());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is not in the registry"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("MANIFEST_UNKNOWN"), std::string::npos) << r.err;
  // Pushing a model the store lacks: refused before any upload.
  r = testing::run_folio({"push", registry.host() + "/test/nothing"}, "", b.env());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("model '" + registry.host() + "/test/nothing:latest' not found"), std::string::npos) << r.err;
}

TEST(Registry, AnInterruptedPullResumesWithoutFetchingAgainWhatItHad) {
  testing::FakeRegistry reg;
  TempDir dir;
  Store store(dir.path());
  const ModelName name = *parse_model_name(reg.name());
  reg.cut_ = true;
  auto r = pull_model(store, name, {}, [](const json&) {});
  ASSERT_FALSE(r.ok());
  const uint64_t first = reg.served_;
  EXPECT_GT(first, reg.model_size() / 3);
  EXPECT_FALSE(store.find(name)->has_value()) << "a manifest was written for a pull that failed";
  const std::string partial = *store.blob_path(reg.model_digest()) + "-partial";
  EXPECT_EQ(::access(partial.c_str(), F_OK), 0) << "the partial download was not kept";

  reg.cut_ = false;
  reg.served_ = 0;
  std::vector<std::string> status;
  r = pull_model(store, name, {}, [&](const json& j) { status.push_back(j["status"]); });
  ASSERT_TRUE(r.ok()) << r.error().message;
  // Only what was missing came the second time (the config blob was whole,
  // half of each part of the model was kept).
  EXPECT_LE(reg.served_ + first, reg.model_size() + 4096) << "second pull fetched " << reg.served_;
  EXPECT_LT(reg.served_, reg.model_size());
  EXPECT_EQ(status.front(), "pulling manifest");
  EXPECT_EQ(status.back(), "success");
  EXPECT_EQ(testing::slurp(*store.blob_path(reg.model_digest())), testing::bundled_model_bytes());
  EXPECT_NE(::access(partial.c_str(), F_OK), 0);
  EXPECT_NE(::access((partial + ".parts").c_str(), F_OK), 0);
  auto found = store.find(name);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ(*store.manifest_bytes(**found), reg.manifest());

  // Pulled again: the layers are present, nothing is fetched.
  reg.served_ = 0;
  r = pull_model(store, name, {}, [](const json&) {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(reg.served_, 0u);
}

TEST(Registry, ACorruptedBlobIsRefusedAndNothingIsWritten) {
  testing::FakeRegistry reg;
  TempDir dir;
  Store store(dir.path());
  reg.corrupt_ = true;
  auto r = pull_model(store, *parse_model_name(reg.name()), {}, [](const json&) {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("digest mismatch: " + reg.model_digest()), std::string::npos) << r.error().message;
  EXPECT_FALSE(store.has_blob(reg.model_digest()));
  EXPECT_FALSE(fs::exists(dir.path() + "/manifests"));
  for (const auto& e : fs::directory_iterator(dir.path() + "/blobs")) {
    EXPECT_EQ(e.path().filename().string().find("partial"), std::string::npos) << e.path();
  }
}

}  // namespace
}  // namespace folio
