#include "jinja/jinja_sequence_filters.h"

#include <algorithm>
#include <charconv>

#include "jinja/jinja_access.h"
#include "jinja/jinja_arguments.h"
#include "jinja/jinja_builtins.h"
#include "jinja/jinja_limits.h"
#include "jinja/jinja_operators.h"
#include "jinja/jinja_unicode.h"

namespace dsmoe::jinja {
namespace {

Value generator(std::vector<Value> items) { return Value::list(std::move(items), SequenceKind::kGenerator); }

// jinja2's ignore_case: strings sort and compare by their lower-case form unless case_sensitive.
Value sort_key(const Value& v, bool case_sensitive) {
  return !case_sensitive && v.is_string() ? Value(str_lower(v.as_string())) : v;
}

bool is_absent(const Value& v) { return v.is_none() || v.is_undefined(); }

// jinja2's make_multi_attrgetter: attribute="a,b" sorts by a, then b.
Value multi_attribute_key(const Value& item, const Value& attribute, bool case_sensitive) {
  if (is_absent(attribute)) return sort_key(item, case_sensitive);
  if (!attribute.is_string()) return sort_key(lookup_attribute_path(item, attribute), case_sensitive);
  std::vector<Value> keys;
  const std::string& text = attribute.as_string();
  for (size_t start = 0;;) {
    const size_t comma = text.find(',', start);
    keys.push_back(sort_key(lookup_attribute_path(item, Value(text.substr(start, comma - start))), case_sensitive));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return Value::list(std::move(keys));
}

// Python's sorted(): stable, and with reverse=True equal keys still keep their order.
std::vector<Value> sorted_by(std::vector<Value> items, const std::function<Value(const Value&)>& key, bool reverse) {
  std::vector<std::pair<Value, Value>> keyed;
  for (Value& item : items) keyed.emplace_back(key(item), std::move(item));
  std::stable_sort(keyed.begin(), keyed.end(), [reverse](const auto& a, const auto& b) {
    return reverse ? compare(b.first, a.first, "<") < 0 : compare(a.first, b.first, "<") < 0;
  });
  std::vector<Value> out;
  for (auto& entry : keyed) out.push_back(std::move(entry.second));
  return out;
}

CallArgs rest_of(const CallArgs& call, size_t skip) {
  CallArgs rest;
  rest.positional.assign(call.positional.begin() + static_cast<std::ptrdiff_t>(std::min(skip, call.positional.size())),
                         call.positional.end());
  rest.keyword = call.keyword;
  return rest;
}

}  // namespace

Value lookup_attribute_path(const Value& item, const Value& attribute, const Value* fallback) {
  // A part of digits is an index, as jinja2 reads it with int(); one past int64 is looked up as such.
  struct Part {
    Value key;
    bool past_int64 = false;
  };
  std::vector<Part> parts;
  if (attribute.is_string()) {
    const std::string& text = attribute.as_string();
    for (size_t start = 0;;) {
      const size_t dot = text.find('.', start);
      const std::string part = text.substr(start, dot - start);
      const bool digits =
          !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
      int64_t index = 0;
      if (!digits) {
        parts.push_back({Value(part)});
      } else if (std::from_chars(part.data(), part.data() + part.size(), index).ec == std::errc()) {
        parts.push_back({Value(index)});
      } else {
        parts.push_back({Value(part), true});
      }
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
  } else if (!is_absent(attribute)) {
    parts.push_back({attribute});
  }
  Value value = item;
  for (const Part& part : parts) {
    value = part.past_int64 ? get_item_past_int64(value, part.key.as_string()) : get_item(value, part.key);
    if (fallback != nullptr && value.is_undefined()) value = *fallback;
  }
  return value;
}

Value filter_attr(const Value& input, const CallArgs& call) {
  expect_positional("attr", call, 1, 1);
  const Value& name = call.positional[0];
  if (!name.is_string()) render_fail("attribute name must be a string");
  // Only real attributes: a dict's keys are items, not attributes.
  if (input.is_dict() && input.as_dict().is_namespace) {
    const Value* found = input.as_dict().find(name.as_string());
    if (found != nullptr) return *found;
  } else if (input.is_string() || input.is_dict() || input.is_list()) {
    const Value attribute = get_attribute(input, name.as_string());
    if (attribute.is_callable()) return attribute;
  }
  return Value(Undefined{cat("'", type_name(input), " object' has no attribute '", name.as_string(), "'")});
}

Value filter_dictsort(const Value& input, const CallArgs& call) {
  Arguments args("dictsort", call, {"case_sensitive", "by", "reverse"});
  const bool case_sensitive = args.boolean(0, false);
  const std::string by = args.string(1, "key");
  if (by != "key" && by != "value") render_fail("You can only sort by either \"key\" or \"value\"");
  if (!input.is_dict()) render_fail("dictsort needs a mapping, not '", type_name(input), "'");
  std::vector<Value> pairs;
  for (const auto& [key, value] : input.as_dict().entries())
    pairs.push_back(Value::list({Value(key), value}, SequenceKind::kTuple));
  const size_t position = by == "key" ? 0 : 1;
  return Value::list(sorted_by(
      std::move(pairs), [&](const Value& pair) { return sort_key(pair.as_list().items[position], case_sensitive); },
      args.boolean(2, false)));
}

Value filter_items(const Value& input, const CallArgs& call) {
  expect_positional("items", call, 0, 0);
  if (input.is_undefined()) return generator({});
  if (!input.is_dict() || input.as_dict().is_namespace) render_fail("Can only get item pairs from a mapping.");
  std::vector<Value> pairs;
  for (const auto& [key, value] : input.as_dict().entries())
    pairs.push_back(Value::list({Value(key), value}, SequenceKind::kTuple));
  return generator(std::move(pairs));
}

Value filter_join(const Value& input, const CallArgs& call) {
  Arguments args("join", call, {"d", "attribute"});
  const std::string separator = args.has(0) ? to_str(args.get(0)) : "";
  std::string out;
  bool first = true;
  for (const Value& item : iterate(input)) {
    if (!first) out += separator;
    out += to_str(is_absent(args.get(1)) ? item : lookup_attribute_path(item, args.get(1)));
    check_text_bytes(out.size(), "join");
    first = false;
  }
  return Value(std::move(out));
}

Value filter_length(const Value& input, const CallArgs& call) {
  expect_positional("length", call, 0, 0);
  return Value(length(input));
}

Value filter_list(const Value& input, const CallArgs& call) {
  expect_positional("list", call, 0, 0);
  return Value::list(iterate(input));
}

Value filter_map(const Value& input, const CallArgs& call) {
  if (!truthy(input)) return generator({});
  std::vector<Value> out;
  if (call.positional.empty()) {
    Arguments args("map", call, {"attribute", "default"}, 1);
    const Value fallback = args.get(1);
    for (const Value& item : iterate(input))
      out.push_back(lookup_attribute_path(item, args.get(0), is_absent(fallback) ? nullptr : &fallback));
  } else {
    if (!call.positional[0].is_string()) render_fail("map needs a filter name or attribute=...");
    const std::string name = call.positional[0].as_string();
    const CallArgs rest = rest_of(call, 1);
    for (const Value& item : iterate(input)) out.push_back(apply_filter(name, item, rest));
  }
  return generator(std::move(out));
}

Value filter_min_or_max(const Value& input, const CallArgs& call, bool max) {
  Arguments args(max ? "max" : "min", call, {"case_sensitive", "attribute"});
  const std::vector<Value> items = iterate(input);
  if (items.empty()) return Value(Undefined{"No aggregated item, sequence was empty."});
  const bool case_sensitive = args.boolean(0, false);
  auto key = [&](const Value& item) {
    return sort_key(is_absent(args.get(1)) ? item : lookup_attribute_path(item, args.get(1)), case_sensitive);
  };
  size_t best = 0;
  Value best_key = key(items[0]);
  for (size_t i = 1; i < items.size(); ++i) {  // the first of equal extremes wins, as in Python
    Value k = key(items[i]);
    if (max ? compare(k, best_key, ">") > 0 : compare(k, best_key, "<") < 0) best = i, best_key = std::move(k);
  }
  return items[best];
}

Value filter_reverse(const Value& input, const CallArgs& call) {
  expect_positional("reverse", call, 0, 0);
  if (input.is_string()) {
    std::u32string chars = utf8_decode(input.as_string());
    std::reverse(chars.begin(), chars.end());
    return Value(utf8_encode(chars));
  }
  if (!input.is_list() && !input.is_dict() && !input.is_undefined()) render_fail("argument must be iterable");
  std::vector<Value> items = iterate(input);
  std::reverse(items.begin(), items.end());
  // reversed() of a list is an iterator; a generator cannot be reversed, so jinja2 builds a list.
  const bool from_generator = input.is_list() && input.as_list().kind == SequenceKind::kGenerator;
  return from_generator ? Value::list(std::move(items)) : generator(std::move(items));
}

Value filter_select(const Value& input, const CallArgs& call, bool keep, bool attribute) {
  const char* name = attribute ? (keep ? "selectattr" : "rejectattr") : (keep ? "select" : "reject");
  if (!truthy(input)) return generator({});
  if (attribute && call.positional.empty()) render_fail(name, ": missing parameter for attribute name");
  const size_t test_at = attribute ? 1 : 0;
  const bool has_test = call.positional.size() > test_at;
  if (has_test && !call.positional[test_at].is_string()) render_fail(name, ": the test name must be a string");
  const std::string test = has_test ? call.positional[test_at].as_string() : "";
  const CallArgs test_args = rest_of(call, test_at + 1);
  std::vector<Value> out;
  for (const Value& item : iterate(input)) {
    const Value subject = attribute ? lookup_attribute_path(item, call.positional[0]) : item;
    const bool passed = has_test ? apply_test(test, subject, test_args) : truthy(subject);
    if (passed == keep) out.push_back(item);
  }
  return generator(std::move(out));
}

Value filter_sort(const Value& input, const CallArgs& call) {
  Arguments args("sort", call, {"reverse", "case_sensitive", "attribute"});
  const bool case_sensitive = args.boolean(1, false);
  const Value attribute = args.get(2);
  return Value::list(sorted_by(
      iterate(input), [&](const Value& item) { return multi_attribute_key(item, attribute, case_sensitive); },
      args.boolean(0, false)));
}

Value filter_sum(const Value& input, const CallArgs& call) {
  Arguments args("sum", call, {"attribute", "start"});
  Value total = args.has(1) ? args.get(1) : Value(0);
  for (const Value& item : iterate(input))
    total = binary_operation("+", total, is_absent(args.get(0)) ? item : lookup_attribute_path(item, args.get(0)));
  return total;
}

Value filter_unique(const Value& input, const CallArgs& call) {
  Arguments args("unique", call, {"case_sensitive", "attribute"});
  const bool case_sensitive = args.boolean(0, false);
  std::vector<Value> seen_keys, out;
  for (const Value& item : iterate(input)) {
    Value key = sort_key(is_absent(args.get(1)) ? item : lookup_attribute_path(item, args.get(1)), case_sensitive);
    if (key.is_dict() || (key.is_list() && key.as_list().kind == SequenceKind::kList))
      render_fail("unhashable type: '", type_name(key), "'");
    if (std::any_of(seen_keys.begin(), seen_keys.end(), [&](const Value& k) { return equals(k, key); })) continue;
    seen_keys.push_back(std::move(key));
    out.push_back(item);
  }
  return generator(std::move(out));
}

Value first_or_last(const Value& input, bool last) {
  if (last && input.is_list() && input.as_list().kind == SequenceKind::kGenerator)
    render_fail("'generator' object is not reversible");
  const std::vector<Value> items = iterate(input);
  if (items.empty())
    return Value(Undefined{last ? "No last item, sequence was empty." : "No first item, sequence was empty."});
  return last ? items.back() : items.front();
}

}  // namespace dsmoe::jinja
