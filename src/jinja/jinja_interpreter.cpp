#include "jinja/jinja_interpreter.h"

#include <chrono>
#include <unordered_map>

#include "core/errors.h"
#include "jinja/jinja_access.h"
#include "jinja/jinja_builtins.h"
#include "jinja/jinja_limits.h"
#include "jinja/jinja_operators.h"

namespace dsmoe::jinja {
namespace {

struct Scope {
  std::unordered_map<std::string, Value> variables;
  std::shared_ptr<Scope> parent;
};
using ScopePtr = std::shared_ptr<Scope>;

ScopePtr child_of(const ScopePtr& parent) {
  auto scope = std::make_shared<Scope>();
  scope->parent = parent;
  return scope;
}

// Macro calls nest on the C++ stack; a runaway recursive macro stops here instead of overflowing it.
constexpr int kMaxCallDepth = 256;

class Interpreter {
 public:
  std::string render(const Body& body, const Value& context) {
    auto root = std::make_shared<Scope>();
    if (context.is_dict())
      for (const auto& [key, value] : context.as_dict().entries()) root->variables[key] = value;
    std::string out;
    exec_body(body, root, out);
    return out;
  }

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  // Scopes a macro was defined in stay alive for the whole render; macros hold them weakly, as the
  // scope also holds the macro.
  std::vector<ScopePtr> macro_scopes_;
  int call_depth_ = 0;
  int64_t steps_ = 0;  // statements run and expressions evaluated: a loop that does not end stops at the budget
  const std::chrono::steady_clock::time_point deadline_ =
      std::chrono::steady_clock::now() + std::chrono::seconds(kMaxRenderSeconds);

  void step() {
    if (++steps_ > kMaxRenderSteps) {
      render_fail("rendering took more than ", kMaxRenderSteps, " steps (a loop that does not end?)");
    }
    // The clock every 16 steps: a step may copy a string of up to kMaxRenderTextBytes (tens of milliseconds), so
    // a million of them could still take hours.
    if ((steps_ & 15) == 0 && std::chrono::steady_clock::now() > deadline_) {
      render_fail("rendering took more than ", kMaxRenderSeconds, " seconds (", steps_, " steps)");
    }
  }

  static void check_output(const std::string& out) { check_text_bytes(out.size(), "the template's output"); }

