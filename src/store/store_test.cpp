#include "store/store.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/sha256.h"
#include "store/modelfile.h"
#include "store/name.h"
#include "ollama_store.h"
#include "test_util.h"

namespace folio {
namespace {

using testing::TempDir;

TEST(ModelName, ParsesWithOllamasDefaults) {
  auto n = parse_model_name("llama3.2");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->host, "registry.ollama.ai");
  EXPECT_EQ(n->ns, "library");
  EXPECT_EQ(n->model, "llama3.2");
  EXPECT_EQ(n->tag, "latest");
  EXPECT_EQ(n->display(), "llama3.2:latest");
  EXPECT_EQ(n->manifest_path(), "registry.ollama.ai/library/llama3.2/latest");
  auto u = parse_model_name("mike/mistral:7b-q4");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->display(), "mike/mistral:7b-q4");
  auto h = parse_model_name("https://example.com:8080/team/Model_X:v1.2");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->host, "example.com:8080");
  EXPECT_EQ(h->display(), "example.com:8080/team/Model_X:v1.2");
  EXPECT_TRUE(parse_model_name("LLAMA3.2:Latest")->equal_fold(*n));
}

TEST(ModelName, RefusesWhatCouldEscapeTheStore) {
  for (const char* bad : {"", "../x", "a/../../b", "/abs", "x:", ":tag", "a/b/c/d", "na me", "x:a/b", "ns.dots/m",
                          "-dash", "model:ta g", "a\\b", "model\n"}) {
    EXPECT_FALSE(parse_model_name(bad).ok()) << bad;
  }
  auto r = parse_model_name("../etc/passwd");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("must start with a letter, digit or '_'"), std::string::npos) << r.error().message;
}

using testing::OllamaStore;

TEST(Store, ReadsAStoreWrittenAsOllamaWritesIt) {
  OllamaStore o;
  Store s(o.dir.path());
  const std::vector<StoredModel> all = s.list();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].name.display(), "stories:latest");
  EXPECT_EQ(all[0].digest, sha256_hex(o.manifest_text));  // the ID `ollama list` shows
  EXPECT_EQ(all[0].size, 190u + 1185376 + 13 + 35);
  auto found = s.find(*parse_model_name("Stories"));  // case-insensitive
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  const Manifest& m = (*found)->manifest;
  EXPECT_EQ(m.find(kMediaModel)->digest, o.model_digest);
  EXPECT_EQ(*s.read_blob_text(m.find(kMediaTemplate)->digest), "{{ .Prompt }}");
  auto cfg = ModelConfig::parse(*s.read_blob_text(m.config.digest));
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->model_family, "llama");
  EXPECT_EQ(cfg->file_type, "F32");
  // Re-encoding the manifest gives Ollama's bytes back.
  EXPECT_EQ(m.to_json(), o.manifest_text);
  EXPECT_FALSE(s.find(*parse_model_name("stories:other"))->has_value());
}

