// The API handlers without sockets: (Store, request JSON) -> (status, JSON),
// field names and shapes as Ollama's.
#include "server/api.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

#include "gguf/writer.h"
#include "memory/model_file.h"
#include "synth/synth.h"
#include "template/library.h"
#include "ollama_store.h"

namespace folio {
namespace {

using nlohmann::json;
using testing::OllamaStore;
using testing::TempDir;

TEST(Api, TagsListsModelsInOllamasShape) {
  OllamaStore o;
  Store store(o.dir.path());
  const api::Reply r = api::tags(store);
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.body["models"].size(), 1u);
  const json& m = r.body["models"][0];
  EXPECT_EQ(m["name"], "stories:latest");
  EXPECT_EQ(m["model"], "stories:latest");
  EXPECT_EQ(m["digest"], sha256_hex(o.manifest_text));
  EXPECT_EQ(m["size"], 190 + 1185376 + 13 + 35);
  EXPECT_TRUE(m["modified_at"].get<std::string>().ends_with("Z"));
  EXPECT_EQ(m["details"], json({{"parent_model", ""},
                                {"format", "gguf"},
                                {"family", "llama"},
                                {"families", {"llama"}},
                                {"parameter_size", "293K"},
                                {"quantization_level", "F32"}}));
  TempDir empty;
  EXPECT_EQ(api::tags(Store(empty.path())).body, json({{"models", json::array()}}));
}

TEST(Api, ShowGivesEveryField) {
  OllamaStore o;
  Store store(o.dir.path());
  api::Reply r = api::show(store, {{"model", "Stories"}});  // names match case-insensitively
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["template"], "{{ .Prompt }}");
  EXPECT_EQ(r.body["parameters"], "stop                           \"Lily\"\ntemperature                    0");
  EXPECT_EQ(r.body["capabilities"], json({"completion"}));
  EXPECT_EQ(r.body["model_info"]["general.architecture"], "llama");
  EXPECT_EQ(r.body["model_info"]["llama.embedding_length"], 64);
  EXPECT_FALSE(r.body.contains("tensors"));
  // As Ollama: arrays only when verbose, no general.name or chat template.
  EXPECT_TRUE(r.body["model_info"].contains("tokenizer.ggml.tokens"));
  EXPECT_TRUE(r.body["model_info"]["tokenizer.ggml.tokens"].is_null());
  EXPECT_FALSE(r.body["model_info"].contains("general.name"));
  EXPECT_FALSE(r.body.contains("license"));
  const std::string mf = r.body["modelfile"];
  EXPECT_NE(mf.find("\nFROM " + o.dir.path() + "/blobs/sha256-" + o.model_digest.substr(7) + "\n"), std::string::npos) << mf;
  EXPECT_NE(mf.find("TEMPLATE {{ .Prompt }}\n"), std::string::npos) << mf;
  EXPECT_NE(mf.find("PARAMETER stop Lily\n"), std::string::npos) << mf;
  r = api::show(store, {{"name", "stories"}, {"verbose", true}});  // the old field name works too
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.body["tensors"].is_array());
  EXPECT_EQ(r.body["tensors"][0]["name"], "token_embd.weight");
  EXPECT_TRUE(r.body["model_info"].contains("tokenizer.ggml.tokens"));
  EXPECT_EQ(api::show(store, {{"model", "absent"}}).status, 404);
  EXPECT_EQ(api::show(store, json::object()).status, 400);
  EXPECT_EQ(api::show(store, {{"model", "a/b/c/d"}}).status, 400);
}

TEST(Api, TagsListNewestFirst) {
  OllamaStore o;
  Store store(o.dir.path());
  ASSERT_EQ(api::copy(store, {{"source", "stories"}, {"destination", "a-newer"}}).status, 200);
  const timespec old_times[2] = {{1000000000, 0}, {1000000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, o.dir.file("manifests/registry.ollama.ai/library/stories/latest").c_str(), old_times, 0),
            0);
  const json models = api::tags(store).body["models"];
  ASSERT_EQ(models.size(), 2u);
  EXPECT_EQ(models[0]["name"], "a-newer:latest");
  EXPECT_EQ(models[1]["modified_at"], "2001-09-09T01:46:40Z");
}