  Flow exec_body(const Body& body, const ScopePtr& scope, std::string& out) {
    for (const StmtPtr& stmt : body) {
      const Flow flow = exec(*stmt, scope, out);
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  Flow exec(const Stmt& stmt, const ScopePtr& scope, std::string& out) {
    try {
      step();
      return std::visit([&](const auto& node) { return exec_node(node, scope, out); }, stmt.node);
    } catch (const RenderError& e) {
      fail("chat template ", describe(stmt.pos), ": ", e.what());
    }
  }

  Flow exec_node(const TextNode& node, const ScopePtr&, std::string& out) {
    out += node.text;
    check_output(out);
    return Flow::kNormal;
  }

  Flow exec_node(const OutputNode& node, const ScopePtr& scope, std::string& out) {
    const Value value = eval(*node.value, scope);
    // jinja2 prints these as "<generator object ... at 0x...>" and "<built-in method ...>": nothing a
    // prompt should contain, and nothing this renderer could reproduce.
    if (value.is_list() && value.as_list().kind == SequenceKind::kGenerator)
      render_fail("cannot print a generator (jinja2 would print '<generator object ...>'); add '| list'");
    if (value.is_callable()) render_fail("cannot print the function '", value.as_callable().name, "'; call it");
    out += to_str(value);
    check_output(out);
    return Flow::kNormal;
  }

  Flow exec_node(const IfNode& node, const ScopePtr& scope, std::string& out) {
    for (const auto& [condition, body] : node.branches)
      if (truthy(eval(*condition, scope))) return exec_body(body, scope, out);
    return exec_body(node.otherwise, scope, out);
  }

  void bind_targets(Scope& scope, const std::vector<std::string>& targets, const Value& value) {
    if (targets.size() == 1) {
      scope.variables[targets[0]] = value;
      return;
    }
    const std::vector<Value> parts = iterate(value);
    if (parts.size() < targets.size())
      render_fail("not enough values to unpack (expected ", targets.size(), ", got ", parts.size(), ")");
    if (parts.size() > targets.size()) render_fail("too many values to unpack (expected ", targets.size(), ")");
    for (size_t i = 0; i < targets.size(); ++i) scope.variables[targets[i]] = parts[i];
  }

  // jinja2's LoopContext, as a dict: index, index0, revindex, revindex0, first, last, length, depth,
  // previtem/nextitem where they exist, and cycle(...).
  static Value loop_object(const std::vector<Value>& items, size_t i) {
    auto loop = std::make_shared<Dict>();
    const auto n = static_cast<int64_t>(items.size());
    const auto index0 = static_cast<int64_t>(i);
    loop->set("index", Value(index0 + 1));
    loop->set("index0", Value(index0));
    loop->set("revindex", Value(n - index0));
    loop->set("revindex0", Value(n - index0 - 1));
    loop->set("first", Value(i == 0));
    loop->set("last", Value(index0 == n - 1));
    loop->set("length", Value(n));
    loop->set("depth", Value(1));
    loop->set("depth0", Value(0));
    if (i > 0) loop->set("previtem", items[i - 1]);
    if (index0 + 1 < n) loop->set("nextitem", items[i + 1]);
    loop->set("cycle", Value::function("loop.cycle", [i](const CallArgs& call) {
                if (call.positional.empty()) render_fail("no items for cycling given");
                return call.positional[i % call.positional.size()];
              }));
    return Value(std::move(loop));
  }

  Flow exec_node(const ForNode& node, const ScopePtr& scope, std::string& out) {
    std::vector<Value> items = iterate(eval(*node.iterable, scope));
    if (node.filter) {  // `for x in xs if cond`: loop.length and loop.index count only the kept items
      std::vector<Value> kept;
      for (Value& item : items) {
        const ScopePtr probe = child_of(scope);
        bind_targets(*probe, node.targets, item);
        if (truthy(eval(*node.filter, probe))) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      exec_body(node.otherwise, child_of(scope), out);
      return Flow::kNormal;
    }
    for (size_t i = 0; i < items.size(); ++i) {
      step();  // an empty body still costs an iteration
      const ScopePtr iteration = child_of(scope);
      bind_targets(*iteration, node.targets, items[i]);
      iteration->variables["loop"] = loop_object(items, i);
      if (exec_body(node.body, iteration, out) == Flow::kBreak) break;
    }
    return Flow::kNormal;
  }

  Flow exec_node(const SetNode& node, const ScopePtr& scope, std::string&) {
    const Value value = eval(*node.value, scope);
    if (node.attribute.empty()) {
      bind_targets(*scope, node.targets, value);
      return Flow::kNormal;
    }
    const Value target = lookup(scope, node.targets[0]);
    if (target.is_undefined()) render_fail(target.undefined().hint);
    if (!target.is_dict() || !target.as_dict().is_namespace)
      render_fail("cannot assign attribute on non-namespace object ('", node.targets[0], "' is ", type_name(target),
                  ")");
    target.mutable_namespace().set(node.attribute, value);
    return Flow::kNormal;
  }

  Flow exec_node(const SetBlockNode& node, const ScopePtr& scope, std::string&) {
    std::string captured;
    exec_body(node.body, scope, captured);
    scope->variables[node.target] =
        node.filters ? filter_chain(*node.filters, Value(captured), scope) : Value(captured);
    return Flow::kNormal;
  }

  Flow exec_node(const FilterBlockNode& node, const ScopePtr& scope, std::string& out) {
    std::string captured;
    exec_body(node.body, scope, captured);
    out += to_str(filter_chain(*node.filters, Value(captured), scope));
    return Flow::kNormal;
  }

  Flow exec_node(const WithNode& node, const ScopePtr& scope, std::string& out) {
    const ScopePtr inner = child_of(scope);
    for (const auto& [name, value] : node.assignments) inner->variables[name] = eval(*value, scope);
    exec_body(node.body, inner, out);
    return Flow::kNormal;
  }

  Flow exec_node(const LoopControlNode& node, const ScopePtr&, std::string&) {
    return node.is_break ? Flow::kBreak : Flow::kContinue;
  }

  Flow exec_node(const ScopeBlockNode& node, const ScopePtr& scope, std::string& out) {
    return exec_body(node.body, scope, out);
  }

  Flow exec_node(const MacroNode& node, const ScopePtr& scope, std::string&) {
    macro_scopes_.push_back(scope);
    std::weak_ptr<Scope> closure = scope;
    const MacroNode* macro = &node;
    scope->variables[node.name] = Value::function(
        node.name, [this, macro, closure](const CallArgs& call) { return call_macro(*macro, closure.lock(), call); });
    return Flow::kNormal;
  }

  // Binds a call's arguments to `params` in `frame` as jinja2 binds a macro's: missing ones take their
  // default (evaluated in the frame) or are Undefined. A `caller` keyword, which {% call %} passes, is
  // bound whether or not it is a parameter.
  void bind_parameters(const std::string& name, const std::vector<std::pair<std::string, ExprPtr>>& params,
                       const ScopePtr& frame, const CallArgs& call) {
    if (call.positional.size() > params.size())
      render_fail("macro '", name, "' takes not more than ", params.size(), " argument(s)");
    // Every jinja2 macro has its own `caller`; without a {% call %} it is Undefined, not an outer one.
    frame->variables["caller"] = Value(Undefined{"No caller defined"});
    std::vector<bool> given(params.size(), false);
    for (size_t i = 0; i < call.positional.size(); ++i) {
      frame->variables[params[i].first] = call.positional[i];
      given[i] = true;
    }
    for (const auto& [key, value] : call.keyword) {
      size_t i = 0;
      while (i < params.size() && params[i].first != key) ++i;
      if (i == params.size() && key != "caller")
        render_fail("macro '", name, "' takes no keyword argument '", key, "'");
      if (i < params.size() && given[i]) render_fail("macro '", name, "' got multiple values for argument '", key, "'");
      frame->variables[key] = value;
      if (i < params.size()) given[i] = true;
    }
    for (size_t i = 0; i < params.size(); ++i) {
      if (given[i]) continue;
      const auto& [param, default_value] = params[i];
      frame->variables[param] =
          default_value ? eval(*default_value, frame) : Value(Undefined{"parameter '" + param + "' was not provided"});
    }
  }

  Value call_body(const std::string& name, const std::vector<std::pair<std::string, ExprPtr>>& params, const Body& body,
                  const ScopePtr& closure, const CallArgs& call) {
    const ScopePtr frame = child_of(closure);
    bind_parameters(name, params, frame, call);
    if (++call_depth_ > kMaxCallDepth) render_fail("macro calls nest deeper than ", kMaxCallDepth);
    std::string out;
    exec_body(body, frame, out);
    --call_depth_;
    return Value(std::move(out));
  }

  Value call_macro(const MacroNode& macro, const ScopePtr& closure, const CallArgs& call) {
    return call_body(macro.name, macro.params, macro.body, closure, call);
  }

  // {% call m(args) %}body{% endcall %}: m(args, caller=<body as a function>), the body run where it stands.
  Flow exec_node(const CallBlockNode& node, const ScopePtr& scope, std::string& out) {
    const Expr& call = *node.call;
    const Value callee = eval(*call.operands[0], scope);
    if (!callee.is_callable()) render_fail("{% call %} needs a macro, not '", type_name(callee), "'");
    CallArgs args = evaluate_arguments(call, scope);
    const CallBlockNode* block = &node;
    args.keyword.emplace_back("caller", Value::function("caller", [this, block, scope](const CallArgs& caller_args) {
                                return call_body("caller", block->params, block->body, scope, caller_args);
                              }));
    out += to_str(callee.as_callable().call(args));
    return Flow::kNormal;
  }

  static Value lookup(const ScopePtr& scope, const std::string& name) {
    for (const Scope* s = scope.get(); s != nullptr; s = s->parent.get()) {
      const auto it = s->variables.find(name);
      if (it != s->variables.end()) return it->second;
    }
    return global_value(name);
  }

  CallArgs evaluate_arguments(const Expr& e, const ScopePtr& scope) {
    CallArgs call;
    for (const ExprPtr& arg : e.args) call.positional.push_back(eval(*arg, scope));
    if (e.star_args)
      for (Value& v : iterate(eval(*e.star_args, scope))) call.positional.push_back(std::move(v));
    for (const auto& [key, arg] : e.kwargs) call.keyword.emplace_back(key, eval(*arg, scope));
    if (e.star_kwargs) {
      const Value extra = eval(*e.star_kwargs, scope);
      if (!extra.is_dict()) render_fail("argument after ** must be a mapping, not ", type_name(extra));
      for (const auto& [key, value] : extra.as_dict().entries()) {
        for (const auto& given : call.keyword)
          if (given.first == key) render_fail("got multiple values for keyword argument '", key, "'");
        call.keyword.emplace_back(key, value);
      }
    }
    return call;
  }

  // A filter chain from a {% filter %} or {% set %} block: the innermost filter's operand is the block.
  Value filter_chain(const Expr& chain, const Value& input, const ScopePtr& scope) {
    const Value value = chain.operands[0] ? filter_chain(*chain.operands[0], input, scope) : input;
    try {
      return apply_filter(chain.name, value, evaluate_arguments(chain, scope));
    } catch (const RenderError& e) {
      fail("chat template ", describe(chain.pos), ": ", e.what());
    }
  }

  Value eval(const Expr& e, const ScopePtr& scope) {
    try {
      step();
      return eval_node(e, scope);
    } catch (const RenderError& err) {
      fail("chat template ", describe(e.pos), ": ", err.what());
    }
  }

  Value eval_optional(const ExprPtr& e, const ScopePtr& scope) { return e ? eval(*e, scope) : Value(nullptr); }

  Value eval_node(const Expr& e, const ScopePtr& scope) {
    using K = Expr::Kind;
    switch (e.kind) {
      case K::kLiteral:
        return e.literal;
      case K::kName:
        return lookup(scope, e.name);
      case K::kList:
      case K::kTuple: {
        std::vector<Value> items;
        for (const ExprPtr& item : e.operands) items.push_back(eval(*item, scope));
        return Value::list(std::move(items), e.kind == K::kTuple ? SequenceKind::kTuple : SequenceKind::kList);
      }
      case K::kDict: {
        auto dict = std::make_shared<Dict>();
        for (size_t i = 0; i + 1 < e.operands.size(); i += 2) {
          const Value key = eval(*e.operands[i], scope);
          if (!key.is_string()) render_fail("dict literal keys must be strings here, not '", type_name(key), "'");
          dict->set(key.as_string(), eval(*e.operands[i + 1], scope));
        }
        return Value(std::move(dict));
      }
      case K::kAttribute:
        return get_attribute(eval(*e.operands[0], scope), e.name);
      case K::kSubscript:
        return get_item(eval(*e.operands[0], scope), eval(*e.operands[1], scope));
      case K::kSlice:
        if (!e.operands[0]) render_fail("a slice inside a tuple index is not supported");
        return get_slice(eval(*e.operands[0], scope), eval_optional(e.operands[1], scope),
                         eval_optional(e.operands[2], scope), eval_optional(e.operands[3], scope));
      case K::kCall: {
        const Value callee = eval(*e.operands[0], scope);
        const CallArgs call = evaluate_arguments(e, scope);
        if (callee.is_callable()) return callee.as_callable().call(call);
        if (callee.is_undefined()) render_fail(callee.undefined().hint);
        render_fail("'", type_name(callee), "' object is not callable");
      }
      case K::kFilter:
        return apply_filter(e.name, eval(*e.operands[0], scope), evaluate_arguments(e, scope));
      case K::kTest: {
        const bool passed = apply_test(e.name, eval(*e.operands[0], scope), evaluate_arguments(e, scope));
        return Value(passed != e.negated);
      }
      case K::kUnary:
        if (e.name == "not") return Value(!truthy(eval(*e.operands[0], scope)));
        return unary_operation(e.name, eval(*e.operands[0], scope));
      case K::kBinary: {
        Value left = eval(*e.operands[0], scope);
        if (e.name == "and") return truthy(left) ? eval(*e.operands[1], scope) : left;
        if (e.name == "or") return truthy(left) ? left : eval(*e.operands[1], scope);
        return binary_operation(e.name, left, eval(*e.operands[1], scope));
      }
      case K::kCompare:
        return Value(compare_chain(e, scope));
      case K::kConditional:
        if (truthy(eval(*e.operands[1], scope))) return eval(*e.operands[0], scope);
        if (e.operands[2]) return eval(*e.operands[2], scope);
        return Value(Undefined{"the inline if-expression evaluated to false and no else section was defined."});
    }
    render_fail("unknown expression");
  }

  // Python's chained comparison: a < b < c is a < b and b < c, with b evaluated once.
  bool compare_chain(const Expr& e, const ScopePtr& scope) {
    Value left = eval(*e.operands[0], scope);
    for (size_t i = 0; i < e.compare_ops.size(); ++i) {
      Value right = eval(*e.operands[i + 1], scope);
      const std::string& op = e.compare_ops[i];
      bool holds = false;
      if (op == "==") {
        holds = equals(left, right);
      } else if (op == "!=") {
        holds = !equals(left, right);
      } else if (op == "in" || op == "not in") {
        holds = contains(right, left) == (op == "in");
      } else {
        const int c = compare(left, right, op);
        holds = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
      }
      if (!holds) return false;
      left = std::move(right);
    }
    return true;
  }
};

}  // namespace

std::string render_body(const Body& body, const Value& context) { return Interpreter().render(body, context); }

}  // namespace dsmoe::jinja