TEST(Store, CopyAndRemoveKeepSharedBlobs) {
  OllamaStore o;
  Store s(o.dir.path());
  ASSERT_TRUE(s.copy(*parse_model_name("stories"), *parse_model_name("me/tales:v1")).ok());
  ASSERT_EQ(s.list().size(), 2u);
  EXPECT_EQ(s.list()[0].name.display(), "me/tales:v1");
  ASSERT_TRUE(s.remove(*parse_model_name("stories")).ok());
  EXPECT_TRUE(s.has_blob(o.model_digest));  // still used by me/tales:v1
  ASSERT_TRUE(s.remove(*parse_model_name("me/tales:v1")).ok());
  EXPECT_FALSE(s.has_blob(o.model_digest));
  EXPECT_FALSE(s.has_blob(o.config_digest));
  EXPECT_TRUE(s.list().empty());
  auto missing = s.remove(*parse_model_name("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "model 'nope:latest' not found");
}

TEST(Store, PruneDeletesOnlyUnusedBlobsAndNothingWhenInDoubt) {
  OllamaStore o;
  Store s(o.dir.path());
  auto orphan = s.put_blob_bytes("uploaded for a create that failed");
  ASSERT_TRUE(orphan.ok());
  testing::write_file(o.dir.file("blobs/.quantize-123-Q4_0.gguf"), {1, 2, 3});
  testing::write_file(o.dir.file("blobs/notes.txt"), {'x'});  // not ours: kept
  const std::string partial = "blobs/sha256-" + std::string(64, 'c') + "-partial-0";
  testing::write_file(o.dir.file(partial), {'p'});  // an Ollama pull in progress: kept
  // Fresh blobs may belong to a create about to come: kept for an hour.
  auto kept = s.prune();
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, 0u);
  EXPECT_TRUE(s.has_blob(*orphan));
  // An unreadable manifest: its blobs are unknown, so nothing goes.
  ASSERT_EQ(::mkdir(o.dir.file("manifests/registry.ollama.ai/library/broken").c_str(), 0755), 0);
  testing::write_file(o.dir.file("manifests/registry.ollama.ai/library/broken/latest"), {'{'});
  EXPECT_FALSE(s.prune(std::chrono::seconds(0)).ok());
  EXPECT_TRUE(s.has_blob(*orphan));
  ASSERT_EQ(::unlink(o.dir.file("manifests/registry.ollama.ai/library/broken/latest").c_str()), 0);
  auto freed = s.prune(std::chrono::seconds(0));
  ASSERT_TRUE(freed.ok()) << freed.error().message;
  EXPECT_EQ(*freed, 33u + 3u);
  EXPECT_FALSE(s.has_blob(*orphan));
  EXPECT_TRUE(s.has_blob(o.model_digest));
  EXPECT_TRUE(s.has_blob(o.config_digest));
  EXPECT_TRUE(s.find(*parse_model_name("stories"))->has_value());
  EXPECT_EQ(::access(o.dir.file("blobs/notes.txt").c_str(), F_OK), 0);
  EXPECT_NE(::access(o.dir.file("blobs/.quantize-123-Q4_0.gguf").c_str(), F_OK), 0);
  EXPECT_EQ(::access(o.dir.file(partial).c_str(), F_OK), 0);
}

// A manifest of one model layer holding `weights`, its blobs stored.
Manifest one_layer_manifest(Store& s, const std::string& weights) {
  Manifest m;
  m.config = {kMediaConfig, *s.put_blob_bytes("{}"), 2, ""};
  m.layers.push_back({kMediaModel, *s.put_blob_bytes(weights), weights.size(), ""});
  return m;
}

TEST(Store, NamesMatchCaseInsensitivelyPartByPart) {
  TempDir dir;
  Store s(dir.path());
  const Manifest m = one_layer_manifest(s, "weights");
  // Two spellings of one model directory, as a case-sensitive disk allows.
  ASSERT_TRUE(s.put_manifest(*parse_model_name("Foo:a"), m).ok());
  ASSERT_EQ(::mkdir(dir.file("manifests/registry.ollama.ai/library/foo").c_str(), 0755), 0);
  const std::string text = m.to_json();
  testing::write_file(dir.file("manifests/registry.ollama.ai/library/foo/b"), {text.begin(), text.end()});
  for (const char* n : {"foo:b", "FOO:B", "Foo:b", "fOo:A"}) {
    auto f = s.find(*parse_model_name(n));
    ASSERT_TRUE(f.ok() && f->has_value()) << n;
  }
  EXPECT_EQ((*s.find(*parse_model_name("FOO:B")))->name.display(), "foo:b");
  // A new tag goes under the spelling already on disk (the exact one first).
  ASSERT_TRUE(s.put_manifest(*parse_model_name("FOO:c"), m).ok());
  EXPECT_EQ(testing::list_dir(dir.file("manifests/registry.ollama.ai/library")).size(), 2u);
  EXPECT_EQ((*s.find(*parse_model_name("foo:C")))->name.model.size(), 3u);
}

TEST(Store, CopyKeepsTheManifestBytesAndReplacingFreesBlobs) {
  OllamaStore o;
  Store s(o.dir.path());
  ASSERT_TRUE(s.copy(*parse_model_name("stories"), *parse_model_name("twin")).ok());
  EXPECT_EQ((*s.find(*parse_model_name("twin")))->digest, sha256_hex(o.manifest_text));  // the same ID
  ASSERT_TRUE(s.copy(*parse_model_name("stories"), *parse_model_name("STORIES")).ok());  // onto itself: nothing
  EXPECT_EQ(s.list().size(), 2u);
  // Replacing "twin" with another model drops blobs only it used.
  const Manifest m = one_layer_manifest(s, "other weights");
  const std::string other = m.layers[0].digest;
  ASSERT_TRUE(s.put_manifest(*parse_model_name("twin"), m).ok());
  EXPECT_TRUE(s.has_blob(o.model_digest));  // still used by stories
  ASSERT_TRUE(s.put_manifest(*parse_model_name("stories"), m).ok());
  EXPECT_FALSE(s.has_blob(o.model_digest));
  EXPECT_FALSE(s.has_blob(o.template_digest));
  EXPECT_TRUE(s.has_blob(other));
}

TEST(Store, GoJsonMatchesGosEncoder) {
  // Bytes as Go's json.NewEncoder(w).Encode(v) writes them.
  EXPECT_EQ(go_json(R"({"a":"<b> & c"})"), "{\"a\":\"\\u003cb\\u003e \\u0026 c\"}\n");
  EXPECT_EQ(go_json(R"(["\b\f\n\t\\b"])"), "[\"\\u0008\\u000c\\n\\t\\\\b\"]\n");
  EXPECT_EQ(go_json("[\"\xE2\x80\xA8\xE2\x80\xA9\xE2\x82\xAC\"]"), "[\"\\u2028\\u2029\xE2\x82\xAC\"]\n");
  // Unknown config keys survive a parse and a write.
  auto c = ModelConfig::parse(R"({"model_format":"gguf","renderer":"r","capabilities":["completion"],"remote_host":"h"})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->renderer, "r");
  const std::string out = c->to_json();
  EXPECT_NE(out.find(R"("renderer":"r","capabilities":["completion"],"remote_host":"h","architecture")"), std::string::npos)
      << out;
}

TEST(Store, BlobsAreVerifiedAndAtomic) {
  TempDir dir;
  Store s(dir.path());
  auto d = s.put_blob_bytes("hello");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_TRUE(s.has_blob(*d));
  // A wrong expected digest keeps nothing.
  const std::string wrong = "sha256:" + std::string(64, '0');
  size_t calls = 0;
  auto bad = s.put_blob([&](char* buf, size_t) -> Result<size_t> {
    if (calls++) return size_t{0};
    buf[0] = 'x';
    return size_t{1};
  }, wrong);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("digest mismatch"), std::string::npos);
  EXPECT_FALSE(s.has_blob(wrong));
  // Nothing else in blobs/: not the bad upload, not a temporary.
  const auto r = testing::run_process({"/bin/ls", "-A", dir.path() + "/blobs"});
  EXPECT_EQ(r.out, "sha256-" + d->substr(7) + "\n");
  EXPECT_FALSE(s.blob_path("sha256:../../etc/passwd").ok());
  EXPECT_FALSE(s.blob_path("md5:abc").ok());
  // A manifest naming a missing blob is refused.
  Manifest m;
  m.config = {kMediaConfig, *d, 5, ""};
  m.layers.push_back({kMediaModel, wrong, 1, ""});
  EXPECT_FALSE(s.put_manifest(*parse_model_name("x"), m).ok());
}

TEST(Store, WritesOllamasFormatsFieldByField) {
  TempDir dir;
  Store s(dir.path());
  const std::string blob = *s.put_blob_bytes("weights");
  ModelConfig c;
  c.model_family = "llama";
  c.model_families = {"llama"};
  c.model_type = "1.2B";
  c.file_type = "Q4_K_M";
  c.diff_ids = {blob};
  EXPECT_EQ(c.to_json(),
            R"({"model_format":"gguf","model_family":"llama","model_families":["llama"],"model_type":"1.2B","file_type":"Q4_K_M","architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
                blob + R"("]}})" "\n");  // Go's json.Encoder ends with a newline
  const std::string cfg = *s.put_blob_bytes(c.to_json());
  Manifest m;
  m.config = {kMediaConfig, cfg, c.to_json().size(), ""};
  m.layers.push_back({kMediaModel, blob, 7, ""});
  ASSERT_TRUE(s.put_manifest(*parse_model_name("x"), m).ok());
  const std::vector<uint8_t> written = testing::read_file(dir.path() + "/manifests/registry.ollama.ai/library/x/latest");
  EXPECT_EQ(std::string(written.begin(), written.end()),
            R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
                cfg + R"(","size":)" + std::to_string(c.to_json().size()) +
                R"(},"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":")" + blob + R"(","size":7}]})" "\n");
  EXPECT_TRUE(testing::read_file(dir.path() + "/blobs/sha256-" + blob.substr(7)).size() == 7);
}

}  // namespace
}  // namespace folio

