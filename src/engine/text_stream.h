// Turning a stream of token pieces into text that is safe to show: never
// half a UTF-8 character, never any part of a stop string.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace folio {

// Accumulates bytes and releases only complete UTF-8 characters; bytes that
// can never become valid UTF-8 are released as U+FFFD.
class Utf8Stream {
 public:
  // Appends bytes; returns the complete characters now available.
  std::string push(std::string_view bytes);
  // Releases whatever is held (an incomplete tail becomes U+FFFD).
  std::string flush();

 private:
  std::string pending_;
};

// Holds back text that could be the start of a stop string and cuts the
// output where one appears.
class StopFilter {
 public:
  explicit StopFilter(std::vector<std::string> stops);
  // Appends text; returns what can be shown now. After a stop string
  // appears, stopped() is true and the text before it is returned.
  std::string push(std::string_view text);
  // At the end of generation: releases the held-back text.
  std::string flush();
  bool stopped() const { return stopped_; }
  const std::string& matched() const { return matched_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  std::string matched_;
  bool stopped_ = false;
};

}  // namespace folio
