// Binding a template call's arguments to a builtin's parameters as Python binds them to
// `def f(a, b=..., c=...)`: positionals fill parameters in order, keywords by name, and a parameter
// given twice, an unknown keyword or a missing required argument is a TypeError.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jinja/jinja_value.h"

namespace dsmoe::jinja {

class Arguments {
 public:
  // `required`: how many leading parameters have no default.
  Arguments(std::string_view function, const CallArgs& args, std::vector<std::string_view> params, size_t required = 0);

  bool has(size_t i) const { return values_[i].has_value(); }
  const Value& get(size_t i) const;  // Undefined when not given

  // Typed access with the default used when the argument was not given.
  int64_t integer(size_t i, int64_t fallback) const;
  bool boolean(size_t i, bool fallback) const;  // Python truthiness of the argument
  std::string string(size_t i, const std::string& fallback) const;
  std::optional<std::string> optional_string(size_t i) const;  // None and absent are nullopt

 private:
  std::string function_;
  std::vector<std::string_view> params_;
  std::vector<std::optional<Value>> values_;
};

// The number of positional arguments a call must have, for builtins that take only positionals.
void expect_positional(std::string_view function, const CallArgs& args, size_t min, size_t max);

}  // namespace dsmoe::jinja