namespace folio {
namespace {

TEST(Store, RemovesOnlyTheTemporariesOfDeadProcesses) {
  TempDir dir;
  const std::string blobs = dir.path() + "/blobs", models = dir.path() + "/manifests/registry.ollama.ai/library/m";
  ASSERT_EQ(testing::run_process({"/bin/mkdir", "-p", blobs, models}).exit_code, 0);
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  int status = 0;
  ::waitpid(dead, &status, 0);
  const std::string mine = std::to_string(::getpid()), gone = std::to_string(dead);
  const std::vector<std::string> removed = {blobs + "/.sha256-1.tmp-" + gone + "-abcdef", models + "/.latest.tmp-" + gone + "-x1y2z3",
                                            blobs + "/.quantize-" + gone + "-Q4_0.gguf", blobs + "/.old.tmp-abcdef"};
  const std::vector<std::string> kept = {blobs + "/.sha256-2.tmp-" + mine + "-abcdef", blobs + "/.quantize-" + mine + "-Q8_0.gguf",
                                         blobs + "/sha256-" + std::string(64, 'a'), models + "/latest",
                                         blobs + "/sha256-" + std::string(64, 'b') + "-partial"};
  for (const auto& p : removed) testing::write_file(p, {1});
  for (const auto& p : kept) testing::write_file(p, {1});
  EXPECT_EQ(Store(dir.path()).remove_stale_temporaries(), removed.size());
  for (const auto& p : removed) EXPECT_NE(::access(p.c_str(), F_OK), 0) << p;
  for (const auto& p : kept) EXPECT_EQ(::access(p.c_str(), F_OK), 0) << p;
}

}  // namespace
}  // namespace folio
