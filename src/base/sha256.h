// SHA-256 (OpenSSL libcrypto), streaming: model blobs are named and verified
// by their digest, so hashing runs while a file is read or written.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace folio {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t n);
  // Lower-case hex of the 32-byte digest; the object is then spent.
  std::string hex();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Hex SHA-256 of bytes.
std::string sha256_hex(std::string_view bytes);

// Hex SHA-256 of a file's contents, read in chunks.
Result<std::string> sha256_file(const std::string& path);

}  // namespace folio
