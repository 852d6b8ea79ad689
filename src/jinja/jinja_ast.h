// The parsed form of a chat template: statements (text, output, if, for, set, macro, ...) holding
// expressions. Built once by parse_template, read by the interpreter for every render.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "jinja/jinja_lexer.h"
#include "jinja/jinja_value.h"

namespace dsmoe::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// An expression node; which fields are used depends on the kind.
struct Expr {
  enum class Kind {
    kLiteral,      // literal
    kName,         // name: a variable
    kList,         // operands: the items
    kTuple,        // operands: the items
    kDict,         // operands: key, value, key, value, ...
    kAttribute,    // operands[0].name: jinja2 tries the attribute (method) first, then the item
    kSubscript,    // operands[0][operands[1]]: the item first, then the attribute
    kSlice,        // operands[0][operands[1]:operands[2]:operands[3]], absent parts null
    kCall,         // operands[0](args, kwargs)
    kFilter,       // operands[0] | name(args, kwargs); operands[0] is null in {% filter %} and {% set %} blocks
    kTest,         // operands[0] is [not] name(args); negated for `is not`
    kUnary,        // name operands[0]: "-", "+", "not"
    kBinary,       // operands[0] name operands[1]: + - * / // % ** ~ and or
    kCompare,      // operands[0] compare_ops[0] operands[1] compare_ops[1] operands[2] ...
    kConditional,  // operands[0] if operands[1] else operands[2]; no else: operands[2] null
  };

  Kind kind = Kind::kLiteral;
  SourcePos pos;
  Value literal;
  std::string name;
  std::vector<ExprPtr> operands;
  std::vector<std::string> compare_ops;  // ==, !=, <, <=, >, >=, in, not in
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr star_args;    // f(*xs): more positionals, from any iterable
  ExprPtr star_kwargs;  // f(**d): more keywords, from a dict
  bool negated = false;

  Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;
  ~Expr();  // frees the subtree without recursion: a refused 100,000-term chain cannot overflow the stack
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct TextNode {
  std::string text;
};
struct OutputNode {  // {{ value }}
  ExprPtr value;
};
struct IfNode {  // {% if %} {% elif %}... {% else %}
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body otherwise;
};
struct ForNode {                     // {% for targets in iterable if filter %} body {% else %} otherwise {% endfor %}
  std::vector<std::string> targets;  // one name, or several unpacked from each item
  ExprPtr iterable;
  ExprPtr filter;  // may be null
  Body body;
  Body otherwise;
};
struct SetNode {  // {% set targets = value %} or {% set namespace.attribute = value %}
  std::vector<std::string> targets;
  std::string attribute;  // non-empty: targets[0] names a namespace()
  ExprPtr value;
};
struct SetBlockNode {  // {% set target | filters %} body {% endset %}
  std::string target;
  ExprPtr filters;  // a kFilter chain over the rendered body, or null
  Body body;
};
struct MacroNode {  // {% macro name(params) %} body {% endmacro %}
  std::string name;
  std::vector<std::pair<std::string, ExprPtr>> params;  // default may be null
  Body body;
};
struct FilterBlockNode {  // {% filter filters %} body {% endfilter %}
  ExprPtr filters;
  Body body;
};
struct WithNode {  // {% with a = 1, b = 2 %} body {% endwith %}
  std::vector<std::pair<std::string, ExprPtr>> assignments;
  Body body;
};
struct LoopControlNode {  // {% break %} / {% continue %} (jinja2.ext.loopcontrols, which HF enables)
  bool is_break = false;
};
struct CallBlockNode {  // {% call(params) macro(args) %} body {% endcall %}: the macro gets caller()
  std::vector<std::pair<std::string, ExprPtr>> params;  // caller's own parameters
  ExprPtr call;                                         // a kCall of the macro
  Body body;
};
struct ScopeBlockNode {  // {% generation %}: HF's assistant-mask marker, rendered as its body
  Body body;
};

struct Stmt {
  SourcePos pos;
  std::variant<TextNode, OutputNode, IfNode, ForNode, SetNode, SetBlockNode, MacroNode, FilterBlockNode, WithNode,
               LoopControlNode, CallBlockNode, ScopeBlockNode>
      node;
};

}  // namespace dsmoe::jinja
