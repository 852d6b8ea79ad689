#include "jinja/jinja_expression_parser.h"

#include <utility>
#include <vector>

#include "core/errors.h"
#include "jinja/jinja_builtins.h"
#include "jinja/jinja_limits.h"

namespace dsmoe::jinja {

ExprPtr make_expr(Expr::Kind kind, const SourcePos& pos) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->pos = pos;
  return e;
}

namespace {

ExprPtr binary(const std::string& op, ExprPtr left, ExprPtr right, const SourcePos& pos) {
  ExprPtr node = make_expr(Expr::Kind::kBinary, pos);
  node->name = op;
  node->operands.push_back(std::move(left));
  node->operands.push_back(std::move(right));
  return node;
}

}  // namespace

const Token& TokenStream::peek(size_t ahead) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }

const Token& TokenStream::next() {
  const Token& t = tokens_[pos_];
  if (pos_ + 1 < tokens_.size()) ++pos_;
  return t;
}

bool TokenStream::at_name(std::string_view name) const {
  return current().type == Token::Type::kName && current().text == name;
}

bool TokenStream::at_operator(std::string_view op) const {
  return current().type == Token::Type::kOperator && current().text == op;
}

bool TokenStream::skip_name(std::string_view name) {
  if (!at_name(name)) return false;
  next();
  return true;
}

bool TokenStream::skip_operator(std::string_view op) {
  if (!at_operator(op)) return false;
  next();
  return true;
}

const Token& TokenStream::expect_name(std::string_view what) {
  if (current().type != Token::Type::kName)
    error_at(current(), cat("expected ", what, ", found ", token_description(current())));
  return next();
}

void TokenStream::expect_operator(std::string_view op) {
  if (!at_operator(op)) error_at(current(), cat("expected '", op, "', found ", token_description(current())));
  next();
}

void TokenStream::expect(Token::Type type, std::string_view what) {
  if (current().type != type) error_at(current(), cat("expected ", what, ", found ", token_description(current())));
  next();
}

void TokenStream::error_at(const Token& token, const std::string& message) const {
  fail("chat template ", describe(token.pos), ": ", message);
}

std::string token_description(const Token& token) {
  switch (token.type) {
    case Token::Type::kText:
      return "template text";
    case Token::Type::kVariableBegin:
      return "'{{'";
    case Token::Type::kVariableEnd:
      return "end of expression '}}'";
    case Token::Type::kBlockBegin:
      return "'{%'";
    case Token::Type::kBlockEnd:
      return "end of statement '%}'";
    case Token::Type::kEnd:
      return "end of template";
    case Token::Type::kString:
      return "string literal";
    default:
      return cat("'", token.text, "'");
  }
}

Expr::~Expr() {
  std::vector<ExprPtr> pending;
  auto adopt_children = [&pending](Expr& e) {
    for (ExprPtr& child : e.operands) pending.push_back(std::move(child));
    for (ExprPtr& child : e.args) pending.push_back(std::move(child));
    for (auto& keyword : e.kwargs) pending.push_back(std::move(keyword.second));
    pending.push_back(std::move(e.star_args));
    pending.push_back(std::move(e.star_kwargs));
  };
  adopt_children(*this);
  while (!pending.empty()) {
    ExprPtr next = std::move(pending.back());
    pending.pop_back();
    if (next) adopt_children(*next);  // `next` is then freed with no children left
  }
}

class ExpressionParser::Nesting {
 public:
  explicit Nesting(ExpressionParser& parser) : parser_(parser) {
    if (++parser_.nesting_ > kMaxTemplateNesting) {
      parser_.s_.error_at(parser_.s_.current(), cat("expression nested deeper than ", kMaxTemplateNesting, " levels"));
    }
  }
  ~Nesting() { --parser_.nesting_; }
  Nesting(const Nesting&) = delete;
  Nesting& operator=(const Nesting&) = delete;

 private:
  ExpressionParser& parser_;
};

