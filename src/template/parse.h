// Go text/template parsing: the node tree of Go's text/template/parse
// (list, text, action, if/range/with, break/continue, pipelines, commands,
// fields, variables, chains, literals), with its trim markers ({{- -}}),
// comments, "else if" / "else with" chains, declarations and assignments.
// Ollama's code walks this tree (Vars, deleteNode), so it mirrors Go's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace folio::tmpl {

struct Node;
using NodePtr = std::shared_ptr<Node>;

struct Node {
  enum class Type {
    kList, kText, kAction, kIf, kRange, kWith, kBreak, kContinue,  // statements
    kPipe, kCommand,                                               // pipelines
    kField, kVariable, kDot, kNil, kBool, kNumber, kString, kIdentifier, kChain  // operands
  };
  Type type;
  int line = 0;
  std::vector<NodePtr> nodes;  // list: statements; command: args; pipe: commands
  std::string text;            // text, string literal, identifier (function) name
  // field: [A, B] for .A.B; variable: [$x, A] for $x.A; chain: the fields
  std::vector<std::string> ident;
  NodePtr pipe;                  // action, if, range, with; chain: its operand
  NodePtr list, else_list;       // if, range, with
  std::vector<std::string> decl;  // pipe: declared or assigned variables
  bool is_assign = false;         // pipe: "=" rather than ":="
  bool b = false;                 // bool literal
  bool is_int = false;            // number: an integer constant
  int64_t i = 0;
  double f = 0;

  NodePtr clone() const;
};

// Parses a template. Errors name the line: "line 3: unexpected {{end}}".
Result<NodePtr> parse_template(std::string_view text);

// The identifiers of fields and variables in the tree, as Ollama's
// template.Identifiers collects them (pipes of actions and branches; not
// inside parenthesized pipelines or chains).
std::vector<std::string> identifiers(const Node& n);

// Ollama's deleteNode: a copy of the tree with every node after the first
// field naming "Response" removed (used to render the last turn of a legacy
// .Prompt/.Response template without the response and what follows it).
NodePtr cut_after_response(const Node& root);

}  // namespace folio::tmpl
