// jinja2's builtin filters (filters.py) as HF's environment has them, with HF's own tojson: the table of
// names, and the filters on text and numbers. Filters over sequences are in jinja_sequence_filters.cpp.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "jinja/jinja_access.h"
#include "jinja/jinja_limits.h"
#include "jinja/jinja_arguments.h"
#include "jinja/jinja_builtins.h"
#include "jinja/jinja_json.h"
#include "jinja/jinja_printf.h"
#include "jinja/jinja_sequence_filters.h"
#include "jinja/jinja_unicode.h"

namespace dsmoe::jinja {
namespace {

std::optional<double> parse_python_float(const std::string& text) {
  const std::string s = str_lower(str_strip(text, nullptr, StripSide::kBoth));
  std::string body = s;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) body.erase(0, 1);
  if (body == "inf" || body == "infinity" || body == "nan") {
    const double v = body == "nan" ? std::nan("") : INFINITY;
    return s[0] == '-' ? -v : v;
  }
  std::string digits;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_') {  // only between two digits, as in Python literals
      if (i == 0 || i + 1 == s.size() || !std::isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[i + 1])))
        return std::nullopt;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != 'e' && c != '+' && c != '-')
      return std::nullopt;
    digits += c;
  }
  if (digits.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size()) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_python_int(const std::string& text, int base) {
  const std::string s = str_strip(text, nullptr, StripSide::kBoth);
  size_t i = s.size() > 0 && (s[0] == '+' || s[0] == '-') ? 1 : 0;
  std::string digits = s.substr(0, i);
  if (i == s.size()) return std::nullopt;
  for (; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && std::isalnum(static_cast<unsigned char>(s[i - 1])) && i + 1 < s.size()) continue;
    digits += s[i];
  }
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(digits.c_str(), &end, base);
  if (end != digits.c_str() + digits.size() || errno == ERANGE) return std::nullopt;
  return v;
}

Value filter_int(const Value& input, const CallArgs& call) {
  Arguments args("int", call, {"default", "base"});
  const Value fallback = args.has(0) ? args.get(0) : Value(0);
  if (input.is_bool() || input.is_int()) return Value(input.as_int());
  if (input.is_float()) {
    const double f = input.as_float();
    if (std::isnan(f)) return fallback;
    if (std::isinf(f) || std::fabs(f) >= 9.2e18)
      render_fail("cannot convert float ", to_str(input), " to a 64-bit integer");
    return Value(static_cast<int64_t>(f));  // truncation toward zero, as int(3.7) == 3
  }
  if (input.is_string()) {
    if (auto i = parse_python_int(input.as_string(), static_cast<int>(args.integer(1, 10)))) return Value(*i);
    if (auto f = parse_python_float(input.as_string()); f && std::isfinite(*f)) return Value(static_cast<int64_t>(*f));
  }
  return fallback;
}

Value filter_float(const Value& input, const CallArgs& call) {
  Arguments args("float", call, {"default"});
  const Value fallback = args.has(0) ? args.get(0) : Value(0.0);
  if (input.is_number()) return Value(input.as_float());
  if (input.is_string()) {
    if (auto f = parse_python_float(input.as_string())) return Value(*f);
  }
  return fallback;
}

// Python's round(x, n) for floats: the correctly rounded decimal with ties to even, which is what
// glibc's printf produces from the exact binary value.
double round_float(double x, int64_t digits) {
  if (!std::isfinite(x)) return x;
  if (digits < 0) {
    const double scale = std::pow(10.0, static_cast<double>(-digits));
    return std::nearbyint(x / scale) * scale;
  }
  char buf[512];
  std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(std::min<int64_t>(digits, 300)), x);
  return std::strtod(buf, nullptr);
}

Value filter_round(const Value& input, const CallArgs& call) {
  Arguments args("round", call, {"precision", "method"});
  const int64_t precision = args.integer(0, 0);
  const std::string method = args.string(1, "common");
  if (!input.is_number()) render_fail("round filter needs a number, not '", type_name(input), "'");
  if (method == "common") {
    if (!input.is_float()) return Value(input.as_int());  // round(int, n) stays an int for n >= 0
    return Value(round_float(input.as_float(), precision));
  }
  if (method != "floor" && method != "ceil") render_fail("method must be common, ceil or floor");
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double scaled = input.as_float() * scale;
  return Value((method == "floor" ? std::floor(scaled) : std::ceil(scaled)) / scale);
}

