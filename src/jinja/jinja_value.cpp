#include "jinja/jinja_value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "jinja/jinja_unicode.h"

namespace dsmoe::jinja {

const Value* Dict::find(const std::string& key) const {
  const auto it = index_.find(key);
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

void Dict::set(const std::string& key, Value value) {
  const auto [it, inserted] = index_.emplace(key, entries_.size());
  if (inserted) {
    entries_.emplace_back(key, std::move(value));
  } else {
    entries_[it->second].second = std::move(value);
  }
}

Value Value::list(std::vector<Value> items, SequenceKind kind) {
  auto list = std::make_shared<List>();
  list->items = std::move(items);
  list->kind = kind;
  return Value(std::move(list));
}

Value Value::function(std::string name, std::function<Value(const CallArgs&)> call) {
  return Value(std::make_shared<Callable>(Callable{std::move(name), std::move(call)}));
}

const void* Value::identity() const {
  switch (kind()) {
    case Kind::kList:
      return std::get<std::shared_ptr<List>>(v_).get();
    case Kind::kDict:
      return std::get<std::shared_ptr<Dict>>(v_).get();
    case Kind::kCallable:
      return std::get<std::shared_ptr<Callable>>(v_).get();
    default:
      return nullptr;
  }
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "Undefined";
    case Value::Kind::kNone:
      return "NoneType";
    case Value::Kind::kBool:
      return "bool";
    case Value::Kind::kInt:
      return "int";
    case Value::Kind::kFloat:
      return "float";
    case Value::Kind::kString:
      return "str";
    case Value::Kind::kList: {
      const SequenceKind k = v.as_list().kind;
      return k == SequenceKind::kTuple ? "tuple" : k == SequenceKind::kGenerator ? "generator" : "list";
    }
    case Value::Kind::kDict:
      return v.as_dict().is_namespace ? "Namespace" : "dict";
    case Value::Kind::kCallable:
      return "function";
  }
  return "object";
}

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return false;
    case Value::Kind::kBool:
      return v.as_bool();
    case Value::Kind::kInt:
      return v.as_int() != 0;
    case Value::Kind::kFloat:
      return v.as_float() != 0.0;
    case Value::Kind::kString:
      return !v.as_string().empty();
    case Value::Kind::kList:
      return v.as_list().kind == SequenceKind::kGenerator || !v.as_list().items.empty();
    case Value::Kind::kDict:
      return v.as_dict().is_namespace || v.as_dict().size() > 0;
    case Value::Kind::kCallable:
      return true;
  }
  return false;
}

std::string python_float_repr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  // The shortest digits that round-trip (as CPython's repr), then CPython's layout: positional notation
  // when the decimal exponent is in [-4, 16), scientific with a two-digit exponent otherwise.
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  const std::string sci(buf, result.ptr);
  const size_t e = sci.find('e');
  std::string mantissa = sci.substr(0, e);
  const int exponent = std::stoi(sci.substr(e + 1));
  const bool negative = mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa)
    if (c != '.') digits.push_back(c);
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    out.append(digits, 0, 1);
    if (digits.size() > 1) out.append(".").append(digits, 1);
    char exp_text[16];
    std::snprintf(exp_text, sizeof exp_text, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out.append(exp_text);
  }
  if (exponent < 0) return out.append("0.").append(static_cast<size_t>(-exponent - 1), '0').append(digits);
  const auto point = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= point) return out.append(digits).append(point - digits.size(), '0').append(".0");
  return out.append(digits, 0, point).append(".").append(digits, point);
}

namespace {

std::string string_repr(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t c : utf8_decode(s)) {
    char hex[16];
    if (c == static_cast<char32_t>(quote) || c == U'\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == U'\t') {
      out += "\\t";
    } else if (c == U'\n') {
      out += "\\n";
    } else if (c == U'\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F || (c >= 0x80 && !is_python_printable(c))) {
      const char* format = c <= 0xFF ? "\\x%02x" : c <= 0xFFFF ? "\\u%04x" : "\\U%08x";
      std::snprintf(hex, sizeof hex, format, static_cast<unsigned>(c));
      out += hex;
    } else {
      utf8_append(out, c);
    }
  }
  return out + quote;
}

}  // namespace

std::string repr(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "Undefined";
    case Value::Kind::kString:
      return string_repr(v.as_string());
    case Value::Kind::kList: {
      const List& list = v.as_list();
      if (list.kind == SequenceKind::kGenerator) return "<generator object>";
      const bool tuple = list.kind == SequenceKind::kTuple;
      std::string out = tuple ? "(" : "[";
      for (size_t i = 0; i < list.items.size(); ++i) out += (i ? ", " : "") + repr(list.items[i]);
      if (tuple && list.items.size() == 1) out += ",";
      return out + (tuple ? ")" : "]");
    }
    case Value::Kind::kDict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, item] : v.as_dict().entries()) {
        out += (first ? "" : ", ") + string_repr(key) + ": " + repr(item);
        first = false;
      }
      out += "}";
      return v.as_dict().is_namespace ? "<Namespace " + out + ">" : out;
    }
    default:
      return to_str(v);
  }
}

