// Failpoints for crash tests: a named point in a multi-step write where a
// test kills the process. With FOLIO_FAILPOINT=<name> in the environment,
// the process reaching that point writes "folio: failpoint <name> reached"
// to stderr and stops there (sleeps) until it is killed. Without the
// variable a failpoint costs one comparison.
#pragma once

#include <string_view>

namespace folio {

void failpoint(std::string_view name);

}  // namespace folio