ExprPtr ExpressionParser::within_depth(ExprPtr expr, const SourcePos& pos) const {
  std::vector<std::pair<const Expr*, int>> pending{{expr.get(), 1}};
  while (!pending.empty()) {
    const auto [e, depth] = pending.back();
    pending.pop_back();
    if (e == nullptr) continue;
    if (depth > kMaxExpressionDepth) {
      fail("chat template ", describe(pos), ": expression nested deeper than ", kMaxExpressionDepth,
           " levels (a chain such as a + b + c ... counts each term)");
    }
    for (const ExprPtr& child : e->operands) pending.emplace_back(child.get(), depth + 1);
    for (const ExprPtr& child : e->args) pending.emplace_back(child.get(), depth + 1);
    for (const auto& keyword : e->kwargs) pending.emplace_back(keyword.second.get(), depth + 1);
    pending.emplace_back(e->star_args.get(), depth + 1);
    pending.emplace_back(e->star_kwargs.get(), depth + 1);
  }
  return expr;
}

// Every bracket, call and subscript parses its contents through here: the nesting is counted once a level.
ExprPtr ExpressionParser::expression(bool with_condition) {
  const SourcePos pos = s_.current().pos;
  const Nesting nesting(*this);
  ExprPtr expr = with_condition ? condition_expr() : or_expr();
  if (nesting_ == 1) return within_depth(std::move(expr), pos);
  return expr;
}

bool ExpressionParser::at_tuple_end(std::initializer_list<std::string_view> end_names) const {
  const Token& t = s_.current();
  if (t.type == Token::Type::kVariableEnd || t.type == Token::Type::kBlockEnd || t.type == Token::Type::kEnd ||
      s_.at_operator(")"))
    return true;
  for (std::string_view name : end_names)
    if (s_.at_name(name)) return true;
  return false;
}

ExprPtr ExpressionParser::tuple(bool with_condition, std::initializer_list<std::string_view> end_names,
                                bool explicit_parentheses) {
  const SourcePos pos = s_.current().pos;
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) s_.expect_operator(",");
    if (at_tuple_end(end_names)) break;
    items.push_back(expression(with_condition));
    if (!s_.at_operator(",")) break;
    is_tuple = true;
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parentheses)
      s_.error_at(s_.current(), "expected an expression, found " + token_description(s_.current()));
  }
  ExprPtr node = make_expr(Expr::Kind::kTuple, pos);
  node->operands = std::move(items);
  return node;
}

std::vector<std::string> ExpressionParser::assign_target(std::initializer_list<std::string_view> end_names,
                                                         bool with_tuple, std::string* namespace_attribute) {
  if (namespace_attribute != nullptr && s_.current().type == Token::Type::kName &&
      s_.peek().type == Token::Type::kOperator && s_.peek().text == ".") {
    std::string name = s_.next().text;
    s_.next();
    *namespace_attribute = s_.expect_name("an attribute name after '.'").text;
    return {name};
  }
  std::vector<std::string> names;
  const bool parenthesized = s_.skip_operator("(");
  while (true) {
    const Token& t = s_.current();
    if (t.type != Token::Type::kName) s_.error_at(t, "can't assign to " + token_description(t) + ": expected a name");
    if (t.text == "true" || t.text == "false" || t.text == "none" || t.text == "True" || t.text == "False" ||
        t.text == "None")
      s_.error_at(t, "can't assign to the constant '" + t.text + "'");
    names.push_back(s_.next().text);
    if (!(with_tuple || parenthesized) || !s_.at_operator(",")) break;
    s_.next();
    bool end = s_.at_operator(")") || s_.at_operator("=");
    for (std::string_view n : end_names) end = end || s_.at_name(n);
    if (end) break;
  }
  if (parenthesized) s_.expect_operator(")");
  return names;
}

ExprPtr ExpressionParser::condition_expr() {
  ExprPtr expr = or_expr();
  while (s_.at_name("if")) {
    const SourcePos pos = s_.next().pos;
    ExprPtr node = make_expr(Expr::Kind::kConditional, pos);
    ExprPtr condition = or_expr();
    ExprPtr otherwise;
    if (s_.skip_name("else")) {
      const Nesting nesting(*this);
      otherwise = condition_expr();
    }
    node->operands.push_back(std::move(expr));
    node->operands.push_back(std::move(condition));
    node->operands.push_back(std::move(otherwise));
    expr = std::move(node);
  }
  return expr;
}

