// A model store laid out by hand exactly as Ollama writes one (manifest
// JSON and sha256-named blobs written by the test, not by folio).
#pragma once

#include <sys/stat.h>

#include <string>

#include "base/sha256.h"
#include "test_util.h"

namespace folio::testing {

struct OllamaStore {
  TempDir dir;
  std::string model_digest, template_digest, params_digest, config_digest, manifest_text;

  std::string put(const std::string& bytes) {
    const std::string hex = sha256_hex(bytes);
    ::mkdir((dir.path() + "/blobs").c_str(), 0755);
    write_file(dir.path() + "/blobs/sha256-" + hex, std::vector<uint8_t>(bytes.begin(), bytes.end()));
    return "sha256:" + hex;
  }

  OllamaStore() {
    const std::vector<uint8_t> gguf = read_file(std::string(FOLIO_MODELS_DIR) + "/stories260K.gguf");
    model_digest = put(std::string(gguf.begin(), gguf.end()));
    template_digest = put("{{ .Prompt }}");
    // Ollama writes JSON blobs with Go's json.Encoder: a final newline.
    params_digest = put(R"({"stop":["Lily"],"temperature":0})" "\n");
    config_digest = put(
        R"({"model_format":"gguf","model_family":"llama","model_families":["llama"],"model_type":"293K","file_type":"F32","architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})" "\n");
    manifest_text =
        std::string(R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")") +
        config_digest + R"(","size":190},"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":")" +
        model_digest + R"(","size":1185376},{"mediaType":"application/vnd.ollama.image.template","digest":")" +
        template_digest + R"(","size":13},{"mediaType":"application/vnd.ollama.image.params","digest":")" +
        params_digest + R"(","size":35}]})" "\n";
    std::string d = dir.path();
    for (const char* part : {"/manifests", "/registry.ollama.ai", "/library", "/stories"}) {
      d += part;
      ::mkdir(d.c_str(), 0755);
    }
    write_file(d + "/latest", std::vector<uint8_t>(manifest_text.begin(), manifest_text.end()));
  }
};

}  // namespace folio::testing
