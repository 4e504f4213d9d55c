#include "template/library.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <mutex>

namespace folio::tmpl {

namespace {

std::vector<uint32_t> code_points(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + n > s.size()) n = 1;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    out.push_back(n == 1 && c >= 0x80 ? 0xfffd : cp);
    i += n;
  }
  return out;
}

struct Library {
  std::deque<NamedTemplate> templates;
  std::vector<IndexEntry> index;
};

const Library& library() {
  static const Library lib = [] {
    Library l;
    std::string index_text;
    for (size_t i = 0; i < kEmbeddedFileCount; ++i) {
      const std::string name = kEmbeddedFiles[i].name;
      if (name == "index.json") {
        index_text = kEmbeddedFiles[i].data;
        continue;
      }
      if (name.size() < 7 || name.compare(name.size() - 7, 7, ".gotmpl") != 0) continue;
      NamedTemplate t;
      t.name = name.substr(0, name.size() - 7);
      t.text = kEmbeddedFiles[i].data;
      // Line endings normalized, as Ollama reads them.
      for (size_t p; (p = t.text.find("\r\n")) != std::string::npos;) t.text.erase(p, 1);
      for (size_t k = 0; k < kEmbeddedFileCount; ++k) {
        if (t.name + ".json" != kEmbeddedFiles[k].name) continue;
        const nlohmann::json params = nlohmann::json::parse(kEmbeddedFiles[k].data, nullptr, false);
        if (params.is_object() && params.contains("stop") && params["stop"].is_array()) {
          for (const auto& s : params["stop"]) {
            if (s.is_string()) t.stop.push_back(s.get<std::string>());
          }
        }
      }
      l.templates.push_back(std::move(t));
    }
    const nlohmann::json index = nlohmann::json::parse(index_text, nullptr, false);
    if (index.is_array()) {
      for (const auto& e : index) {
        if (!e.is_object() || !e.contains("name") || !e.contains("template")) continue;
        const std::string name = e["name"].get<std::string>();
        for (const NamedTemplate& t : l.templates) {
          if (t.name == name) l.index.push_back({e["template"].get<std::string>(), &t});
        }
      }
    }
    return l;
  }();
  return lib;
}

}  // namespace

const std::vector<IndexEntry>& template_index() { return library().index; }

const NamedTemplate* find_named_template(std::string_view name) {
  for (const NamedTemplate& t : library().templates) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

size_t levenshtein_bounded(std::string_view a_text, std::string_view b_text, size_t limit) {
  const std::vector<uint32_t> a = code_points(a_text), b = code_points(b_text);
  const size_t n = a.size(), m = b.size();
  if ((n > m ? n - m : m - n) > limit) return limit + 1;
  // Only cells within `limit` of the diagonal can hold a distance <= limit.
  const size_t big = limit + 1;
  std::vector<size_t> prev(m + 1, big), cur(m + 1, big);
  for (size_t j = 0; j <= std::min(m, limit); ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    const size_t lo = i > limit ? i - limit : 1;
    const size_t hi = std::min(m, i + limit);
    std::fill(cur.begin(), cur.end(), big);
    cur[0] = i <= limit ? i : big;
    size_t row_min = cur[0];
    for (size_t j = lo; j <= hi; ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      const size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = std::min({sub, del, ins, big});
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > limit) return limit + 1;
    std::swap(prev, cur);
  }
  return std::min(prev[m], big);
}

const NamedTemplate* match_chat_template(std::string_view jinja) {
  const NamedTemplate* best = nullptr;
  size_t score = 100;  // Ollama accepts distances under 100
  for (const IndexEntry& e : template_index()) {
    const size_t d = levenshtein_bounded(jinja, e.jinja, score - 1);
    if (d < score) {
      score = d;
      best = e.tmpl;
      if (score == 0) break;
    }
  }
  return best;
}

}  // namespace folio::tmpl
