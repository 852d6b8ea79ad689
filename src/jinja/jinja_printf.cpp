#include "jinja/jinja_printf.h"

#include <cmath>
#include <cstdio>

#include "jinja/jinja_limits.h"
#include "jinja/jinja_unicode.h"

namespace dsmoe::jinja {
namespace {

struct Spec {
  std::string flags;
  int width = -1;
  int precision = -1;
  char type = 's';
};

// Pads `text` to the spec's width by code points: right-aligned unless '-'.
std::string pad(const std::string& text, const Spec& spec) {
  const auto length = static_cast<int>(code_point_count(text));
  if (spec.width <= length) return text;
  const std::string fill(static_cast<size_t>(spec.width - length), ' ');
  return spec.flags.find('-') != std::string::npos ? text + fill : fill + text;
}

std::string c_format(const Spec& spec, const char* length_modifier, char type, auto value) {
  std::string format = "%";
  format.append(spec.flags);
  if (spec.width >= 0) format.append(std::to_string(spec.width));
  if (spec.precision >= 0) format.append(".").append(std::to_string(spec.precision));
  format.append(length_modifier);
  format.push_back(type);
  const int n = std::snprintf(nullptr, 0, format.c_str(), value);
  std::string out(static_cast<size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), format.c_str(), value);
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string convert(const Spec& spec, const Value& v) {
  switch (spec.type) {
    case 's':
    case 'r':
    case 'a': {
      std::string text = spec.type == 's' ? to_str(v) : repr(v);
      if (spec.precision >= 0) text = utf8_encode(utf8_decode(text).substr(0, static_cast<size_t>(spec.precision)));
      return pad(text, spec);
    }
    case 'c': {
      if (v.is_string() && code_point_count(v.as_string()) == 1) return pad(v.as_string(), spec);
      if (!v.is_int()) render_fail("%c requires int or char");
      std::string text;
      utf8_append(text, static_cast<char32_t>(v.as_int()));
      return pad(text, spec);
    }
    case 'd':
    case 'i':
    case 'u':
    case 'o':
    case 'x':
    case 'X': {
      const bool integral_only = spec.type == 'o' || spec.type == 'x' || spec.type == 'X';
      if (!v.is_number() || (integral_only && v.is_float()))
        render_fail("%", spec.type, " format: ", integral_only ? "an integer" : "a real number", " is required, not ",
                    type_name(v));
      const long long i = v.is_float() ? static_cast<long long>(v.as_float()) : v.as_int();
      return c_format(spec, "ll", spec.type == 'u' || spec.type == 'i' ? 'd' : spec.type, i);
    }
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
      if (!v.is_number()) render_fail("must be real number, not ", type_name(v));
      return c_format(spec, "", spec.type, v.as_float());
    default:
      render_fail("unsupported format character '", spec.type, "'");
  }
}

}  // namespace

std::string printf_format(const std::string& format, const Value& args) {
  const bool is_tuple = args.is_list() && args.as_list().kind == SequenceKind::kTuple;
  const std::vector<Value> positional = is_tuple ? args.as_list().items : std::vector<Value>{args};
  size_t next = 0;
  bool used_mapping = false;
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    if (++i >= format.size()) render_fail("incomplete format");
    if (format[i] == '%') {
      out += '%';
      continue;
    }
    const Value* value = nullptr;
    if (format[i] == '(') {
      const size_t close = format.find(')', i);
      if (close == std::string::npos) render_fail("incomplete format key");
      if (!args.is_dict()) render_fail("format requires a mapping");
      value = args.as_dict().find(format.substr(i + 1, close - i - 1));
      if (value == nullptr) render_fail("KeyError: '", format.substr(i + 1, close - i - 1), "'");
      used_mapping = true;
      i = close + 1;
    }
    Spec spec;
    while (i < format.size() && std::string_view("-+ #0").find(format[i]) != std::string_view::npos)
      spec.flags += format[i++];
    auto number = [&]() {
      int64_t n = 0;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9') {
        n = n * 10 + (format[i++] - '0');
        check_text_bytes(static_cast<size_t>(n), "a '%' format width or precision");
      }
      return static_cast<int>(n);
    };
    if (i < format.size() && format[i] >= '0' && format[i] <= '9') spec.width = number();
    if (i < format.size() && format[i] == '.') {
      ++i;
      spec.precision = number();
    }
    if (i >= format.size()) render_fail("incomplete format");
    spec.type = format[i];
    if (value == nullptr) {
      if (next >= positional.size()) render_fail("not enough arguments for format string");
      value = &positional[next++];
    }
    out += convert(spec, *value);
  }
  if (!used_mapping && !args.is_dict() && next < positional.size())
    render_fail("not all arguments converted during string formatting");
  return out;
}

}  // namespace dsmoe::jinja
