#include "engine/text_stream.h"

#include <algorithm>

namespace folio {

namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";

// Length of the UTF-8 sequence a lead byte starts, 0 for an invalid lead.
size_t seq_len(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

// Whether s[i..i+len) is a valid sequence (continuations and the
// overlong/surrogate/range limits of the second byte).
bool valid_seq(const std::string& s, size_t i, size_t len) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xC0) != 0x80) return false;
  }
  if (len == 3 && b(0) == 0xE0 && b(1) < 0xA0) return false;
  if (len == 3 && b(0) == 0xED && b(1) > 0x9F) return false;
  if (len == 4 && b(0) == 0xF0 && b(1) < 0x90) return false;
  if (len == 4 && b(0) == 0xF4 && b(1) > 0x8F) return false;
  return true;
}

}  // namespace

std::string Utf8Stream::push(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    const size_t len = seq_len(static_cast<unsigned char>(pending_[i]));
    if (len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (i + len > pending_.size()) {
      // Incomplete: keep it if what is there can still become valid.
      bool prefix_ok = true;
      for (size_t k = i + 1; k < pending_.size(); ++k) prefix_ok &= (static_cast<unsigned char>(pending_[k]) & 0xC0) == 0x80;
      if (prefix_ok) break;
      out += kReplacement;
      ++i;
      continue;
    }
    if (!valid_seq(pending_, i, len)) {
      out += kReplacement;
      ++i;
      continue;
    }
    out.append(pending_, i, len);
    i += len;
  }
  pending_.erase(0, i);
  return out;
}

std::string Utf8Stream::flush() {
  std::string out;
  for (size_t i = 0; i < pending_.size(); ++i) out += kReplacement;
  pending_.clear();
  return out;
}

StopFilter::StopFilter(std::vector<std::string> stops) {
  for (auto& s : stops) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
}

std::string StopFilter::push(std::string_view text) {
  if (stopped_) return "";
  pending_.append(text);
  // The earliest complete stop string wins.
  size_t cut = std::string::npos;
  for (const std::string& s : stops_) {
    const size_t at = pending_.find(s);
    if (at != std::string::npos && at < cut) {
      cut = at;
      matched_ = s;
    }
  }
  if (cut != std::string::npos) {
    stopped_ = true;
    std::string out = pending_.substr(0, cut);
    pending_.clear();
    return out;
  }
  // Hold back the longest tail that is a prefix of some stop string.
  size_t hold = 0;
  for (const std::string& s : stops_) {
    for (size_t n = std::min(s.size() - 1, pending_.size()); n > hold; --n) {
      if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
    }
  }
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StopFilter::flush() {
  std::string out;
  if (!stopped_) out.swap(pending_);
  pending_.clear();
  return out;
}

}  // namespace folio
