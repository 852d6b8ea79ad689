#include "jinja/jinja_operators.h"

#include <algorithm>
#include <cmath>

#include "jinja/jinja_limits.h"
#include "jinja/jinja_printf.h"

namespace dsmoe::jinja {
namespace {

[[noreturn]] void unsupported(std::string_view op, const Value& a, const Value& b) {
  render_fail("unsupported operand type(s) for ", op, ": '", type_name(a), "' and '", type_name(b), "'");
}

[[noreturn]] void overflow(std::string_view op) {
  render_fail("integer overflow in ", op, ": Python integers are unbounded, this renderer's are 64-bit");
}

// CPython's float_floor_div and float_rem: the remainder takes the divisor's sign.
double python_float_mod(double x, double y) {
  double mod = std::fmod(x, y);
  if (mod != 0.0) {
    if ((y < 0) != (mod < 0)) mod += y;
  } else {
    mod = std::copysign(0.0, y);
  }
  return mod;
}

double python_float_floor_div(double x, double y) {
  double mod = std::fmod(x, y);
  double div = (x - mod) / y;
  if (mod != 0.0 && (y < 0) != (mod < 0)) div -= 1.0;
  if (div == 0.0) return std::copysign(0.0, x / y);
  double floor_div = std::floor(div);
  if (div - floor_div > 0.5) floor_div += 1.0;
  return floor_div;
}

Value repeat(const Value& seq, int64_t count) {
  if (seq.is_string()) {
    const std::string& piece = seq.as_string();
    const size_t total = times(piece.size(), count);
    check_text_bytes(total, "'*'");
    // Doubling copies instead of `count` appends: 'x' * 60000000 is two dozen memcpys, not sixty million calls.
    std::string out(total, '\0');
    size_t filled = std::min(piece.size(), total);
    std::copy_n(piece.data(), filled, out.data());
    while (filled < total) {
      const size_t n = std::min(filled, total - filled);
      std::copy_n(out.data(), n, out.data() + filled);
      filled += n;
    }
    return Value(std::move(out));
  }
  check_list_items(times(seq.as_list().items.size(), count), "'*'");
  std::vector<Value> items;
  for (int64_t i = 0; i < count; ++i) items.insert(items.end(), seq.as_list().items.begin(), seq.as_list().items.end());
  return Value::list(std::move(items), seq.as_list().kind);
}

bool is_sequence(const Value& v) {
  return v.is_string() || (v.is_list() && v.as_list().kind != SequenceKind::kGenerator);
}

// By squaring: at most 63 rounds whatever the exponent (1 ** 10**18 once looped 10^18 times).
Value integer_power(int64_t base, int64_t exponent) {
  if (exponent < 0) return Value(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
  int64_t result = 1;
  while (exponent > 0) {
    if ((exponent & 1) != 0 && __builtin_mul_overflow(result, base, &result)) overflow("**");
    exponent >>= 1;
    if (exponent > 0 && __builtin_mul_overflow(base, base, &base)) overflow("**");
  }
  return Value(result);
}

Value arithmetic(std::string_view op, const Value& a, const Value& b) {
  const bool floats = a.is_float() || b.is_float();
  const double x = a.as_float(), y = b.as_float();
  const int64_t i = floats ? 0 : a.as_int(), j = floats ? 0 : b.as_int();
  int64_t r = 0;
  if (op == "+") {
    if (floats) return Value(x + y);
    if (__builtin_add_overflow(i, j, &r)) overflow(op);
    return Value(r);
  }
  if (op == "-") {
    if (floats) return Value(x - y);
    if (__builtin_sub_overflow(i, j, &r)) overflow(op);
    return Value(r);
  }
  if (op == "*") {
    if (floats) return Value(x * y);
    if (__builtin_mul_overflow(i, j, &r)) overflow(op);
    return Value(r);
  }
  if (op == "/") {
    if (y == 0.0) render_fail(floats ? "float division by zero" : "division by zero");
    return Value(x / y);
  }
  if (op == "//" || op == "%") {
    if (floats ? y == 0.0 : j == 0)
      render_fail(floats ? "float floor division by zero" : "integer division or modulo by zero");
    if (floats) return Value(op == "//" ? python_float_floor_div(x, y) : python_float_mod(x, y));
    int64_t q = i / j, m = i % j;
    if (m != 0 && ((m < 0) != (j < 0))) --q, m += j;
    return Value(op == "//" ? q : m);
  }
  if (op == "**") {
    if (floats) return Value(std::pow(x, y));
    return integer_power(i, j);
  }
  unsupported(op, a, b);
}

}  // namespace

Value binary_operation(std::string_view op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string left = to_str(a);
    const std::string right = to_str(b);
    check_text_bytes(left.size() + right.size(), "'~'");
    return Value(left + right);
  }
  if (a.is_undefined()) render_fail(a.undefined().hint);
  if (b.is_undefined()) render_fail(b.undefined().hint);
  if (a.is_number() && b.is_number()) return arithmetic(op, a, b);
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      check_text_bytes(a.as_string().size() + b.as_string().size(), "'+'");
      return Value(a.as_string() + b.as_string());
    }
    if (a.is_string()) render_fail("can only concatenate str (not \"", type_name(b), "\") to str");
    if (a.is_list() && b.is_list() && a.as_list().kind == b.as_list().kind &&
        a.as_list().kind != SequenceKind::kGenerator) {
      check_list_items(a.as_list().items.size() + b.as_list().items.size(), "'+'");
      std::vector<Value> items = a.as_list().items;
      items.insert(items.end(), b.as_list().items.begin(), b.as_list().items.end());
      return Value::list(std::move(items), a.as_list().kind);
    }
  }
  if (op == "*") {
    if (is_sequence(a) && (b.is_int() || b.is_bool())) return repeat(a, b.as_int());
    if (is_sequence(b) && (a.is_int() || a.is_bool())) return repeat(b, a.as_int());
  }
  if (op == "%" && a.is_string()) return Value(printf_format(a.as_string(), b));
  unsupported(op, a, b);
}

Value unary_operation(std::string_view op, const Value& a) {
  if (a.is_undefined()) render_fail(a.undefined().hint);
  if (!a.is_number()) render_fail("bad operand type for unary ", op, ": '", type_name(a), "'");
  if (op == "+") return a.is_float() ? Value(a.as_float()) : Value(a.as_int());
  if (a.is_float()) return Value(-a.as_float());
  if (a.as_int() == INT64_MIN) overflow("unary -");
  return Value(-a.as_int());
}

}  // namespace dsmoe::jinja