TEST(Api, FilesAreSortedByWhatTheyHold) {
  OllamaStore o;
  Store store(o.dir.path());
  // A LoRA adapter GGUF (general.type "adapter") sent among the files.
  TempDir work;
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.set_string("general.type", "adapter");
  w.set_string("adapter.type", "lora");
  ASSERT_TRUE(w.add_tensor({"blk.0.attn_q.weight.lora_a", TensorType::kF32, {64, 4},
                            [](int64_t, int64_t n, uint8_t* dst) -> Result<void> {
                              std::memset(dst, 0, static_cast<size_t>(n) * 64 * 4);
                              return {};
                            }}).ok());
  ASSERT_TRUE(w.write(work.file("lora.gguf")).ok());
  auto lora = store.put_blob_file(work.file("lora.gguf"));
  ASSERT_TRUE(lora.ok());
  const json req = {{"model", "tuned"},
                    {"files", {{"a-lora.gguf", *lora}, {"model.gguf", o.model_digest}}},
                    {"template", "{{ .Suffix }}{{ .Prompt }}"},
                    {"renderer", "r1"},
                    {"parser", "p1"}};
  ASSERT_EQ(api::create(store, req, [](const json&) {}).status, 200);
  const StoredModel m = **store.find(*parse_model_name("tuned"));
  ASSERT_NE(m.manifest.find(kMediaAdapter), nullptr);
  EXPECT_EQ(m.manifest.find(kMediaAdapter)->digest, *lora);
  EXPECT_EQ(m.manifest.find(kMediaModel)->digest, o.model_digest);
  const api::Reply s = api::show(store, {{"model", "tuned"}});
  EXPECT_EQ(s.body["capabilities"], json({"completion", "insert"}));
  const std::string mf = s.body["modelfile"];
  EXPECT_NE(mf.find("RENDERER r1\nPARSER p1\n"), std::string::npos) << mf;
  // A derived model keeps the config's renderer and parser.
  ASSERT_EQ(api::create(store, {{"model", "tuned2"}, {"from", "tuned"}}, [](const json&) {}).status, 200);
  EXPECT_NE(api::show(store, {{"model", "tuned2"}}).body["modelfile"].get<std::string>().find("RENDERER r1\nPARSER p1\n"),
            std::string::npos);
  // Two model files: one line saying what to do.
  const api::Reply two = api::create(
      store, {{"model", "x"}, {"files", {{"a.gguf", o.model_digest}, {"b.gguf", o.model_digest}}}}, [](const json&) {});
  EXPECT_EQ(two.status, 400);
}

TEST(Api, CreateDetectsTheChatTemplateOfAGguf) {
  TempDir work;
  Store store(work.file("models"));
  // A vocabulary carrying a ChatML-style jinja chat template, and a model with it.
  auto src = ModelFile::open(std::string(FOLIO_MODELS_DIR) + "/stories260K.gguf");
  ASSERT_TRUE(src.ok());
  gguf::Writer vocab;
  for (const auto& kv : src->meta().kvs()) {
    if (std::string_view(kv.key).rfind("tokenizer.", 0) == 0) vocab.set_value(kv.key, kv.value);
  }
  const std::string jinja =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
      "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  vocab.set_string("tokenizer.chat_template", jinja);
  ASSERT_TRUE(vocab.write(work.file("vocab.gguf")).ok());
  synth::SynthOptions o;
  o.shape = *synth::find_preset("tiny");
  o.quant = "F32";
  o.vocab_path = work.file("vocab.gguf");
  ASSERT_TRUE(synth::synthesize(o, work.file("m.gguf")).ok());
  auto digest = store.put_blob_file(work.file("m.gguf"));
  ASSERT_TRUE(digest.ok());
  std::vector<std::string> status;
  const api::Reply r = api::create(store, {{"model", "chat"}, {"files", {{"m.gguf", *digest}}}, {"parameters", {{"top_k", 5}}}},
                                   [&](const json& j) { status.push_back(j["status"]); });
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_NE(std::find(status.begin(), status.end(), "using autodetected template chatml"), status.end());
  const api::Reply s = api::show(store, {{"model", "chat"}});
  EXPECT_EQ(s.body["template"], tmpl::find_named_template("chatml")->text);
  // The template's stop strings, with the request's parameters merged over them.
  EXPECT_EQ(s.body["parameters"],
            "stop                           \"<|im_start|>\"\nstop                           \"<|im_end|>\"\n"
            "top_k                          5");
  // A TEMPLATE in the request wins.
  ASSERT_EQ(api::create(store, {{"model", "own"}, {"files", {{"m.gguf", *digest}}}, {"template", "{{ .Prompt }}"}},
                        [](const json&) {}).status, 200);
  EXPECT_EQ(api::show(store, {{"model", "own"}}).body["template"], "{{ .Prompt }}");
}

