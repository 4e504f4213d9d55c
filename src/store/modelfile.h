// Modelfiles, Ollama's grammar (ref: ollama parser/parser.go and the
// Modelfile docs): one instruction per line, case-insensitive keywords,
// '#' comments at the start of a line, values raw to the end of the line,
// "quoted" or """triple quoted""" (both may span lines).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/options.h"

namespace folio {

struct ModelfileCommand {
  // "model" (FROM), "adapter", "template", "system", "license", "message"
  // (args "role: content"), "requires", or a PARAMETER's name.
  std::string name;
  std::string args;
  int line = 0;
};

struct Modelfile {
  std::vector<ModelfileCommand> commands;

  // One line per command, quoting values as Ollama does (quotes only for
  // values with newlines or edge spaces; """ when the value has a quote).
  std::string to_string() const;
  std::string from() const;  // the FROM value ("" when none)
};

bool is_instruction_keyword(std::string_view name);  // from, parameter, ...

// Parses text. Errors carry the line: "(line 3): command must be one of
// ...". A PARAMETER is checked against the option table (unknown names,
// values of the wrong type); a missing FROM is an error.
Result<Modelfile> parse_modelfile(std::string_view text);

// Applies the PARAMETER lines of mf to opts (repeated stop adds).
Result<void> apply_parameters(const Modelfile& mf, Options& opts);

}  // namespace folio
