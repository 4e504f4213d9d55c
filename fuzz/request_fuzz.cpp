// The JSON requests of every endpoint, decoded and answered as the routes
// do (server.cpp, openai_routes.cpp) against a store holding two models and
// a scheduler whose runners are fakes (no engine: the fuzzer is after the
// decoding, the templates, the tool-call parsing and the replies). The
// first byte picks the route, the rest is the body. A request may be
// refused with a 4xx, never answered by an exception (the server's 500),
// and a 4xx always says why.
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_target.h"
#include "server/api.h"
#include "server/inference.h"
#include "server/openai.h"
#include "server/runner.h"
#include "server/scheduler.h"
#include "store/store.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using namespace folio;

// Qwen 2.5's tool-calling template, shortened.
constexpr const char* kToolTemplate = R"({{- if .Messages }}
{{- if or .System .Tools }}<|im_start|>system
{{- if .System }}
{{ .System }}
{{- end }}
{{- if .Tools }}
<tools>
{{- range .Tools }}
{"type": "function", "function": {{ .Function }}}
{{- end }}
</tools>
{{- end }}<|im_end|>
{{ end }}
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 -}}
{{- if eq .Role "user" }}<|im_start|>user
{{ .Content }}<|im_end|>
{{ else if eq .Role "assistant" }}<|im_start|>assistant
{{ if .Content }}{{ .Content }}
{{- else if .ToolCalls }}<tool_call>
{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "arguments": {{ .Function.Arguments }}}
{{ end }}</tool_call>
{{- end }}{{ if not $last }}<|im_end|>
{{ end }}
{{- else if eq .Role "tool" }}<|im_start|>user
<tool_response>
{{ .Content }}
</tool_response><|im_end|>
{{ end }}
{{- if and (ne .Role "assistant") $last }}<|im_start|>assistant
{{ end }}
{{- end }}
{{- else }}
{{- if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}{{ if .Prompt }}<|im_start|>user
{{ .Prompt }}<|im_end|>
{{ end }}<|im_start|>assistant
{{ end }}{{ .Response }}{{ if .Response }}<|im_end|>{{ end }})";

// Answers with the first bytes of its prompt and a tool call, as text
// pieces of a few bytes (the way tokens arrive).
class EchoRunner : public Runner {
 public:
  Result<GenerateStats> complete(int, const std::string& prompt, const Options& opts,
                                 const std::function<bool(std::string_view)>& on_text,
                                 std::vector<TokenLogprob>* logprobs) override {
    const std::string text = prompt.substr(0, 40) +
                             "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";
    GenerateStats st;
    st.done_reason = "stop";
    for (size_t at = 0; at < text.size(); at += 3) {
      if (logprobs != nullptr) logprobs->push_back({text.substr(at, 3), -0.5f, {{"a", -1.f}}});
      ++st.eval_count;
      if (!on_text(std::string_view(text).substr(at, 3))) break;
    }
    return st;
  }
  Result<std::vector<int32_t>> tokenize(const std::string& text, bool) override {
    return std::vector<int32_t>(text.begin(), text.end());
  }
  std::string detokenize(const std::vector<int32_t>& ids) override {
    std::string s;
    for (int32_t id : ids) s += static_cast<char>(id & 0xff);
    return s;
  }
  Result<EmbedResult> embed(int, const std::vector<int32_t>& tokens) override {
    if (tokens.empty()) return make_error("no tokens");
    EmbedResult r;
    r.values = {static_cast<float>(tokens.size()), 1.f, -2.f, 0.5f};
    r.tokens = static_cast<int64_t>(tokens.size());
    return r;
  }
  RunnerInfo info() const override {
    RunnerInfo i;
    i.size = i.weights = 1 << 20;
    i.load_mode = "fake";
    i.n_ctx = 2048;
    return i;
  }
  uint64_t resident_bytes() const override { return 1 << 20; }
};

class EchoFactory : public RunnerFactory {
 public:
  Result<Fit> fit(const LoadSpec&) override { return Fit{}; }
  Result<std::unique_ptr<Runner>> load(const LoadSpec&) override { return std::unique_ptr<Runner>(new EchoRunner); }
};

struct World {
  std::string root = folio::fuzz::scratch_dir() + "/store";
  std::unique_ptr<Store> store;
  std::unique_ptr<Scheduler> sched;
  std::map<std::string, std::string> manifests;  // relative path -> bytes, restored after writes
  std::string pristine = folio::fuzz::scratch_dir() + "/blobs";  // hard links to the blobs of the two models

