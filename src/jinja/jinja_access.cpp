#include "jinja/jinja_access.h"

#include "jinja/jinja_arguments.h"
#include "jinja/jinja_unicode.h"

namespace dsmoe::jinja {
namespace {

// jinja2's Undefined hint: "'dict object' has no attribute 'x'", "list object has no element 3".
Value missing_attribute(const Value& object, const std::string& name) {
  const std::string owner = object.is_none() ? "'None'" : cat("'", type_name(object), " object'");
  return Value(Undefined{cat(owner, " has no attribute '", name, "'")});
}

Value missing_element(const Value& object, const std::string& key_text) {
  return Value(Undefined{cat(type_name(object), " object has no element ", key_text)});
}

// ImmutableSandboxedEnvironment hands out mutating methods but refuses to call them.
Value refused_method(const Value& object, const std::string& name) {
  const std::string type = type_name(object);
  return Value::function(name, [type, name](const CallArgs&) -> Value {
    render_fail("access to attribute '", name, "' of '", type, "' object is unsafe (the sandbox is immutable)");
  });
}

std::optional<Value> dict_method(const Value& self, const std::string& name) {
  if (name == "get") {
    return Value::function("get", [self](const CallArgs& call) {
      Arguments args("dict.get", call, {"key", "default"}, 1);
      const Value& key = args.get(0);
      const Value* found = key.is_string() ? self.as_dict().find(key.as_string()) : nullptr;
      return found != nullptr ? *found : args.has(1) ? args.get(1) : Value(nullptr);
    });
  }
  if (name == "items" || name == "keys" || name == "values") {
    return Value::function(name, [self, name](const CallArgs& call) {
      expect_positional("dict." + name, call, 0, 0);
      std::vector<Value> out;
      for (const auto& [key, value] : self.as_dict().entries()) {
        if (name == "items") {
          out.push_back(Value::list({Value(key), value}, SequenceKind::kTuple));
        } else {
          out.push_back(name == "keys" ? Value(key) : value);
        }
      }
      return Value::list(std::move(out));
    });
  }
  if (name == "copy") return Value::function("copy", [self](const CallArgs&) { return self; });
  if (name == "pop" || name == "popitem" || name == "setdefault" || name == "update" || name == "clear")
    return refused_method(self, name);
  return std::nullopt;
}

std::optional<Value> list_method(const Value& self, const std::string& name) {
  if (name == "index" || name == "count") {
    return Value::function(name, [self, name](const CallArgs& call) {
      expect_positional("list." + name, call, 1, 1);
      int64_t count = 0;
      const auto& items = self.as_list().items;
      for (size_t i = 0; i < items.size(); ++i) {
        if (!equals(items[i], call.positional[0])) continue;
        if (name == "index") return Value(static_cast<int64_t>(i));
        ++count;
      }
      if (name == "index") render_fail(repr(call.positional[0]), " is not in list");
      return Value(count);
    });
  }
  if (name == "append" || name == "extend" || name == "insert" || name == "pop" || name == "remove" ||
      name == "reverse" || name == "sort" || name == "clear")
    return refused_method(self, name);
  return std::nullopt;
}

std::optional<Value> method(const Value& object, const std::string& name) {
  switch (object.kind()) {
    case Value::Kind::kString:
      return string_method(object.as_string(), name);
    case Value::Kind::kDict:
      return object.as_dict().is_namespace ? std::nullopt : dict_method(object, name);
    case Value::Kind::kList:
      return object.as_list().kind == SequenceKind::kGenerator ? std::nullopt : list_method(object, name);
    default:
      return std::nullopt;
  }
}

int64_t slice_bound(const Value& v) {
  if (!v.is_int() && !v.is_bool()) render_fail("slice indices must be integers or None, not '", type_name(v), "'");
  return v.as_int();
}

}  // namespace

Value get_attribute(const Value& object, const std::string& name) {
  if (object.is_undefined()) render_fail(object.undefined().hint);
  if (std::optional<Value> bound = method(object, name)) return *bound;
  if (object.is_dict()) {
    const Value* found = object.as_dict().find(name);
    if (found != nullptr) return *found;
  }
  return missing_attribute(object, name);
}

Value get_item(const Value& object, const Value& key) {
  if (object.is_undefined()) render_fail(object.undefined().hint);
  if (object.is_dict()) {
    const Value* found = key.is_string() ? object.as_dict().find(key.as_string()) : nullptr;
    if (found != nullptr) return *found;
  } else if ((object.is_list() && object.as_list().kind != SequenceKind::kGenerator) || object.is_string()) {
    if (key.is_int() || key.is_bool()) {
      const bool is_text = object.is_string();
      const std::u32string chars = is_text ? utf8_decode(object.as_string()) : std::u32string();
      const auto size = static_cast<int64_t>(is_text ? chars.size() : object.as_list().items.size());
      int64_t i = key.as_int();
      if (i < 0) i += size;
      if (i < 0 || i >= size) return missing_element(object, repr(key));
      const auto at = static_cast<size_t>(i);
      return is_text ? Value(utf8_encode(std::u32string(1, chars[at]))) : object.as_list().items[at];
    }
  }
  if (key.is_string()) {
    if (std::optional<Value> bound = method(object, key.as_string())) return *bound;
    return missing_attribute(object, key.as_string());
  }
  return missing_element(object, repr(key));
}

Value get_item_past_int64(const Value& object, const std::string& digits) {
  if (object.is_undefined()) render_fail(object.undefined().hint);
  return missing_element(object, digits);
}

std::vector<int64_t> slice_positions(int64_t length, const Value& start_value, const Value& stop_value,
                                     const Value& step_value) {
  const bool absent_start = start_value.is_none() || start_value.is_undefined();
  const bool absent_stop = stop_value.is_none() || stop_value.is_undefined();
  const int64_t step = step_value.is_none() || step_value.is_undefined() ? 1 : slice_bound(step_value);
  if (step == 0) render_fail("slice step cannot be zero");
  const int64_t lower = step > 0 ? 0 : -1;
  const int64_t upper = step > 0 ? length : length - 1;
  auto clamp = [&](const Value& v, bool absent, bool is_start) {
    if (absent) return (step < 0) == is_start ? upper : lower;
    int64_t i = slice_bound(v);
    if (i < 0) i += length;
    return i < lower ? lower : i > upper ? upper : i;
  };
  const int64_t start = clamp(start_value, absent_start, true);
  const int64_t stop = clamp(stop_value, absent_stop, false);
  std::vector<int64_t> positions;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) positions.push_back(i);
  return positions;
}

Value get_slice(const Value& object, const Value& start, const Value& stop, const Value& step) {
  if (object.is_undefined()) render_fail(object.undefined().hint);
  if (object.is_string()) {
    const std::u32string chars = utf8_decode(object.as_string());
    std::u32string out;
    for (int64_t i : slice_positions(static_cast<int64_t>(chars.size()), start, stop, step))
      out.push_back(chars[static_cast<size_t>(i)]);
    return Value(utf8_encode(out));
  }
  if (object.is_list() && object.as_list().kind != SequenceKind::kGenerator) {
    const auto& items = object.as_list().items;
    std::vector<Value> out;
    for (int64_t i : slice_positions(static_cast<int64_t>(items.size()), start, stop, step))
      out.push_back(items[static_cast<size_t>(i)]);
    return Value::list(std::move(out), object.as_list().kind);
  }
  return Value(Undefined{cat("'", type_name(object), "' object is not subscriptable")});
}

}  // namespace dsmoe::jinja
