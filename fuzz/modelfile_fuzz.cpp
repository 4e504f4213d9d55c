// Modelfiles: any text either parses or is refused with a message naming
// the line. What parses must print (Modelfile::to_string, the text of
// `show --modelfile`) as a Modelfile that parses back to the same
// commands, and its parameters must apply.
#include <string_view>

#include "fuzz_target.h"
#include "store/modelfile.h"

FOLIO_FUZZ_TARGET(modelfile) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto mf = folio::parse_modelfile(text);
  if (!mf.ok()) {
    FUZZ_CHECK(!mf.error().message.empty());
    return 0;
  }
  folio::Options opts;
  FUZZ_CHECK(folio::apply_parameters(*mf, opts).ok());
  const std::string printed = mf->to_string();
  auto again = folio::parse_modelfile(printed);
  if (!again.ok()) {
    std::fprintf(stderr, "printed Modelfile does not parse: %s\n---\n%s\n---\n", again.error().message.c_str(),
                 printed.c_str());
  }
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->commands.size() == mf->commands.size());
  for (size_t i = 0; i < mf->commands.size(); ++i) {
    const auto& a = mf->commands[i];
    const auto& b = again->commands[i];
    if (a.name != b.name || a.args != b.args) {
      std::fprintf(stderr, "command %zu changed when printed: [%s] [%s] -> [%s] [%s]\n", i, a.name.c_str(),
                   a.args.c_str(), b.name.c_str(), b.args.c_str());
    }
    FUZZ_CHECK(a.name == b.name && a.args == b.args);
  }
  return 0;
}