ExprPtr ExpressionParser::or_expr() {
  ExprPtr left = and_expr();
  while (s_.at_name("or")) {
    const SourcePos pos = s_.next().pos;
    left = binary("or", std::move(left), and_expr(), pos);
  }
  return left;
}

ExprPtr ExpressionParser::and_expr() {
  ExprPtr left = not_expr();
  while (s_.at_name("and")) {
    const SourcePos pos = s_.next().pos;
    left = binary("and", std::move(left), not_expr(), pos);
  }
  return left;
}

ExprPtr ExpressionParser::not_expr() {
  if (!s_.at_name("not")) return compare_expr();
  const Nesting nesting(*this);
  ExprPtr node = make_expr(Expr::Kind::kUnary, s_.next().pos);
  node->name = "not";
  node->operands.push_back(not_expr());
  return node;
}

ExprPtr ExpressionParser::compare_expr() {
  ExprPtr first = add_expr();
  ExprPtr node;
  while (true) {
    std::string op;
    const Token& t = s_.current();
    if (t.type == Token::Type::kOperator &&
        (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">=")) {
      op = t.text;
      s_.next();
    } else if (s_.at_name("in")) {
      op = "in";
      s_.next();
    } else if (s_.at_name("not") && s_.peek().type == Token::Type::kName && s_.peek().text == "in") {
      op = "not in";
      s_.next();
      s_.next();
    } else {
      break;
    }
    if (!node) {
      node = make_expr(Expr::Kind::kCompare, first->pos);
      node->operands.push_back(std::move(first));
    }
    node->compare_ops.push_back(op);
    node->operands.push_back(add_expr());
  }
  return node ? std::move(node) : std::move(first);
}

ExprPtr ExpressionParser::add_expr() {
  ExprPtr left = concat_expr();
  while (s_.at_operator("+") || s_.at_operator("-")) {
    const Token& t = s_.next();
    left = binary(t.text, std::move(left), concat_expr(), t.pos);
  }
  return left;
}

ExprPtr ExpressionParser::concat_expr() {
  ExprPtr left = multiply_expr();
  while (s_.at_operator("~")) {
    const SourcePos pos = s_.next().pos;
    left = binary("~", std::move(left), multiply_expr(), pos);
  }
  return left;
}

ExprPtr ExpressionParser::multiply_expr() {
  ExprPtr left = power_expr();
  while (s_.at_operator("*") || s_.at_operator("/") || s_.at_operator("//") || s_.at_operator("%")) {
    const Token& t = s_.next();
    left = binary(t.text, std::move(left), power_expr(), t.pos);
  }
  return left;
}

// jinja2 folds ** to the left (2 ** 3 ** 2 == 64), unlike Python.
ExprPtr ExpressionParser::power_expr() {
  ExprPtr left = unary_expr(true);
  while (s_.at_operator("**")) {
    const SourcePos pos = s_.next().pos;
    left = binary("**", std::move(left), unary_expr(true), pos);
  }
  return left;
}

// A sign binds tighter than filters: `-x | abs` is `(-x) | abs`.
ExprPtr ExpressionParser::unary_expr(bool with_filter) {
  ExprPtr node;
  if (s_.at_operator("-") || s_.at_operator("+")) {
    const Nesting nesting(*this);
    const Token& t = s_.next();
    node = make_expr(Expr::Kind::kUnary, t.pos);
    node->name = t.text;
    node->operands.push_back(unary_expr(false));
  } else {
    node = primary();
  }
  node = postfix(std::move(node));
  return with_filter ? filters_and_tests(std::move(node)) : std::move(node);
}