// jinja2's do_indent: the text gets a trailing "\n" before splitlines(), so a final newline stays.
Value filter_indent(const Value& input, const CallArgs& call) {
  Arguments args("indent", call, {"width", "first", "blank"});
  if (!input.is_string()) render_fail("indent filter needs a string, not '", type_name(input), "'");
  if (!args.get(0).is_string()) check_text_bytes(times(1, args.integer(0, 4)), "indent");
  const std::string indention = args.get(0).is_string()
                                    ? args.get(0).as_string()
                                    : std::string(static_cast<size_t>(std::max<int64_t>(args.integer(0, 4), 0)), ' ');
  const bool first = args.boolean(1, false), blank = args.boolean(2, false);
  const std::vector<std::string> lines = str_splitlines(input.as_string() + "\n", false);
  check_text_bytes(times(indention.size(), int64_t(lines.size())) + input.as_string().size(), "indent");
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += "\n";
    if (i > 0 && (blank || !lines[i].empty())) out += indention;
    out += lines[i];
  }
  return Value(first ? indention + out : out);
}

Value filter_title(const Value& input, const CallArgs& call) {
  // jinja2 splits before runs of `-`, whitespace, `(`, `{`, `[`, `<` and, per piece, upper-cases the first
  // character and lower-cases the rest (unlike str.title()).
  expect_positional("title", call, 0, 0);
  const std::u32string text = utf8_decode(to_str(input));
  auto is_separator = [](char32_t c) {
    return c == U'-' || c == U'(' || c == U'{' || c == U'[' || c == U'<' || is_python_space(c);
  };
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const bool separators = is_separator(text[i]);
    size_t j = i;
    while (j < text.size() && is_separator(text[j]) == separators) ++j;
    out += str_upper(utf8_encode(std::u32string_view(text).substr(i, 1)));
    out += str_lower(utf8_encode(std::u32string_view(text).substr(i + 1, j - i - 1)));
    i = j;
  }
  return Value(std::move(out));
}

