// Arithmetic as Python does it, since jinja2 compiles template operators to Python operators:
// `/` always gives a float, `//` and `%` round toward negative infinity, `+` and `*` also concatenate
// and repeat strings and lists, `~` joins the str() of both sides. Using Undefined in arithmetic is
// jinja2's UndefinedError.
#pragma once

#include <string_view>

#include "jinja/jinja_value.h"

namespace dsmoe::jinja {

// op: + - * / // % ** ~
Value binary_operation(std::string_view op, const Value& a, const Value& b);
// op: - +
Value unary_operation(std::string_view op, const Value& a);

}  // namespace dsmoe::jinja
