// Executing a parsed Go text/template over a Value, with Go's semantics:
// truth, fields of maps and structs, variables and their scopes, range over
// lists, maps (sorted keys) and integers, break/continue, with, pipelines
// (the previous command's result as the last argument), and the functions
// Ollama's templates use: and or not len index slice print printf println
// eq ne lt le gt ge json currentDate yesterdayDate toTypeScriptType html js
// urlquery.
#pragma once

#include <string>

#include "base/result.h"
#include "template/parse.h"
#include "template/value.h"

namespace folio::tmpl {

// Renders root with data as dot and $. Errors: "line N: ...".
Result<std::string> execute(const Node& root, const Value& data);

// fmt.Sprintf for the verbs templates use (%s %v %d %q %f %g %e %x %X %t %c
// %%, with flags, width and precision).
std::string go_sprintf(const std::string& format, const std::vector<Value>& args);

}  // namespace folio::tmpl