Value filter_tojson(const Value& input, const CallArgs& call) {
  // HF: def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False): json.dumps(...)
  Arguments args("tojson", call, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonDumpOptions options;
  options.ensure_ascii = args.boolean(0, false);
  const Value& indent = args.get(1);
  if (indent.is_string()) {
    options.indent = indent.as_string();
  } else if (indent.is_int()) {
    options.indent = std::string(static_cast<size_t>(std::max<int64_t>(indent.as_int(), 0)), ' ');
  } else if (!indent.is_none() && !indent.is_undefined()) {
    render_fail("tojson indent must be an integer or a string");
  }
  const Value& separators = args.get(2);
  if (separators.is_list()) {
    const auto& parts = separators.as_list().items;
    if (parts.size() != 2 || !parts[0].is_string() || !parts[1].is_string())
      render_fail("tojson separators must be two strings");
    options.item_separator = parts[0].as_string();
    options.key_separator = parts[1].as_string();
  }
  options.sort_keys = args.boolean(3, false);
  return Value(json_dumps(input, options));
}

Value filter_default(const Value& input, const CallArgs& call) {
  Arguments args("default", call, {"default_value", "boolean"});
  const bool use_default = input.is_undefined() || (args.boolean(1, false) && !truthy(input));
  return use_default ? (args.has(0) ? args.get(0) : Value("")) : input;
}

Value filter_replace(const Value& input, const CallArgs& call) {
  Arguments args("replace", call, {"old", "new", "count"}, 2);
  CallArgs method_args;
  method_args.positional = {Value(to_str(args.get(0))), Value(to_str(args.get(1)))};
  if (args.has(2) && !args.get(2).is_none()) method_args.positional.push_back(args.get(2));
  return string_method(to_str(input), "replace")->as_callable().call(method_args);
}

Value filter_trim(const Value& input, const CallArgs& call) {
  Arguments args("trim", call, {"chars"});
  const std::optional<std::string> chars = args.optional_string(0);
  const std::u32string set = chars ? utf8_decode(*chars) : std::u32string();
  return Value(str_strip(to_str(input), chars ? &set : nullptr, StripSide::kBoth));
}

Value filter_center(const Value& input, const CallArgs& call) {
  Arguments args("center", call, {"width"});
  CallArgs method_args;
  method_args.positional = {Value(args.integer(0, 80))};
  return string_method(to_str(input), "center")->as_callable().call(method_args);
}

// markupsafe.escape, which the e/escape filters apply.
Value filter_escape(const Value& input, const CallArgs& call) {
  expect_positional("escape", call, 0, 0);
  std::string out;
  for (char c : to_str(input)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return Value(std::move(out));
}

Value filter_abs(const Value& input, const CallArgs& call) {
  expect_positional("abs", call, 0, 0);
  if (input.is_float()) return Value(std::fabs(input.as_float()));
  if (!input.is_number()) render_fail("bad operand type for abs(): '", type_name(input), "'");
  if (input.as_int() == INT64_MIN) render_fail("integer overflow in abs");
  return Value(input.as_int() < 0 ? -input.as_int() : input.as_int());
}

// jinja2's do_format: `value % (kwargs or args)`.
Value filter_format(const Value& input, const CallArgs& call) {
  if (!call.positional.empty() && !call.keyword.empty())
    render_fail("format: can't handle positional and keyword arguments at the same time");
  if (!call.keyword.empty()) {
    auto mapping = std::make_shared<Dict>();
    for (const auto& [key, value] : call.keyword) mapping->set(key, value);
    return Value(printf_format(to_str(input), Value(std::move(mapping))));
  }
  return Value(printf_format(to_str(input), Value::list(call.positional, SequenceKind::kTuple)));
}

template <typename Text>
Filter text_filter(const char* name, Text transform) {
  return [name, transform](const Value& input, const CallArgs& call) {
    expect_positional(name, call, 0, 0);
    return Value(transform(to_str(input)));
  };
}

const std::map<std::string, Filter>& filters() {
  static const std::map<std::string, Filter> table = {
      {"abs", filter_abs},
      {"attr", filter_attr},
      {"capitalize", text_filter("capitalize", [](const std::string& s) { return str_capitalize(s); })},
      {"center", filter_center},
      {"count", filter_length},
      {"d", filter_default},
      {"default", filter_default},
      {"dictsort", filter_dictsort},
      {"e", filter_escape},
      {"escape", filter_escape},
      {"first",
       [](const Value& v, const CallArgs& c) {
         expect_positional("first", c, 0, 0);
         return first_or_last(v, false);
       }},
      {"float", filter_float},
      {"format", filter_format},
      {"indent", filter_indent},
      {"int", filter_int},
      {"items", filter_items},
      {"join", filter_join},
      {"last",
       [](const Value& v, const CallArgs& c) {
         expect_positional("last", c, 0, 0);
         return first_or_last(v, true);
       }},
      {"length", filter_length},
      {"list", filter_list},
      {"lower", text_filter("lower", [](const std::string& s) { return str_lower(s); })},
      {"map", filter_map},
      {"max", [](const Value& v, const CallArgs& c) { return filter_min_or_max(v, c, true); }},
      {"min", [](const Value& v, const CallArgs& c) { return filter_min_or_max(v, c, false); }},
      {"reject", [](const Value& v, const CallArgs& c) { return filter_select(v, c, false, false); }},
      {"rejectattr", [](const Value& v, const CallArgs& c) { return filter_select(v, c, false, true); }},
      {"replace", filter_replace},
      {"reverse", filter_reverse},
      {"round", filter_round},
      {"safe",
       [](const Value& v, const CallArgs& c) {
         expect_positional("safe", c, 0, 0);
         return v;
       }},
      {"select", [](const Value& v, const CallArgs& c) { return filter_select(v, c, true, false); }},
      {"selectattr", [](const Value& v, const CallArgs& c) { return filter_select(v, c, true, true); }},
      {"sort", filter_sort},
      {"string", text_filter("string", [](const std::string& s) { return s; })},
      {"sum", filter_sum},
      {"title", filter_title},
      {"tojson", filter_tojson},
      {"trim", filter_trim},
      {"unique", filter_unique},
      {"upper", text_filter("upper", [](const std::string& s) { return str_upper(s); })},
  };
  return table;
}

}  // namespace

bool is_known_filter(const std::string& name) { return filters().count(name) > 0; }

Value apply_filter(const std::string& name, const Value& input, const CallArgs& args) {
  const auto it = filters().find(name);
  if (it == filters().end()) render_fail("no filter named '", name, "'");
  return it->second(input, args);
}

}  // namespace dsmoe::jinja
