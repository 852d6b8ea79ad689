#include "jinja/jinja_parser.h"

#include <algorithm>

#include "core/errors.h"
#include "jinja/jinja_expression_parser.h"
#include "jinja/jinja_limits.h"

namespace dsmoe::jinja {
namespace {

// Tags jinja2 knows that this renderer leaves out, with what they would need.
const char* unsupported_reason(const std::string& tag) {
  if (tag == "include" || tag == "import" || tag == "from" || tag == "extends")
    return "templates that load other templates are not supported";
  if (tag == "block") return "template inheritance blocks are not supported";
  if (tag == "autoescape") return "autoescaping is not supported (HF renders with autoescape off)";
  if (tag == "do") return "the 'do' extension is not enabled in HF's environment";
  return nullptr;
}

bool closes_a_block(const std::string& tag) { return tag.rfind("end", 0) == 0 || tag == "else" || tag == "elif"; }

class StatementParser {
 public:
  explicit StatementParser(std::vector<Token> tokens) : s_(std::move(tokens)), expr_(s_) {}

  Body parse() {
    Body body = parse_body({}, "");
    if (s_.current().type != Token::Type::kEnd)
      s_.error_at(s_.current(), "unexpected " + token_description(s_.current()));
    return body;
  }

 private:
  TokenStream s_;
  ExpressionParser expr_;
  int loop_depth_ = 0;   // break/continue are only valid inside a for loop
  int block_depth_ = 0;  // blocks open around the current one (jinja_limits.h)

  template <typename Node>
  StmtPtr make(const SourcePos& pos, Node node) {
    auto stmt = std::make_unique<Stmt>();
    stmt->pos = pos;
    stmt->node = std::move(node);
    return stmt;
  }

  // Statements until a `{% name %}` tag whose name is one of `end_names`; that tag's name is left current.
  // `opening` names the statement being closed, for the error when the template ends first.
  Body parse_body(std::initializer_list<std::string_view> end_names, const std::string& opening,
                  const SourcePos& opened_at = {}) {
    // Blocks nest on the parser's (and later the renderer's) stack: a bounded number of them.
    struct Depth {
      int& depth;
      ~Depth() { --depth; }
    } depth{++block_depth_};
    if (block_depth_ > kMaxTemplateNesting + 1) {
      fail("chat template ", describe(opened_at), ": blocks nested deeper than ", kMaxTemplateNesting, " levels");
    }
    Body body;
    while (true) {
      const Token& t = s_.current();
      if (t.type == Token::Type::kEnd) {
        if (end_names.size() == 0) return body;
        fail("chat template ", describe(opened_at), ": '", opening, "' is never closed (expected '",
             *(end_names.end() - 1), "' before the end of the template)");
      }
      if (t.type == Token::Type::kText) {
        body.push_back(make(t.pos, TextNode{t.text}));
        s_.next();
      } else if (t.type == Token::Type::kVariableBegin) {
        const SourcePos pos = s_.next().pos;
        ExprPtr value = expr_.tuple();
        s_.expect(Token::Type::kVariableEnd, "'}}'");
        body.push_back(make(pos, OutputNode{std::move(value)}));
      } else if (t.type == Token::Type::kBlockBegin) {
        s_.next();
        const Token& tag = s_.current();
        if (tag.type == Token::Type::kName &&
            std::find(end_names.begin(), end_names.end(), tag.text) != end_names.end())
          return body;
        if (tag.type == Token::Type::kName && end_names.size() > 0 && closes_a_block(tag.text))
          fail("chat template ", describe(tag.pos), ": unexpected '{% ", tag.text, " %}': expected '",
               *(end_names.end() - 1), "' to close the '", opening, "' at ", describe(opened_at));
        body.push_back(statement());
      } else {
        s_.error_at(t, "unexpected " + token_description(t));
      }
    }
  }

  void end_of_tag() { s_.expect(Token::Type::kBlockEnd, "'%}'"); }

  // Consumes `{% name %}` closing a block; the name is current.
  void close_block(std::string_view name) {
    s_.expect_name(name);
    end_of_tag();
  }

  StmtPtr statement() {
    const Token& tag = s_.current();
    if (tag.type != Token::Type::kName) s_.error_at(tag, "expected a statement name after '{%'");
    const std::string name = tag.text;
    const SourcePos pos = tag.pos;
    if (const char* reason = unsupported_reason(name))
      fail("chat template ", describe(pos), ": unsupported construct '{% ", name, " %}': ", reason);
    s_.next();
    if (name == "if") return if_statement(pos);
    if (name == "for") return for_statement(pos);
    if (name == "set") return set_statement(pos);
    if (name == "macro") return macro_statement(pos);
    if (name == "filter") return filter_statement(pos);
    if (name == "with") return with_statement(pos);
    if (name == "call") return call_statement(pos);
    if (name == "print") {
      ExprPtr value = expr_.tuple();
      end_of_tag();
      return make(pos, OutputNode{std::move(value)});
    }
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) fail("chat template ", describe(pos), ": '", name, "' outside of a for loop");
      end_of_tag();
      return make(pos, LoopControlNode{name == "break"});
    }
    if (name == "generation") {
      end_of_tag();
      Body body = parse_body({"endgeneration"}, "generation", pos);
      close_block("endgeneration");
      return make(pos, ScopeBlockNode{std::move(body)});
    }
    if (closes_a_block(name))
      fail("chat template ", describe(pos), ": unexpected '{% ", name, " %}' with no open block it could close");
    fail("chat template ", describe(pos), ": unsupported construct '{% ", name, " %}': unknown tag");
  }

