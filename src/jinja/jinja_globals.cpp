// The globals a chat template can call: jinja2's range, dict and namespace, and the two HF adds in
// _compile_jinja_template: raise_exception(message), which raises TemplateError(message), and
// strftime_now(format), which is datetime.now().strftime(format).
#include <ctime>

#include "jinja/jinja_arguments.h"
#include "jinja/jinja_builtins.h"

namespace dsmoe::jinja {
namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

Value range(const CallArgs& call) {
  expect_positional("range", call, 1, 3);
  for (const Value& v : call.positional)
    if (!v.is_int() && !v.is_bool()) render_fail("'", type_name(v), "' object cannot be interpreted as an integer");
  const auto& p = call.positional;
  const int64_t start = p.size() == 1 ? 0 : p[0].as_int();
  const int64_t stop = p.size() == 1 ? p[0].as_int() : p[1].as_int();
  const int64_t step = p.size() == 3 ? p[2].as_int() : 1;
  if (step == 0) render_fail("range() arg 3 must not be zero");
  std::vector<Value> items;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (static_cast<int64_t>(items.size()) >= kMaxRange)
      render_fail("Range too big. The sandbox blocks ranges larger than MAX_RANGE (", kMaxRange, ").");
    items.emplace_back(i);
  }
  return Value::list(std::move(items));
}

// dict(mapping, **kwargs) and namespace(mapping, **kwargs) both start from an optional mapping.
Value make_dict(const CallArgs& call, bool is_namespace, const char* name) {
  if (call.positional.size() > 1) render_fail(name, "() takes at most 1 positional argument");
  auto dict = std::make_shared<Dict>();
  dict->is_namespace = is_namespace;
  if (!call.positional.empty()) {
    const Value& initial = call.positional[0];
    if (!initial.is_dict()) render_fail(name, "() needs a mapping as its positional argument");
    for (const auto& [key, value] : initial.as_dict().entries()) dict->set(key, value);
  }
  for (const auto& [key, value] : call.keyword) dict->set(key, value);
  return Value(std::move(dict));
}

Value raise_exception(const CallArgs& call) {
  expect_positional("raise_exception", call, 1, 1);
  render_fail("raise_exception: ", to_str(call.positional[0]));
}

Value strftime_now(const CallArgs& call) {
  expect_positional("strftime_now", call, 1, 1);
  if (!call.positional[0].is_string()) render_fail("strftime_now() argument must be str");
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  const std::string& format = call.positional[0].as_string();
  if (format.empty()) return Value("");
  std::string out(256 + format.size() * 8, '\0');
  const size_t n = std::strftime(out.data(), out.size(), format.c_str(), &local);
  out.resize(n);
  return Value(std::move(out));
}

}  // namespace

Value global_value(const std::string& name) {
  if (name == "range") return Value::function("range", range);
  if (name == "namespace")
    return Value::function("namespace", [](const CallArgs& call) { return make_dict(call, true, "namespace"); });
  if (name == "dict")
    return Value::function("dict", [](const CallArgs& call) { return make_dict(call, false, "dict"); });
  if (name == "raise_exception") return Value::function("raise_exception", raise_exception);
  if (name == "strftime_now") return Value::function("strftime_now", strftime_now);
  return Value(Undefined{cat("'", name, "' is undefined")});
}

}  // namespace dsmoe::jinja
