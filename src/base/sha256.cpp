#include "base/sha256.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/check.h"

namespace folio {

struct Sha256::State {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : s_(std::make_unique<State>()) {
  s_->ctx = EVP_MD_CTX_new();
  FOLIO_CHECK(s_->ctx != nullptr && EVP_DigestInit_ex(s_->ctx, EVP_sha256(), nullptr) == 1);
}

Sha256::~Sha256() { EVP_MD_CTX_free(s_->ctx); }

void Sha256::update(const void* data, size_t n) { FOLIO_CHECK(EVP_DigestUpdate(s_->ctx, data, n) == 1); }

std::string Sha256::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  FOLIO_CHECK(EVP_DigestFinal_ex(s_->ctx, md, &len) == 1);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.hex();
}

Result<std::string> sha256_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return make_error("cannot open %s: %s", path.c_str(), std::strerror(errno));
  Sha256 h;
  std::string buf(1 << 20, '\0');
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) h.update(buf.data(), n);
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) return make_error("cannot read %s", path.c_str());
  return h.hex();
}

}  // namespace folio
