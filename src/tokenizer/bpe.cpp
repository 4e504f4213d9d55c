// Byte-level BPE by merge rank (ref: Sennrich et al. 2016; OpenAI GPT-2
// encoder.py; llama.cpp llm_tokenizer_bpe).
#include <queue>

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
  int32_t rank;
  std::string text;
};

// Lowest rank first; on equal ranks the leftmost pair.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

}  // namespace

void bpe_encode_word(const Vocab& v, std::string_view word, std::vector<int32_t>& out) {
  std::vector<Symbol> sym;
  if (v.ignore_merges && v.find(word) >= 0) {
    sym.push_back({-1, -1, word.data(), word.size()});
  } else {
    for (size_t offs = 0; offs < word.size();) {
      const size_t len = std::min(unicode::utf8_len(static_cast<uint8_t>(word[offs])), word.size() - offs);
      const int idx = static_cast<int>(sym.size());
      sym.push_back({idx - 1, offs + len == word.size() ? -1 : idx + 1, word.data() + offs, len});
      offs += len;
    }
  }
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  std::string key;
  auto add = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    key.assign(sym[left].text, sym[left].n).append(" ").append(sym[right].text, sym[right].n);
    auto it = v.merge_rank.find(key);
    if (it == v.merge_rank.end()) return;
    queue.push({left, right, it->second, std::string(sym[left].text, sym[left].n + sym[right].n)});
  };
  for (int i = 1; i < static_cast<int>(sym.size()); ++i) add(i - 1, i);
  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = sym[b.left];
    Symbol& r = sym[b.right];
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.text.size() ||
        std::string_view(l.text, l.n + r.n) != b.text) {
      continue;  // stale
    }
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    add(l.prev, b.left);
    add(b.left, l.next);
  }
  for (const Symbol& s : sym) {
    if (s.n == 0) continue;
    const std::string_view text(s.text, s.n);
    if (const int32_t id = v.find(text); id >= 0) {
      out.push_back(id);
      continue;
    }
    for (char c : text) {  // unknown symbol: its bytes, where they are tokens
      if (const int32_t id = v.find(std::string_view(&c, 1)); id >= 0) out.push_back(id);
    }
  }
}

}  // namespace folio::tok