ExprPtr ExpressionParser::primary() {
  const Token& t = s_.current();
  switch (t.type) {
    case Token::Type::kName: {
      ExprPtr node = make_expr(Expr::Kind::kLiteral, t.pos);
      if (t.text == "true" || t.text == "True") {
        node->literal = Value(true);
      } else if (t.text == "false" || t.text == "False") {
        node->literal = Value(false);
      } else if (t.text == "none" || t.text == "None") {
        node->literal = Value(nullptr);
      } else {
        node->kind = Expr::Kind::kName;
        node->name = t.text;
      }
      s_.next();
      return node;
    }
    case Token::Type::kString: {
      ExprPtr node = make_expr(Expr::Kind::kLiteral, t.pos);
      std::string text;
      while (s_.current().type == Token::Type::kString) text += s_.next().text;  // 'a' 'b' == 'ab'
      node->literal = Value(std::move(text));
      return node;
    }
    case Token::Type::kInteger:
    case Token::Type::kFloat: {
      ExprPtr node = make_expr(Expr::Kind::kLiteral, t.pos);
      node->literal = t.type == Token::Type::kInteger ? Value(t.integer) : Value(t.number);
      s_.next();
      return node;
    }
    default:
      break;
  }
  if (s_.at_operator("(")) {
    s_.next();
    ExprPtr node = tuple(true, {}, true);
    s_.expect_operator(")");
    return node;
  }
  if (s_.at_operator("[") || s_.at_operator("{")) {
    const bool is_dict = s_.at_operator("{");
    ExprPtr node = make_expr(is_dict ? Expr::Kind::kDict : Expr::Kind::kList, s_.next().pos);
    const char* close = is_dict ? "}" : "]";
    while (!s_.at_operator(close)) {
      if (!node->operands.empty()) s_.expect_operator(",");
      if (s_.at_operator(close)) break;  // a trailing comma
      node->operands.push_back(expression());
      if (is_dict) {
        s_.expect_operator(":");
        node->operands.push_back(expression());
      }
    }
    s_.next();
    return node;
  }
  s_.error_at(t, "unexpected " + token_description(t) + " where an expression should start");
}

ExprPtr ExpressionParser::postfix(ExprPtr node) {
  while (true) {
    if (s_.at_operator(".") || s_.at_operator("[")) {
      node = subscript(std::move(node));
    } else if (s_.at_operator("(")) {
      node = call(std::move(node));
    } else {
      return node;
    }
  }
}

ExprPtr ExpressionParser::filters_and_tests(ExprPtr node) {
  while (true) {
    if (s_.at_operator("|")) {
      node = filter_chain(std::move(node), false);
    } else if (s_.at_name("is")) {
      node = test(std::move(node));
    } else if (s_.at_operator("(")) {
      node = call(std::move(node));
    } else {
      return node;
    }
  }
}

ExprPtr ExpressionParser::subscript(ExprPtr node) {
  const Token& t = s_.next();
  if (t.text == ".") {
    const Token& attr = s_.current();
    if (attr.type == Token::Type::kName) {
      ExprPtr out = make_expr(Expr::Kind::kAttribute, attr.pos);
      out->name = s_.next().text;
      out->operands.push_back(std::move(node));
      return out;
    }
    if (attr.type != Token::Type::kInteger) s_.error_at(attr, "expected an attribute name after '.'");
    ExprPtr out = make_expr(Expr::Kind::kSubscript, attr.pos);
    out->operands.push_back(std::move(node));
    out->operands.push_back(make_expr(Expr::Kind::kLiteral, attr.pos));
    out->operands.back()->literal = Value(s_.next().integer);
    return out;
  }
  std::vector<ExprPtr> indices;
  while (!s_.at_operator("]")) {
    if (!indices.empty()) s_.expect_operator(",");
    indices.push_back(slice_or_index());
  }
  s_.next();
  if (indices.empty()) s_.error_at(t, "expected an index inside '[]'");
  ExprPtr index;
  if (indices.size() == 1) {
    index = std::move(indices[0]);
  } else {
    index = make_expr(Expr::Kind::kTuple, t.pos);
    index->operands = std::move(indices);
  }
  if (index->kind == Expr::Kind::kSlice) {  // the slice node takes the sliced object as operands[0]
    index->operands[0] = std::move(node);
    return index;
  }
  ExprPtr out = make_expr(Expr::Kind::kSubscript, t.pos);
  out->operands.push_back(std::move(node));
  out->operands.push_back(std::move(index));
  return out;
}

