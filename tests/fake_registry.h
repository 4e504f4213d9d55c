// A registry played by a test (tests/registry_test.cpp,
// tests/crash_safety_test.cpp): one manifest, test/m:v1, holding a config
// blob and the bundled model; blobs served with Range (httplib answers it),
// bytes counted, and ways to misbehave (each range of the model cut off
// half way, or the model corrupted).
#pragma once

#include <httplib.h>

#include <atomic>
#include <string>
#include <thread>

#include "base/sha256.h"
#include "store/manifest.h"
#include "test_util.h"

namespace folio::testing {

class FakeRegistry {
 public:
  FakeRegistry() {
    model_ = bundled_model_bytes();
    config_ = R"({"model_format":"gguf","model_family":"llama","rootfs":{"type":"layers","diff_ids":[]}})";
    Manifest m;
    m.config = {kMediaConfig, "sha256:" + sha256_hex(config_), config_.size(), ""};
    m.layers.push_back({kMediaModel, "sha256:" + sha256_hex(model_), model_.size(), ""});
    manifest_ = m.to_json();
    model_digest_ = m.layers[0].digest;
    http_.Get("/v2/test/m/manifests/v1", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(manifest_, kMediaManifest);
    });
    http_.Get(R"(/v2/test/m/blobs/(sha256:[0-9a-f]+))", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string digest = req.matches[1];
      std::string body = digest == model_digest_ ? model_ : config_;
      if (digest == model_digest_ && corrupt_) body[body.size() / 2] ^= 0x5a;
      // httplib answers the Range itself (206, Content-Range) from a
      // provider of the whole blob; the range is read here only to cut it.
      uint64_t from = 0, to = body.size() - 1;
      if (req.has_header("Range")) {
        const std::string range = req.get_header_value("Range");  // bytes=a-b
        from = std::stoull(range.substr(6));
        to = std::stoull(range.substr(range.find('-') + 1));
      }
      // Cut off: half of each range of the model is sent, then the
      // connection drops.
      const uint64_t end = cut_ && digest == model_digest_ ? from + (to - from + 1) / 2 : to + 1;
      res.set_content_provider(body.size(), "application/octet-stream",
                               [this, body, end](size_t offset, size_t n, httplib::DataSink& sink) {
                                 if (offset >= end) return false;
                                 const size_t k = std::min<size_t>(n, end - offset);
                                 served_ += k;
                                 sink.write(body.data() + offset, k);
                                 return true;
                               });
    });
    port_ = http_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { http_.listen_after_bind(); });
  }
  ~FakeRegistry() {
    http_.stop();
    thread_.join();
  }
  std::string name() const { return "127.0.0.1:" + std::to_string(port_) + "/test/m:v1"; }
  uint64_t model_size() const { return model_.size(); }
  const std::string& manifest() const { return manifest_; }
  const std::string& model_digest() const { return model_digest_; }
  std::atomic<uint64_t> served_{0};  // blob bytes sent
  std::atomic<bool> cut_{false}, corrupt_{false};

 private:
  httplib::Server http_;
  std::thread thread_;
  int port_ = 0;
  std::string model_, config_, manifest_, model_digest_;
};

}  // namespace folio::testing
