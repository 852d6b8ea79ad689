// Python's str methods that chat templates call: content.strip(), content.split('</think>')[-1],
// role.startswith('tool'), '{} {}'.format(a, b), ... Positions and lengths count code points.
#include <unicode/uchar.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>
#include <map>

#include "jinja/jinja_access.h"
#include "jinja/jinja_limits.h"
#include "jinja/jinja_arguments.h"
#include "jinja/jinja_unicode.h"

namespace dsmoe::jinja {
namespace {

using Method = std::function<Value(const std::string& self, const CallArgs& call)>;

std::u32string code_points_of(const Value& v, const char* function) {
  if (!v.is_string()) render_fail(function, "() argument must be str, not '", type_name(v), "'");
  return utf8_decode(v.as_string());
}

// CPython's ADJUST_INDICES for the optional start/end of find, count, startswith.
std::pair<size_t, size_t> search_range(const Arguments& args, size_t first, size_t length, bool* empty_range) {
  auto adjust = [length](const Value& v, int64_t fallback) {
    if (v.is_none() || v.is_undefined()) return fallback;
    // Python: "slice indices must be integers or None" ('abc'.startswith('a', 'x') and 1.5 are TypeErrors).
    if (!v.is_int() && !v.is_bool()) render_fail("slice indices must be integers or None or have an __index__ method");
    int64_t i = v.as_int();
    if (i < 0) i = std::max<int64_t>(i + static_cast<int64_t>(length), 0);
    return i;
  };
  const int64_t start = adjust(args.get(first), 0);
  const int64_t end = std::min(adjust(args.get(first + 1), static_cast<int64_t>(length)), static_cast<int64_t>(length));
  *empty_range = start > static_cast<int64_t>(length);
  return {static_cast<size_t>(std::min<int64_t>(start, static_cast<int64_t>(length))),
          static_cast<size_t>(std::max<int64_t>(end, 0))};
}

Value find(const std::string& self, const CallArgs& call, bool from_right, bool raise) {
  Arguments args(from_right ? "str.rfind" : "str.find", call, {"sub", "start", "end"}, 1);
  const std::u32string text = utf8_decode(self);
  const std::u32string sub = code_points_of(args.get(0), "find");
  bool empty_range = false;
  const auto [start, end] = search_range(args, 1, text.size(), &empty_range);
  int64_t found = -1;
  if (!empty_range && end >= start && end - start >= sub.size()) {
    const std::u32string_view window = std::u32string_view(text).substr(start, end - start);
    const size_t at = from_right ? window.rfind(sub) : window.find(sub);
    if (at != std::u32string_view::npos) found = static_cast<int64_t>(start + at);
  }
  if (found < 0 && raise) render_fail("substring not found");
  return Value(found);
}

Value count(const std::string& self, const CallArgs& call) {
  Arguments args("str.count", call, {"sub", "start", "end"}, 1);
  const std::u32string text = utf8_decode(self);
  const std::u32string sub = code_points_of(args.get(0), "count");
  bool empty_range = false;
  const auto [start, end] = search_range(args, 1, text.size(), &empty_range);
  if (empty_range || end < start) return Value(0);
  if (sub.empty()) return Value(static_cast<int64_t>(end - start + 1));
  int64_t n = 0;
  const std::u32string_view window = std::u32string_view(text).substr(start, end - start);
  for (size_t at = window.find(sub); at != std::u32string_view::npos; at = window.find(sub, at + sub.size())) ++n;
  return Value(n);
}

Value starts_or_ends_with(const std::string& self, const CallArgs& call, bool ends) {
  Arguments args(ends ? "str.endswith" : "str.startswith", call, {"prefix", "start", "end"}, 1);
  const std::u32string text = utf8_decode(self);
  bool empty_range = false;
  const auto [start, end] = search_range(args, 1, text.size(), &empty_range);
  if (empty_range) return Value(false);
  const std::u32string_view window =
      end >= start ? std::u32string_view(text).substr(start, end - start) : std::u32string_view();
  std::vector<Value> candidates;
  if (args.get(0).is_list() && args.get(0).as_list().kind == SequenceKind::kTuple) {
    candidates = args.get(0).as_list().items;
  } else if (args.get(0).is_string()) {
    candidates.push_back(args.get(0));
  } else {
    render_fail(ends ? "endswith" : "startswith", " first arg must be str or a tuple of str, not ",
                type_name(args.get(0)));
  }
  for (const Value& candidate : candidates) {
    const std::u32string affix = code_points_of(candidate, ends ? "endswith" : "startswith");
    if (end < start || affix.size() > window.size()) continue;
    if (ends ? window.substr(window.size() - affix.size()) == affix : window.substr(0, affix.size()) == affix)
      return Value(true);
  }
  return Value(false);
}

Value split(const std::string& self, const CallArgs& call, bool from_right) {
  Arguments args(from_right ? "str.rsplit" : "str.split", call, {"sep", "maxsplit"});
  const std::optional<std::string> sep_text = args.optional_string(0);
  int64_t budget = args.integer(1, -1);
  std::u32string text = utf8_decode(self);
  if (from_right) std::reverse(text.begin(), text.end());
  std::vector<std::u32string> parts;
  if (!sep_text) {
    // Runs of whitespace separate; leading and trailing whitespace yield no empty parts.
    size_t i = 0;
    while (true) {
      while (i < text.size() && is_python_space(text[i])) ++i;
      if (i == text.size()) break;
      if (budget == 0) {  // the rest, trailing whitespace included, as CPython's split_whitespace
        parts.push_back(text.substr(i));
        break;
      }
      size_t j = i;
      while (j < text.size() && !is_python_space(text[j])) ++j;
      parts.push_back(text.substr(i, j - i));
      --budget;
      i = j;
    }
  } else {
    std::u32string sep = utf8_decode(*sep_text);
    if (sep.empty()) render_fail("empty separator");
    if (from_right) std::reverse(sep.begin(), sep.end());
    size_t i = 0;
    for (size_t at = text.find(sep); at != std::u32string::npos && budget != 0; at = text.find(sep, i), --budget) {
      parts.push_back(text.substr(i, at - i));
      i = at + sep.size();
    }
    parts.push_back(text.substr(i));
  }
  std::vector<Value> out;
  for (auto& part : parts) {
    if (from_right) std::reverse(part.begin(), part.end());
    out.emplace_back(utf8_encode(part));
  }
  if (from_right) std::reverse(out.begin(), out.end());
  return Value::list(std::move(out));
}

Value splitlines(const std::string& self, const CallArgs& call) {
  Arguments args("str.splitlines", call, {"keepends"});
  std::vector<Value> out;
  for (std::string& line : str_splitlines(self, args.boolean(0, false))) out.emplace_back(std::move(line));
  return Value::list(std::move(out));
}

Value replace(const std::string& self, const CallArgs& call) {
  Arguments args("str.replace", call, {"old", "new", "count"}, 2);
  const std::u32string text = utf8_decode(self);
  const std::u32string old_text = code_points_of(args.get(0), "replace");
  const std::u32string new_text = code_points_of(args.get(1), "replace");
  int64_t budget = args.integer(2, -1);
  std::u32string out;
  if (old_text.empty()) {  // Python inserts `new` before every code point and at the end
    check_text_bytes(times(new_text.size() * 4, int64_t(text.size()) + 1) + self.size(), "str.replace");
    for (size_t i = 0; i <= text.size(); ++i) {
      if (budget != 0) out += new_text, --budget;
      if (i < text.size()) out.push_back(text[i]);
    }
    return Value(utf8_encode(out));
  }
  size_t i = 0;
  for (size_t at = text.find(old_text); at != std::u32string::npos && budget != 0;
       at = text.find(old_text, i), --budget) {
    out += text.substr(i, at - i) + new_text;
    check_text_bytes(out.size() * 4, "str.replace");  // at most four UTF-8 bytes a code point
    i = at + old_text.size();
  }
  out += text.substr(i);
  return Value(utf8_encode(out));
}

Value join(const std::string& self, const CallArgs& call) {
  expect_positional("str.join", call, 1, 1);
  std::string out;
  size_t i = 0;
  for (const Value& item : iterate(call.positional[0])) {
    if (!item.is_string()) render_fail("sequence item ", i, ": expected str instance, ", type_name(item), " found");
    if (i++ > 0) out += self;
    out += item.as_string();
  }
  return Value(std::move(out));
}

// str.format with `{}`, `{0}`, `{name}` and `{{ }}`; conversions and format specs are left out.
Value format(const std::string& self, const CallArgs& call) {
  std::string out;
  size_t next_auto = 0;
  for (size_t i = 0; i < self.size(); ++i) {
    const char c = self[i];
    if ((c == '{' || c == '}') && i + 1 < self.size() && self[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c == '}') render_fail("Single '}' encountered in format string");
    if (c != '{') {
      out += c;
      continue;
    }
    const size_t close = self.find('}', i);
    if (close == std::string::npos) render_fail("Single '{' encountered in format string");
    const std::string field = self.substr(i + 1, close - i - 1);
    if (field.find_first_of(":!.[") != std::string::npos)
      render_fail("str.format: conversions, format specs and attribute fields ('", field, "') are not supported");
    Value value;
    if (field.empty() || std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      size_t index = next_auto;
      if (field.empty()) {
        ++next_auto;
      } else if (std::from_chars(field.data(), field.data() + field.size(), index).ec != std::errc() ||
                 index > size_t(INT64_MAX)) {
        render_fail("Too many decimal digits in format string");  // Python's limit: Py_ssize_t
      }
      if (index >= call.positional.size())
        render_fail("Replacement index ", index, " out of range for positional args tuple");
      value = call.positional[index];
    } else {
      const auto it =
          std::find_if(call.keyword.begin(), call.keyword.end(), [&](const auto& kw) { return kw.first == field; });
      if (it == call.keyword.end()) render_fail("KeyError: '", field, "'");
      value = it->second;
    }
    out += to_str(value);
    i = close;
  }
  return Value(std::move(out));
}

Value pad(const std::string& self, const CallArgs& call, const char* name) {
  Arguments args(std::string("str.") + name, call, {"width", "fillchar"}, 1);
  const std::u32string text = utf8_decode(self);
  const std::u32string fill = utf8_decode(args.string(1, " "));
  if (fill.size() != 1) render_fail("The fill character must be exactly one character long");
  const int64_t width = args.integer(0, 0);
  check_text_bytes(times(4, width), (std::string("str.") + name).c_str());
  const auto missing = static_cast<size_t>(std::max<int64_t>(width - static_cast<int64_t>(text.size()), 0));
  const std::string_view kind = name;
  size_t left = kind == "rjust"   ? missing
                : kind == "ljust" ? 0
                                  : missing / 2 + (missing & static_cast<size_t>(width) & 1);
  if (kind == "zfill") {
    std::u32string out = text;
    const size_t sign = !text.empty() && (text[0] == U'+' || text[0] == U'-') ? 1 : 0;
    out.insert(sign, missing, U'0');
    return Value(utf8_encode(out));
  }
  return Value(utf8_encode(std::u32string(left, fill[0]) + text + std::u32string(missing - left, fill[0])));
}

Value predicate(const std::string& self, const std::function<bool(char32_t)>& each) {
  const std::u32string text = utf8_decode(self);
  return Value(!text.empty() && std::all_of(text.begin(), text.end(), each));
}

// str.islower()/isupper(): some cased character, and none of the other case.
Value case_predicate(const std::string& self, bool lower) {
  bool any_cased = false;
  for (char32_t c : utf8_decode(self)) {
    if (lower ? (is_cased_upper(c) || u_istitle(static_cast<UChar32>(c)))
              : (is_cased_lower(c) || u_istitle(static_cast<UChar32>(c))))
      return Value(false);
    any_cased = any_cased || (lower ? is_cased_lower(c) : is_cased_upper(c));
  }
  return Value(any_cased);
}

Value strip(const std::string& self, const CallArgs& call, StripSide side, const char* name) {
  Arguments args(name, call, {"chars"});
  const std::optional<std::string> chars = args.optional_string(0);
  const std::u32string set = chars ? utf8_decode(*chars) : std::u32string();
  return Value(str_strip(self, chars ? &set : nullptr, side));
}

Value no_arguments(const char* name, const CallArgs& call, std::string result) {
  expect_positional(name, call, 0, 0);
  return Value(std::move(result));
}

const std::map<std::string, Method>& string_methods() {
  static const std::map<std::string, Method> methods = {
      {"strip", [](const std::string& s, const CallArgs& c) { return strip(s, c, StripSide::kBoth, "str.strip"); }},
      {"lstrip", [](const std::string& s, const CallArgs& c) { return strip(s, c, StripSide::kLeft, "str.lstrip"); }},
      {"rstrip", [](const std::string& s, const CallArgs& c) { return strip(s, c, StripSide::kRight, "str.rstrip"); }},
      {"startswith", [](const std::string& s, const CallArgs& c) { return starts_or_ends_with(s, c, false); }},
      {"endswith", [](const std::string& s, const CallArgs& c) { return starts_or_ends_with(s, c, true); }},
      {"split", [](const std::string& s, const CallArgs& c) { return split(s, c, false); }},
      {"rsplit", [](const std::string& s, const CallArgs& c) { return split(s, c, true); }},
      {"splitlines", splitlines},
      {"replace", replace},
      {"join", join},
      {"format", format},
      {"find", [](const std::string& s, const CallArgs& c) { return find(s, c, false, false); }},
      {"rfind", [](const std::string& s, const CallArgs& c) { return find(s, c, true, false); }},
      {"index", [](const std::string& s, const CallArgs& c) { return find(s, c, false, true); }},
      {"rindex", [](const std::string& s, const CallArgs& c) { return find(s, c, true, true); }},
      {"count", count},
      {"lower", [](const std::string& s, const CallArgs& c) { return no_arguments("str.lower", c, str_lower(s)); }},
      {"upper", [](const std::string& s, const CallArgs& c) { return no_arguments("str.upper", c, str_upper(s)); }},
      {"title", [](const std::string& s, const CallArgs& c) { return no_arguments("str.title", c, str_title(s)); }},
      {"capitalize",
       [](const std::string& s, const CallArgs& c) { return no_arguments("str.capitalize", c, str_capitalize(s)); }},
      {"center", [](const std::string& s, const CallArgs& c) { return pad(s, c, "center"); }},
      {"ljust", [](const std::string& s, const CallArgs& c) { return pad(s, c, "ljust"); }},
      {"rjust", [](const std::string& s, const CallArgs& c) { return pad(s, c, "rjust"); }},
      {"zfill", [](const std::string& s, const CallArgs& c) { return pad(s, c, "zfill"); }},
      {"isspace", [](const std::string& s, const CallArgs&) { return predicate(s, is_python_space); }},
      {"isalpha",
       [](const std::string& s, const CallArgs&) {
         return predicate(s, [](char32_t c) { return u_isalpha(static_cast<UChar32>(c)) != 0; });
       }},
      {"isdigit",
       [](const std::string& s, const CallArgs&) {
         return predicate(s, [](char32_t c) { return u_isdigit(static_cast<UChar32>(c)) != 0; });
       }},
      {"isalnum", [](const std::string& s, const CallArgs&) { return predicate(s, is_alnum); }},
      {"islower", [](const std::string& s, const CallArgs&) { return case_predicate(s, true); }},
      {"isupper", [](const std::string& s, const CallArgs&) { return case_predicate(s, false); }},
      {"removeprefix",
       [](const std::string& s, const CallArgs& c) {
         expect_positional("str.removeprefix", c, 1, 1);
         const std::string& p =
             code_points_of(c.positional[0], "removeprefix").empty() ? "" : c.positional[0].as_string();
         return Value(s.rfind(p, 0) == 0 ? s.substr(p.size()) : s);
       }},
      {"removesuffix",
       [](const std::string& s, const CallArgs& c) {
         expect_positional("str.removesuffix", c, 1, 1);
         const std::string& p =
             code_points_of(c.positional[0], "removesuffix").empty() ? "" : c.positional[0].as_string();
         const bool ends = s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
         return Value(ends ? s.substr(0, s.size() - p.size()) : s);
       }},
  };
  return methods;
}

}  // namespace

std::optional<Value> string_method(const std::string& self, const std::string& name) {
  const auto& methods = string_methods();
  const auto it = methods.find(name);
  if (it == methods.end()) return std::nullopt;
  const Method& method = it->second;
  return Value::function("str." + name, [self, &method](const CallArgs& call) { return method(self, call); });
}

}  // namespace dsmoe::jinja