  World() {
    store = std::make_unique<Store>(root);
    auto digest = store->put_blob_file(std::string(FOLIO_TEST_DATA) + "/llama-2-tiny-random.gguf");
    FUZZ_CHECK(digest.ok());
    const auto ignore = [](const json&) {};
    FUZZ_CHECK(api::create(*store, {{"model", "fuzz"}, {"files", {{"m.gguf", *digest}}}, {"template", kToolTemplate},
                                    {"system", "Be brief."}, {"parameters", {{"stop", {"<|im_end|>"}}}}},
                           ignore).status == 200);
    FUZZ_CHECK(api::create(*store, {{"model", "plain:v1"}, {"from", "fuzz"}, {"template", "{{ .Prompt }}"}}, ignore)
                   .status == 200);
    fs::create_directories(pristine);
    for (const auto& e : fs::directory_iterator(root + "/blobs")) {
      fs::create_hard_link(e.path(), fs::path(pristine) / e.path().filename());
    }
    for (const auto& e : fs::recursive_directory_iterator(root + "/manifests")) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      manifests[fs::relative(e.path(), root).string()] = std::string(std::istreambuf_iterator<char>(in), {});
    }
    SchedulerConfig cfg;
    cfg.max_loaded = 2;
    sched = std::make_unique<Scheduler>(cfg, std::make_unique<EchoFactory>());
  }

  // Back to the two models after a request that wrote to the store (a
  // delete also removes the blobs no manifest names).
  void restore() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root + "/blobs", ec)) {
      if (!fs::exists(fs::path(pristine) / e.path().filename())) fs::remove_all(e.path(), ec);
    }
    for (const auto& e : fs::directory_iterator(pristine)) {
      const fs::path p = fs::path(root) / "blobs" / e.path().filename();
      if (!fs::exists(p)) fs::create_hard_link(e.path(), p, ec);
    }
    fs::remove_all(root + "/manifests", ec);
    for (const auto& [rel, bytes] : manifests) {
      const fs::path p = fs::path(root) / rel;
      fs::create_directories(p.parent_path(), ec);
      std::ofstream(p, std::ios::binary) << bytes;
    }
  }
};

void check_reply(const api::Reply& r) {
  if (r.status == 500 || r.status < 200 || r.status >= 600) std::fprintf(stderr, "reply %d %s\n", r.status, r.body.dump().c_str());
  FUZZ_CHECK(r.status >= 200 && r.status < 600);
  if (r.status >= 400) {
    FUZZ_CHECK(r.body.is_object());
    // Ollama's {"error": "..."} or OpenAI's {"error": {"message": ...}}.
    const json& e = r.body["error"];
    FUZZ_CHECK((e.is_string() && !e.get<std::string>().empty()) || (e.is_object() && e["message"].is_string()));
    FUZZ_CHECK(r.status != 500);  // a bad request is a 4xx, not an internal error
  }
}

void generation(World& w, api::Prepared::Kind kind, const json& body, bool openai) {
  const bool chat = kind == api::Prepared::Kind::kChat;
  json req = body;
  if (openai) {
    auto converted = chat ? api::openai::chat_request(body) : api::openai::completion_request(body);
    if (!converted.ok()) {
      FUZZ_CHECK(!converted.error().message.empty());
      return;
    }
    req = *converted;
  }
  api::Prepared p;
  const api::Reply r = api::prepare(*w.store, *w.sched, kind, req, &p);
  if (r.status != 200) return check_reply(openai ? api::openai::error_reply(r) : r);
  int lines = 0;
  const json final = api::run(p, [&](const json& j) {
    FUZZ_CHECK(j.is_object());
    return ++lines < 64;
  });
  FUZZ_CHECK(final.is_object());
  if (openai && !final.contains("error")) {
    (void)(chat ? api::openai::chat_completion("id", final) : api::openai::completion("id", final));
    api::openai::Stream s(chat ? api::openai::Stream::Kind::kChat : api::openai::Stream::Kind::kCompletion, "id", true);
    (void)s.events(final);
  }
}

void answer(World& w, uint8_t route, const json& body) {
  const auto ignore = [](const json&) {};
  switch (route % 13) {
    case 0: return check_reply(api::show(*w.store, body));
    case 1: check_reply(api::copy(*w.store, body)); return w.restore();
    case 2: check_reply(api::remove(*w.store, body)); return w.restore();
    case 3:
      // Quantizing is the engine's work (and slow); the request around it is fuzzed.
      if (body.contains("quantize")) return check_reply(api::check_create_request(body));
      check_reply(api::create(*w.store, body, ignore));
      return w.restore();
    case 4: return generation(w, api::Prepared::Kind::kGenerate, body, false);
    case 5: return generation(w, api::Prepared::Kind::kChat, body, false);
    case 6: return check_reply(api::embed(*w.store, *w.sched, body));
    case 7: return check_reply(api::embeddings(*w.store, *w.sched, body));
    case 8: return generation(w, api::Prepared::Kind::kChat, body, true);
    case 9: return generation(w, api::Prepared::Kind::kGenerate, body, true);
    case 10: {
      auto converted = api::openai::embed_request(body);
      if (converted.ok()) check_reply(api::embed(*w.store, *w.sched, *converted));
      return;
    }
    case 11: return check_reply(api::ps(*w.store, *w.sched));
    default: return check_reply(api::tags(*w.store));
  }
}

}  // namespace

FOLIO_FUZZ_TARGET(request) {
  static World world;
  if (size == 0) return 0;
  const json body = json::parse(data + 1, data + size, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return 0;  // the route answers 400 before decoding
  try {
    answer(world, data[0], body);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "route %d threw (a 500 in the server): %s\n", data[0] % 13, e.what());
    std::abort();
  }
  return 0;
}
