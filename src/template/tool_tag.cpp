// ChatTemplate::tool_call_tag (ref: ollama tools/template.go parseTag): a
// walk of the parse tree for the {{if}} whose pipeline names .ToolCalls,
// then for the first non-blank text inside it before any other action.
#include <algorithm>

#include "base/strings.h"
#include "template/chat.h"

namespace folio::tmpl {

namespace {

bool names_tool_calls(const Node& if_node) {
  if (!if_node.pipe) return false;
  for (const NodePtr& cmd : if_node.pipe->nodes) {
    for (const NodePtr& arg : cmd->nodes) {
      if (arg->type == Node::Type::kField &&
          std::find(arg->ident.begin(), arg->ident.end(), "ToolCalls") != arg->ident.end()) {
        return true;
      }
    }
  }
  return false;
}

const Node* find_tool_calls_if(const std::vector<NodePtr>& nodes);

const Node* find_in(const NodePtr& list) { return list ? find_tool_calls_if(list->nodes) : nullptr; }

const Node* find_tool_calls_if(const std::vector<NodePtr>& nodes) {
  for (const NodePtr& n : nodes) {
    switch (n->type) {
      case Node::Type::kIf:
        if (names_tool_calls(*n)) return n.get();
        [[fallthrough]];
      case Node::Type::kRange:
      case Node::Type::kWith:
        if (const Node* r = find_in(n->list)) return r;
        if (const Node* r = find_in(n->else_list)) return r;
        break;
      case Node::Type::kList:
        if (const Node* r = find_tool_calls_if(n->nodes)) return r;
        break;
      default:
        break;
    }
  }
  return nullptr;
}

// The first non-blank text, depth first; an action, or the end of a
// branch or range that held none, ends the search.
const Node* first_text(const std::vector<NodePtr>& nodes) {
  for (const NodePtr& n : nodes) {
    switch (n->type) {
      case Node::Type::kText:
        if (!trim_space(n->text).empty()) return n.get();
        break;
      case Node::Type::kList:
        if (const Node* t = first_text(n->nodes)) return t;
        break;
      case Node::Type::kIf:
      case Node::Type::kRange:
      case Node::Type::kWith: {
        if (n->list) {
          if (const Node* t = first_text(n->list->nodes)) return t;
        }
        if (n->else_list) {
          if (const Node* t = first_text(n->else_list->nodes)) return t;
        }
        return nullptr;
      }
      case Node::Type::kAction:
        return nullptr;
      default:
        break;
    }
  }
  return nullptr;
}

}  // namespace

std::string ChatTemplate::tool_call_tag() const {
  const Node* block = root_ ? find_tool_calls_if(root_->nodes) : nullptr;
  const Node* text = block && block->list ? first_text(block->list->nodes) : nullptr;
  if (text == nullptr) return "{";
  std::string tag = text->text;
  for (size_t at; (at = tag.find("\r\n")) != std::string::npos;) tag.replace(at, 2, "\n");
  tag = trim_space(tag.substr(0, tag.find('{')));  // a "{" may already be the call itself
  return tag.empty() ? "{" : tag;
}

}  // namespace folio::tmpl
