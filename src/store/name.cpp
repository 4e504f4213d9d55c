#include "store/name.h"

#include <vector>

#include "base/strings.h"

namespace folio {

namespace {

bool alnum_(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

enum class Part { kHost, kNamespace, kModel, kTag };

const char* part_name(Part p) {
  switch (p) {
    case Part::kHost: return "host";
    case Part::kNamespace: return "namespace";
    case Part::kModel: return "model";
    case Part::kTag: return "tag";
  }
  return "?";
}

Result<void> check_part(Part kind, std::string_view s, std::string_view whole) {
  const size_t max = kind == Part::kHost ? 350 : 80;
  const std::string w = escape_for_display(whole);
  if (s.empty()) return make_error("invalid model name '%s': the %s is empty", w.c_str(), part_name(kind));
  if (s.size() > max) return make_error("invalid model name '%s': the %s is longer than %zu characters", w.c_str(), part_name(kind), max);
  if (!alnum_(s[0])) {
    return make_error("invalid model name '%s': the %s must start with a letter, digit or '_'", w.c_str(), part_name(kind));
  }
  for (char c : s.substr(1)) {
    const bool ok = alnum_(c) || c == '-' || (c == '.' && kind != Part::kNamespace) || (c == ':' && kind == Part::kHost);
    if (!ok) {
      return make_error("invalid model name '%s': '%s' may not appear in the %s", w.c_str(),
                        escape_for_display(std::string_view(&c, 1)).c_str(), part_name(kind));
    }
  }
  return {};
}

bool same_fold(const std::string& a, const std::string& b) { return to_lower(a) == to_lower(b); }

}  // namespace

std::string ModelName::display() const {
  std::string s;
  if (!same_fold(host, kDefaultHost)) s = host + "/" + ns + "/";
  else if (!same_fold(ns, kDefaultNamespace)) s = ns + "/";
  return s + model + ":" + tag;
}

std::string ModelName::manifest_path() const { return host + "/" + ns + "/" + model + "/" + tag; }

bool ModelName::equal_fold(const ModelName& o) const {
  return same_fold(host, o.host) && same_fold(ns, o.ns) && same_fold(model, o.model) &&
         same_fold(tag, o.tag);
}

Result<ModelName> parse_model_name(std::string_view s) {
  const std::string_view whole = s;
  if (s.substr(0, 7) == "http://") s.remove_prefix(7);
  else if (s.substr(0, 8) == "https://") s.remove_prefix(8);
  std::vector<std::string_view> segs;
  for (size_t pos = 0;;) {
    const size_t slash = s.find('/', pos);
    segs.push_back(s.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  if (segs.size() > 3) {
    return make_error("invalid model name '%s': expected [host/][namespace/]model[:tag]",
                      escape_for_display(whole).c_str());
  }
  ModelName n{kDefaultHost, kDefaultNamespace, "", kDefaultTag};
  std::string_view last = segs.back();
  if (const size_t colon = last.rfind(':'); colon != std::string_view::npos) {
    FOLIO_TRY(check_part(Part::kTag, last.substr(colon + 1), whole));
    n.tag = std::string(last.substr(colon + 1));
    last = last.substr(0, colon);
  }
  FOLIO_TRY(check_part(Part::kModel, last, whole));
  n.model = std::string(last);
  if (segs.size() >= 2) {
    FOLIO_TRY(check_part(Part::kNamespace, segs[segs.size() - 2], whole));
    n.ns = std::string(segs[segs.size() - 2]);
  }
  if (segs.size() == 3) {
    FOLIO_TRY(check_part(Part::kHost, segs[0], whole));
    n.host = std::string(segs[0]);
  }
  return n;
}

}  // namespace folio
