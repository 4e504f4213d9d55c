// SentencePiece-style BPE by scores (ref: llama.cpp llm_tokenizer_spm,
// after Karpathy's llama2.c and SentencePiece's bpe_model).
#include <queue>
#include <unordered_map>

#include "base/result.h"
#include "tokenizer/algorithms.h"
#include "tokenizer/unicode.h"

namespace folio::tok {

namespace {

struct Symbol {
  int prev, next;
  const char* text;
  size_t n;
};

struct Bigram {
  int left, right;
  float score;
  size_t size;
};

// Highest score first; on equal scores the leftmost pair.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

class Session {
 public:
  explicit Session(const Vocab& v) : v_(v) {}

  void encode(std::string_view text, std::vector<int32_t>& out) {
    for (size_t offs = 0; offs < text.size();) {
      const size_t len = std::min(unicode::utf8_len(static_cast<uint8_t>(text[offs])), text.size() - offs);
      const int idx = static_cast<int>(symbols_.size());
      symbols_.push_back({idx - 1, offs + len == text.size() ? -1 : idx + 1, text.data() + offs, len});
      offs += len;
    }
    for (int i = 1; i < static_cast<int>(symbols_.size()); ++i) try_add(i - 1, i);
    while (!queue_.empty()) {
      const Bigram b = queue_.top();
      queue_.pop();
      Symbol& l = symbols_[b.left];
      Symbol& r = symbols_[b.right];
      if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;  // stale
      l.n += r.n;
      r.n = 0;
      l.next = r.next;
      if (r.next >= 0) symbols_[r.next].prev = b.left;
      try_add(l.prev, b.left);
      try_add(b.left, l.next);
    }
    for (int i = 0; i != -1 && !symbols_.empty(); i = symbols_[i].next) resegment(symbols_[i], out);
  }

 private:
  void try_add(int left, int right) {
    if (left == -1 || right == -1) return;
    const std::string_view text(symbols_[left].text, symbols_[left].n + symbols_[right].n);
    const int32_t id = v_.find(text);
    if (id < 0) return;
    queue_.push({left, right, v_.score[id], text.size()});
    rev_merge_[std::string(text)] = {left, right};
  }

  void resegment(const Symbol& s, std::vector<int32_t>& out) {
    const std::string_view text(s.text, s.n);
    if (const int32_t id = v_.find(text); id >= 0) {
      out.push_back(id);
      return;
    }
    if (auto it = rev_merge_.find(std::string(text)); it != rev_merge_.end()) {
      resegment(symbols_[it->second.first], out);
      resegment(symbols_[it->second.second], out);
      return;
    }
    for (unsigned char c : text) {  // byte fallback
      const int32_t id = v_.find(strfmt("<0x%02X>", c));
      if (id >= 0) out.push_back(id);
      else if (const int32_t raw = v_.find(std::string(1, static_cast<char>(c))); raw >= 0) out.push_back(raw);
      else if (v_.unk >= 0) out.push_back(v_.unk);
    }
  }

  const Vocab& v_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue_;
  std::unordered_map<std::string, std::pair<int, int>> rev_merge_;
};

}  // namespace

void spm_encode(const Vocab& v, std::string_view text, std::vector<int32_t>& out) { Session(v).encode(text, out); }

}  // namespace folio::tok
