#include "jinja/jinja_arguments.h"

#include <algorithm>

namespace dsmoe::jinja {

Arguments::Arguments(std::string_view function, const CallArgs& args, std::vector<std::string_view> params,
                     size_t required)
    : function_(function), params_(std::move(params)), values_(params_.size()) {
  if (args.positional.size() > params_.size())
    render_fail(function_, "() takes at most ", params_.size(), " argument(s) (", args.positional.size(), " given)");
  for (size_t i = 0; i < args.positional.size(); ++i) values_[i] = args.positional[i];
  for (const auto& [key, value] : args.keyword) {
    const auto it = std::find(params_.begin(), params_.end(), key);
    if (it == params_.end()) render_fail(function_, "() got an unexpected keyword argument '", key, "'");
    const auto i = static_cast<size_t>(it - params_.begin());
    if (values_[i]) render_fail(function_, "() got multiple values for argument '", key, "'");
    values_[i] = value;
  }
  for (size_t i = 0; i < required; ++i)
    if (!values_[i]) render_fail(function_, "() missing required argument '", params_[i], "'");
}

const Value& Arguments::get(size_t i) const {
  static const Value kAbsent;
  return values_[i] ? *values_[i] : kAbsent;
}

int64_t Arguments::integer(size_t i, int64_t fallback) const {
  if (!has(i)) return fallback;
  const Value& v = get(i);
  if (!v.is_int() && !v.is_bool())
    render_fail(function_, "() argument '", params_[i], "' must be an integer, not '", type_name(v), "'");
  return v.as_int();
}

bool Arguments::boolean(size_t i, bool fallback) const { return has(i) ? truthy(get(i)) : fallback; }

std::string Arguments::string(size_t i, const std::string& fallback) const {
  if (!has(i)) return fallback;
  const Value& v = get(i);
  if (!v.is_string())
    render_fail(function_, "() argument '", params_[i], "' must be a string, not '", type_name(v), "'");
  return v.as_string();
}

std::optional<std::string> Arguments::optional_string(size_t i) const {
  if (!has(i) || get(i).is_none()) return std::nullopt;
  return string(i, "");
}

void expect_positional(std::string_view function, const CallArgs& args, size_t min, size_t max) {
  if (!args.keyword.empty()) render_fail(function, "() takes no keyword arguments");
  if (args.positional.size() < min || args.positional.size() > max) {
    if (min == max)
      render_fail(function, "() takes exactly ", min, " argument(s) (", args.positional.size(), " given)");
    render_fail(function, "() takes from ", min, " to ", max, " arguments (", args.positional.size(), " given)");
  }
}

}  // namespace dsmoe::jinja