  StmtPtr if_statement(const SourcePos& pos) {
    IfNode node;
    while (true) {
      ExprPtr condition = expr_.tuple(false);
      end_of_tag();
      Body body = parse_body({"elif", "else", "endif"}, "if", pos);
      node.branches.emplace_back(std::move(condition), std::move(body));
      if (s_.skip_name("elif")) continue;
      if (s_.skip_name("else")) {
        end_of_tag();
        node.otherwise = parse_body({"endif"}, "if", pos);
      }
      close_block("endif");
      return make(pos, std::move(node));
    }
  }

  StmtPtr for_statement(const SourcePos& pos) {
    ForNode node;
    node.targets = expr_.assign_target({"in"}, true, nullptr);
    s_.expect_name("'in'");
    node.iterable = expr_.tuple(false, {"recursive"});
    if (s_.skip_name("if")) node.filter = expr_.expression();
    if (s_.at_name("recursive")) s_.error_at(s_.current(), "unsupported construct 'recursive' for loops");
    end_of_tag();
    ++loop_depth_;
    node.body = parse_body({"else", "endfor"}, "for", pos);
    --loop_depth_;
    if (s_.skip_name("else")) {
      end_of_tag();
      node.otherwise = parse_body({"endfor"}, "for", pos);
    }
    close_block("endfor");
    return make(pos, std::move(node));
  }

  StmtPtr set_statement(const SourcePos& pos) {
    std::string attribute;
    std::vector<std::string> targets = expr_.assign_target({}, true, &attribute);
    if (s_.skip_operator("=")) {
      ExprPtr value = expr_.tuple();
      end_of_tag();
      return make(pos, SetNode{std::move(targets), std::move(attribute), std::move(value)});
    }
    if (!attribute.empty() || targets.size() != 1)
      s_.error_at(s_.current(), "a block {% set %} assigns one plain name");
    ExprPtr filters = s_.at_operator("|") ? expr_.filter_chain(nullptr, false) : nullptr;
    end_of_tag();
    Body body = parse_body({"endset"}, "set", pos);
    close_block("endset");
    return make(pos, SetBlockNode{targets[0], std::move(filters), std::move(body)});
  }

  StmtPtr macro_statement(const SourcePos& pos) {
    MacroNode node;
    node.name = s_.expect_name("a macro name").text;
    node.params = signature();
    end_of_tag();
    const int saved_depth = loop_depth_;
    loop_depth_ = 0;  // a loop around the definition is not a loop around the body
    node.body = parse_body({"endmacro"}, "macro", pos);
    loop_depth_ = saved_depth;
    close_block("endmacro");
    return make(pos, std::move(node));
  }

  // `(a, b='x')`, the parameter list of a macro or of a call block's caller.
  std::vector<std::pair<std::string, ExprPtr>> signature() {
    std::vector<std::pair<std::string, ExprPtr>> params;
    s_.expect_operator("(");
    while (!s_.at_operator(")")) {
      if (!params.empty()) s_.expect_operator(",");
      const Token& param = s_.expect_name("a parameter name");
      ExprPtr default_value = s_.skip_operator("=") ? expr_.expression() : nullptr;
      if (!default_value && !params.empty() && params.back().second)
        s_.error_at(param, "non-default argument follows default argument");
      params.emplace_back(param.text, std::move(default_value));
    }
    s_.next();
    return params;
  }

  StmtPtr call_statement(const SourcePos& pos) {
    CallBlockNode node;
    if (s_.at_operator("(")) node.params = signature();
    node.call = expr_.expression();
    if (node.call->kind != Expr::Kind::kCall) s_.error_at(s_.current(), "{% call %} needs a macro call");
    end_of_tag();
    const int saved_depth = loop_depth_;
    loop_depth_ = 0;
    node.body = parse_body({"endcall"}, "call", pos);
    loop_depth_ = saved_depth;
    close_block("endcall");
    return make(pos, std::move(node));
  }

  StmtPtr filter_statement(const SourcePos& pos) {
    ExprPtr filters = expr_.filter_chain(nullptr, true);
    end_of_tag();
    Body body = parse_body({"endfilter"}, "filter", pos);
    close_block("endfilter");
    return make(pos, FilterBlockNode{std::move(filters), std::move(body)});
  }

  StmtPtr with_statement(const SourcePos& pos) {
    WithNode node;
    while (s_.current().type != Token::Type::kBlockEnd) {
      if (!node.assignments.empty()) s_.expect_operator(",");
      std::string name = s_.expect_name("a variable name").text;
      s_.expect_operator("=");
      node.assignments.emplace_back(std::move(name), expr_.expression());
    }
    end_of_tag();
    node.body = parse_body({"endwith"}, "with", pos);
    close_block("endwith");
    return make(pos, std::move(node));
  }
};

}  // namespace

Body parse_template(const std::string& source) { return StatementParser(lex_template(source)).parse(); }

}  // namespace dsmoe::jinja