std::string to_str(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "";
    case Value::Kind::kNone:
      return "None";
    case Value::Kind::kBool:
      return v.as_bool() ? "True" : "False";
    case Value::Kind::kInt:
      return std::to_string(v.as_int());
    case Value::Kind::kFloat:
      return python_float_repr(v.as_float());
    case Value::Kind::kString:
      return v.as_string();
    case Value::Kind::kCallable:
      return "<function " + v.as_callable().name + ">";
    default:
      return repr(v);
  }
}

bool equals(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::kUndefined:
    case K::kNone:
      return true;
    case K::kString:
      return a.as_string() == b.as_string();
    case K::kList: {
      const List& x = a.as_list();
      const List& y = b.as_list();
      if (x.kind == SequenceKind::kGenerator || y.kind == SequenceKind::kGenerator) return &x == &y;
      if (x.kind != y.kind || x.items.size() != y.items.size()) return false;
      for (size_t i = 0; i < x.items.size(); ++i)
        if (!equals(x.items[i], y.items[i])) return false;
      return true;
    }
    case K::kDict: {
      const Dict& x = a.as_dict();
      const Dict& y = b.as_dict();
      if (x.is_namespace || y.is_namespace) return &x == &y;
      if (x.size() != y.size()) return false;
      for (const auto& [key, item] : x.entries()) {
        const Value* other = y.find(key);
        if (other == nullptr || !equals(item, *other)) return false;
      }
      return true;
    }
    default:
      return a.identity() == b.identity();
  }
}

int compare(const Value& a, const Value& b, std::string_view op) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      const double x = a.as_float(), y = b.as_float();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
  }
  if (a.is_undefined() || b.is_undefined()) render_fail(a.is_undefined() ? a.undefined().hint : b.undefined().hint);
  if (a.is_string() && b.is_string())
    return a.as_string().compare(b.as_string()) < 0 ? -1 : a.as_string() == b.as_string() ? 0 : 1;
  if (a.is_list() && b.is_list() && a.as_list().kind == b.as_list().kind &&
      a.as_list().kind != SequenceKind::kGenerator) {
    const auto& x = a.as_list().items;
    const auto& y = b.as_list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equals(x[i], y[i])) return compare(x[i], y[i], op);
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  render_fail("'", op, "' not supported between instances of '", type_name(a), "' and '", type_name(b), "'");
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kUndefined:
      return false;
    case Value::Kind::kString:
      if (!item.is_string()) render_fail("'in <string>' requires string as left operand, not ", type_name(item));
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::kList:
      for (const Value& x : container.as_list().items)
        if (equals(x, item)) return true;
      return false;
    case Value::Kind::kDict:
      if (item.is_list() && item.as_list().kind != SequenceKind::kTuple)
        render_fail("unhashable type: '", type_name(item), "'");
      if (item.is_dict()) render_fail("unhashable type: 'dict'");
      return item.is_string() && container.as_dict().find(item.as_string()) != nullptr;
    default:
      render_fail("argument of type '", type_name(container), "' is not iterable");
  }
}

std::vector<Value> iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return {};
    case Value::Kind::kList:
      return v.as_list().items;
    case Value::Kind::kDict: {
      std::vector<Value> keys;
      for (const auto& entry : v.as_dict().entries()) keys.emplace_back(entry.first);
      return keys;
    }
    case Value::Kind::kString: {
      std::vector<Value> chars;
      for (char32_t c : utf8_decode(v.as_string())) chars.emplace_back(utf8_encode(std::u32string(1, c)));
      return chars;
    }
    default:
      render_fail("'", type_name(v), "' object is not iterable");
  }
}

int64_t length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return 0;
    case Value::Kind::kString:
      return static_cast<int64_t>(code_point_count(v.as_string()));
    case Value::Kind::kList:
      if (v.as_list().kind == SequenceKind::kGenerator) render_fail("object of type 'generator' has no len()");
      return static_cast<int64_t>(v.as_list().items.size());
    case Value::Kind::kDict:
      if (v.as_dict().is_namespace) render_fail("object of type 'Namespace' has no len()");
      return static_cast<int64_t>(v.as_dict().size());
    default:
      render_fail("object of type '", type_name(v), "' has no len()");
  }
}

}  // namespace dsmoe::jinja
