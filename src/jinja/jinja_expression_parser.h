// The token cursor shared by the statement parser and the expression grammar, and the expression
// grammar itself (jinja2's parser.py, from parse_expression down to parse_primary).
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "jinja/jinja_ast.h"

namespace dsmoe::jinja {

class TokenStream {
 public:
  explicit TokenStream(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  const Token& current() const { return tokens_[pos_]; }
  const Token& peek(size_t ahead = 1) const;
  const Token& next();  // returns the current token and advances

  bool at_name(std::string_view name) const;  // the current token is this name
  bool at_operator(std::string_view op) const;
  bool skip_name(std::string_view name);
  bool skip_operator(std::string_view op);
  const Token& expect_name(std::string_view what);
  void expect_operator(std::string_view op);
  void expect(Token::Type type, std::string_view what);

  [[noreturn]] void error_at(const Token& token, const std::string& message) const;

 private:
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

// A short description of a token for error messages: "'endfor'", "end of tag", ...
std::string token_description(const Token& token);

class ExpressionParser {
 public:
  explicit ExpressionParser(TokenStream& stream) : s_(stream) {}

  ExprPtr expression(bool with_condition = true);
  // A comma-separated sequence becomes a tuple, as in `{% set a = 1, 2 %}` or `for x in a, b`.
  // `end_names` also end it (the `recursive` of a for loop).
  ExprPtr tuple(bool with_condition = true, std::initializer_list<std::string_view> end_names = {},
                bool explicit_parentheses = false);
  // Assignment targets: `x`, `a, b`, `(a, b)`; with_namespace also `ns.attr` (returned as name + attribute).
  std::vector<std::string> assign_target(std::initializer_list<std::string_view> end_names, bool with_tuple,
                                         std::string* namespace_attribute);
  ExprPtr filter_chain(ExprPtr input, bool start_inline);

 private:
  class Nesting;  // counts one level of nesting while it is parsed (jinja_limits.h)
  TokenStream& s_;
  int nesting_ = 0;

  // The tree of an outermost expression, refused when deeper than kMaxExpressionDepth (the interpreter
  // evaluates it recursively); measured without recursion.
  ExprPtr within_depth(ExprPtr expr, const SourcePos& pos) const;

  ExprPtr condition_expr();
  ExprPtr or_expr();
  ExprPtr and_expr();
  ExprPtr not_expr();
  ExprPtr compare_expr();
  ExprPtr add_expr();
  ExprPtr concat_expr();
  ExprPtr multiply_expr();
  ExprPtr power_expr();
  ExprPtr unary_expr(bool with_filter);
  ExprPtr primary();
  ExprPtr postfix(ExprPtr node);
  ExprPtr filters_and_tests(ExprPtr node);
  ExprPtr subscript(ExprPtr node);
  ExprPtr slice_or_index();
  ExprPtr call(ExprPtr callee);
  ExprPtr test(ExprPtr node);
  void call_arguments(Expr& node);
  bool at_tuple_end(std::initializer_list<std::string_view> end_names) const;
};

ExprPtr make_expr(Expr::Kind kind, const SourcePos& pos);

}  // namespace dsmoe::jinja