// `a`, or a slice `a:b:c` with any part left out (returned as kSlice with operands[0] left empty).
ExprPtr ExpressionParser::slice_or_index() {
  const SourcePos pos = s_.current().pos;
  ExprPtr start;
  if (!s_.at_operator(":")) {
    start = expression();
    if (!s_.at_operator(":")) return start;
  }
  s_.next();
  auto part_ends = [this] { return s_.at_operator("]") || s_.at_operator(","); };
  ExprPtr stop = s_.at_operator(":") || part_ends() ? nullptr : expression();
  ExprPtr step;
  if (s_.skip_operator(":") && !part_ends()) step = expression();
  ExprPtr slice = make_expr(Expr::Kind::kSlice, pos);
  slice->operands.push_back(nullptr);
  slice->operands.push_back(std::move(start));
  slice->operands.push_back(std::move(stop));
  slice->operands.push_back(std::move(step));
  return slice;
}

void ExpressionParser::call_arguments(Expr& node) {
  s_.expect_operator("(");
  while (!s_.at_operator(")")) {
    if (!node.args.empty() || !node.kwargs.empty() || node.star_args || node.star_kwargs) {
      s_.expect_operator(",");
      if (s_.at_operator(")")) break;
    }
    if (s_.at_operator("*") || s_.at_operator("**")) {
      const bool keywords = s_.next().text == "**";
      ExprPtr& slot = keywords ? node.star_kwargs : node.star_args;
      if (slot) s_.error_at(s_.current(), keywords ? "'**' given twice in a call" : "'*' given twice in a call");
      slot = expression();
      continue;
    }
    if (node.star_args || node.star_kwargs) s_.error_at(s_.current(), "arguments after *args or **kwargs");
    if (s_.current().type == Token::Type::kName && s_.peek().type == Token::Type::kOperator && s_.peek().text == "=") {
      std::string key = s_.next().text;
      s_.next();
      node.kwargs.emplace_back(std::move(key), expression());
    } else {
      if (!node.kwargs.empty()) s_.error_at(s_.current(), "positional argument follows keyword argument");
      node.args.push_back(expression());
    }
  }
  s_.next();
}

ExprPtr ExpressionParser::call(ExprPtr callee) {
  ExprPtr node = make_expr(Expr::Kind::kCall, s_.current().pos);
  node->operands.push_back(std::move(callee));
  call_arguments(*node);
  return node;
}

ExprPtr ExpressionParser::filter_chain(ExprPtr input, bool start_inline) {
  const SourcePos pos = s_.current().pos;
  while (s_.at_operator("|") || start_inline) {
    if (!start_inline) s_.next();
    start_inline = false;
    const Token& name = s_.expect_name("a filter name");
    ExprPtr node = make_expr(Expr::Kind::kFilter, name.pos);
    node->name = name.text;
    while (s_.skip_operator(".")) node->name += "." + s_.expect_name("a filter name").text;
    if (!is_known_filter(node->name))
      s_.error_at(name,
                  "unsupported construct: filter '" + node->name + "' is not implemented (or not a jinja2 filter)");
    node->operands.push_back(std::move(input));
    if (s_.at_operator("(")) call_arguments(*node);
    input = std::move(node);
  }
  if (nesting_ == 0) return within_depth(std::move(input), pos);  // a {% filter %} chain: from the statement parser
  return input;
}

ExprPtr ExpressionParser::test(ExprPtr node) {
  s_.next();  // is
  const bool negated = s_.skip_name("not");
  const Token& name = s_.expect_name("a test name after 'is'");
  ExprPtr out = make_expr(Expr::Kind::kTest, name.pos);
  out->name = name.text;
  while (s_.skip_operator(".")) out->name += "." + s_.expect_name("a test name").text;
  if (!is_known_test(out->name))
    s_.error_at(name, "unsupported construct: test '" + out->name + "' is not implemented (or not a jinja2 test)");
  out->negated = negated;
  out->operands.push_back(std::move(node));
  const Token& t = s_.current();
  if (s_.at_operator("(")) {
    call_arguments(*out);
  } else if ((t.type == Token::Type::kName || t.type == Token::Type::kString || t.type == Token::Type::kInteger ||
              t.type == Token::Type::kFloat || s_.at_operator("[") || s_.at_operator("{")) &&
             !s_.at_name("else") && !s_.at_name("or") && !s_.at_name("and")) {
    // jinja2 takes one argument without parentheses: `x is divisibleby 3`, `x is sameas false`.
    if (s_.at_name("is")) s_.error_at(t, "tests cannot be chained with 'is'");
    out->args.push_back(postfix(primary()));
  }
  return out;
}

}  // namespace dsmoe::jinja