TEST(Api, CopyAndDeleteStatusCodes) {
  OllamaStore o;
  Store store(o.dir.path());
  EXPECT_EQ(api::copy(store, {{"source", "stories"}}).status, 400);
  EXPECT_EQ(api::copy(store, {{"source", "absent"}, {"destination", "x"}}).status, 404);
  EXPECT_EQ(api::copy(store, {{"source", "stories"}, {"destination", "bad name!"}}).status, 400);
  EXPECT_EQ(api::copy(store, {{"source", "stories"}, {"destination", "x"}}).status, 200);
  EXPECT_EQ(api::remove(store, {{"model", "stories"}}).status, 200);
  EXPECT_EQ(api::remove(store, {{"model", "stories"}}).status, 404);
  EXPECT_EQ(api::tags(store).body["models"][0]["name"], "x:latest");
}

TEST(Api, CreateFromAStoredModelLayersTheRequest) {
  OllamaStore o;
  Store store(o.dir.path());
  std::vector<std::string> progress;
  const json req = {{"model", "kid"},
                    {"from", "stories"},
                    {"system", "Be kind."},
                    {"parameters", {{"num_ctx", 256}, {"stop", {"a", "b"}}}},
                    {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                    {"license", "MIT"}};
  const api::Reply r = api::create(store, req, [&](const json& j) { progress.push_back(j["status"]); });
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body, json({{"status", "success"}}));
  EXPECT_EQ(progress.front(), "using base model stories:latest");
  EXPECT_EQ(progress.back(), "writing manifest");
  const api::Reply s = api::show(store, {{"model", "kid"}});
  EXPECT_EQ(s.body["system"], "Be kind.");
  EXPECT_EQ(s.body["template"], "{{ .Prompt }}");  // from the base
  EXPECT_EQ(s.body["license"], "MIT");
  // The request's parameters are merged over the base's (stop replaced,
  // temperature kept), as Ollama merges them.
  EXPECT_EQ(s.body["parameters"],
            "num_ctx                        256\nstop                           \"a\"\nstop                           \"b\"\n"
            "temperature                    0");
  EXPECT_EQ(s.body["messages"], json::parse(R"([{"role":"user","content":"Hi"}])"));
  EXPECT_EQ(s.body["details"]["parent_model"], "stories:latest");
  // Empty values are ignored (the base's system stays); a second license
  // adds to the first; derived layers record where they came from.
  ASSERT_EQ(api::create(store, {{"model", "kid2"}, {"from", "kid"}, {"system", ""}, {"license", "Apache"}},
                        [](const json&) {}).status, 200);
  const api::Reply s2 = api::show(store, {{"model", "kid2"}});
  EXPECT_EQ(s2.body["system"], "Be kind.");
  EXPECT_EQ(s2.body["license"], "MIT\nApache");
  EXPECT_EQ(s2.body["details"]["parent_model"], "stories:latest");
  EXPECT_NE(s.body["modelfile"].get<std::string>().find("MESSAGE user Hi\n"), std::string::npos);
  // Refusals.
  const auto ignore = [](const json&) {};
  EXPECT_EQ(api::create(store, {{"model", "k2"}, {"from", "stories"}, {"parameters", {{"temprature", 1}}}}, ignore).status,
            400);
  EXPECT_EQ(api::create(store, {{"model", "k2"}, {"from", "stories"}, {"quantize", "q9_9"}}, ignore).status, 400);
  EXPECT_EQ(api::create(store, {{"model", "k2"}, {"from", "stories"}, {"messages", {{{"role", "robot"}}}}}, ignore).status,
            400);
  EXPECT_EQ(api::create(store, {{"model", "k2"}, {"from", "stories"}, {"messages", {{{"role", "user"}, {"content", 1}}}}},
                        ignore).status, 400);
  // Wrong types are 400s, never exceptions.
  EXPECT_EQ(api::create(store, {{"model", "k2"}, {"files", {{"a", 1}}}}, ignore).status, 400);
  EXPECT_EQ(api::create(store, {{"model", "k2"}, {"from", "stories"}, {"parameters", {{"num_ctx", {1}}}}}, ignore).status,
            400);
  EXPECT_EQ(api::create(store, {{"model", "k2"}, {"from", "stories"}, {"parameters", {{"top_k", {{"a", 1}}}}}}, ignore).status,
            400);
  EXPECT_EQ(api::create(store, {{"model", "k2"}, {"from", 7}}, ignore).status, 400);
  EXPECT_EQ(api::create(store, {{"model", "k2"}, {"from", "stories"}, {"license", {1}}}, ignore).status, 400);
  EXPECT_EQ(api::create(store, {{"model", "k2"}, {"files", {{"m.gguf", "sha256:" + std::string(64, 'b')}}}}, ignore).status,
            400);
  EXPECT_EQ(api::create(store, {{"model", "k2"}, {"from", "stories"}, {"requires", 5}}, ignore).status, 400);
  EXPECT_FALSE(store.find(*parse_model_name("k2"))->has_value());
}

}  // namespace
}  // namespace folio
