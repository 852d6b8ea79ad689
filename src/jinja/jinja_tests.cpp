// jinja2's builtin tests (tests.py): `x is defined`, `x is none`, `x is string`, ... Each mirrors the
// Python check it is written as, including the surprises: `is number` holds for booleans, `is sequence`
// for dicts and strings, `is true` only for the True singleton.
#include <functional>
#include <map>

#include "jinja/jinja_arguments.h"
#include "jinja/jinja_builtins.h"
#include "jinja/jinja_operators.h"
#include "jinja/jinja_unicode.h"

namespace dsmoe::jinja {
namespace {

using Test = std::function<bool(const Value& value, const CallArgs& call)>;

template <typename Check>
Test unary(const char* name, Check check) {
  return [name, check](const Value& v, const CallArgs& call) {
    expect_positional(name, call, 0, 0);
    return check(v);
  };
}

const Value& other_operand(const char* name, const CallArgs& call) {
  expect_positional(name, call, 1, 1);
  return call.positional[0];
}

Test comparison(const char* name, const char* op) {
  return [name, op](const Value& v, const CallArgs& call) {
    const Value& other = other_operand(name, call);
    const std::string_view o = op;
    if (o == "==") return equals(v, other);
    if (o == "!=") return !equals(v, other);
    const int c = compare(v, other, op);
    return o == "<" ? c < 0 : o == "<=" ? c <= 0 : o == ">" ? c > 0 : c >= 0;
  };
}

bool is_generator(const Value& v) { return v.is_list() && v.as_list().kind == SequenceKind::kGenerator; }

bool is_odd_or_even(const Value& v, bool odd) {
  const Value remainder = binary_operation("%", v, Value(2));
  return equals(remainder, Value(odd ? 1 : 0));
}

bool case_check(const Value& v, bool lower) {
  bool any_cased = false;
  for (char32_t c : utf8_decode(to_str(v))) {
    if (lower ? is_cased_upper(c) : is_cased_lower(c)) return false;
    any_cased = any_cased || (lower ? is_cased_lower(c) : is_cased_upper(c));
  }
  return any_cased;
}

const std::map<std::string, Test>& tests() {
  static const std::map<std::string, Test> table = {
      {"defined", unary("defined", [](const Value& v) { return !v.is_undefined(); })},
      {"undefined", unary("undefined", [](const Value& v) { return v.is_undefined(); })},
      {"none", unary("none", [](const Value& v) { return v.is_none(); })},
      {"boolean", unary("boolean", [](const Value& v) { return v.is_bool(); })},
      {"true", unary("true", [](const Value& v) { return v.is_bool() && v.as_bool(); })},
      {"false", unary("false", [](const Value& v) { return v.is_bool() && !v.as_bool(); })},
      {"integer", unary("integer", [](const Value& v) { return v.is_int(); })},
      {"float", unary("float", [](const Value& v) { return v.is_float(); })},
      {"number", unary("number", [](const Value& v) { return v.is_number(); })},
      {"string", unary("string", [](const Value& v) { return v.is_string(); })},
      {"mapping", unary("mapping", [](const Value& v) { return v.is_dict() && !v.as_dict().is_namespace; })},
      // len() and __getitem__ both work: str, list, tuple, dict, and jinja2's Undefined.
      {"sequence", unary("sequence",
                         [](const Value& v) {
                           return v.is_string() || v.is_undefined() || (v.is_list() && !is_generator(v)) ||
                                  (v.is_dict() && !v.as_dict().is_namespace);
                         })},
      {"iterable", unary("iterable",
                         [](const Value& v) {
                           return v.is_string() || v.is_undefined() || v.is_list() ||
                                  (v.is_dict() && !v.as_dict().is_namespace);
                         })},
      // Undefined defines __call__ (to raise), so Python's callable() says yes.
      {"callable", unary("callable", [](const Value& v) { return v.is_callable() || v.is_undefined(); })},
      {"escaped", unary("escaped", [](const Value&) { return false; })},
      {"lower", unary("lower", [](const Value& v) { return case_check(v, true); })},
      {"upper", unary("upper", [](const Value& v) { return case_check(v, false); })},
      {"odd", unary("odd", [](const Value& v) { return is_odd_or_even(v, true); })},
      {"even", unary("even", [](const Value& v) { return is_odd_or_even(v, false); })},
      {"divisibleby",
       [](const Value& v, const CallArgs& call) {
         return equals(binary_operation("%", v, other_operand("divisibleby", call)), Value(0));
       }},
      {"sameas",
       [](const Value& v, const CallArgs& call) {
         // Python's `is`: the same shared object, or the same singleton/small value.
         const Value& other = other_operand("sameas", call);
         if (v.identity() != nullptr || other.identity() != nullptr) return v.identity() == other.identity();
         return v.kind() == other.kind() && equals(v, other);
       }},
      {"in", [](const Value& v, const CallArgs& call) { return contains(other_operand("in", call), v); }},
      {"filter",
       [](const Value& v, const CallArgs& call) {
         expect_positional("filter", call, 0, 0);
         return v.is_string() && is_known_filter(v.as_string());
       }},
      {"test",
       [](const Value& v, const CallArgs& call) {
         expect_positional("test", call, 0, 0);
         return v.is_string() && is_known_test(v.as_string());
       }},
      {"==", comparison("==", "==")},
      {"eq", comparison("eq", "==")},
      {"equalto", comparison("equalto", "==")},
      {"!=", comparison("!=", "!=")},
      {"ne", comparison("ne", "!=")},
      {">", comparison(">", ">")},
      {"gt", comparison("gt", ">")},
      {"greaterthan", comparison("greaterthan", ">")},
      {">=", comparison(">=", ">=")},
      {"ge", comparison("ge", ">=")},
      {"<", comparison("<", "<")},
      {"lt", comparison("lt", "<")},
      {"lessthan", comparison("lessthan", "<")},
      {"<=", comparison("<=", "<=")},
      {"le", comparison("le", "<=")},
  };
  return table;
}

}  // namespace

bool is_known_test(const std::string& name) { return tests().count(name) > 0; }

bool apply_test(const std::string& name, const Value& value, const CallArgs& args) {
  const auto it = tests().find(name);
  if (it == tests().end()) render_fail("no test named '", name, "'");
  return it->second(value, args);
}

}  // namespace dsmoe::jinja
