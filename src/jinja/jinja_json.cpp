#include "jinja/jinja_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "jinja/jinja_unicode.h"

namespace dsmoe::jinja {
namespace {

template <typename Json>
Value from_json(const Json& json) {
  switch (json.type()) {
    case nlohmann::json::value_t::null:
      return Value(nullptr);
    case nlohmann::json::value_t::boolean:
      return Value(json.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(json.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const auto u = json.template get<uint64_t>();
      // Python ints are unbounded; past int64 we keep the magnitude as a float rather than wrap.
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Value(static_cast<double>(u));
      return Value(static_cast<int64_t>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value(json.template get<double>());
    case nlohmann::json::value_t::string:
      return Value(json.template get<std::string>());
    case nlohmann::json::value_t::array: {
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(from_json(item));
      return Value::list(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      auto dict = std::make_shared<Dict>();
      for (auto it = json.begin(); it != json.end(); ++it) dict->set(it.key(), from_json(it.value()));
      return Value(std::move(dict));
    }
    default:
      return Value();
  }
}

void append_json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  auto escape_unit = [&out](unsigned unit) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "\\u%04x", unit & 0xFFFFu);
    out += hex;
  };
  for (char32_t c : utf8_decode(s)) {
    switch (c) {
      case U'"':
        out += "\\\"";
        break;
      case U'\\':
        out += "\\\\";
        break;
      case U'\n':
        out += "\\n";
        break;
      case U'\r':
        out += "\\r";
        break;
      case U'\t':
        out += "\\t";
        break;
      case U'\b':
        out += "\\b";
        break;
      case U'\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20 || (ensure_ascii && c > 0x7E)) {
          if (c > 0xFFFF) {  // a UTF-16 surrogate pair, as json.dumps writes it
            const char32_t v = c - 0x10000;
            escape_unit(0xD800 + static_cast<unsigned>(v >> 10));
            escape_unit(0xDC00 + static_cast<unsigned>(v & 0x3FF));
          } else {
            escape_unit(static_cast<unsigned>(c));
          }
        } else {
          utf8_append(out, c);
        }
    }
  }
  out += '"';
}

struct Dumper {
  const JsonDumpOptions& options;
  std::string item_separator;
  std::string key_separator;
  std::string out;

  void newline(int depth) {
    if (!options.indent) return;
    out += '\n';
    for (int i = 0; i < depth; ++i) out += *options.indent;
  }

  void dump(const Value& v, int depth) {
    switch (v.kind()) {
      case Value::Kind::kNone:
        out += "null";
        return;
      case Value::Kind::kBool:
        out += v.as_bool() ? "true" : "false";
        return;
      case Value::Kind::kInt:
        out += std::to_string(v.as_int());
        return;
      case Value::Kind::kFloat: {
        const double f = v.as_float();
        out += std::isnan(f) ? "NaN" : std::isinf(f) ? (f > 0 ? "Infinity" : "-Infinity") : python_float_repr(f);
        return;
      }
      case Value::Kind::kString:
        append_json_string(out, v.as_string(), options.ensure_ascii);
        return;
      case Value::Kind::kList:
        if (v.as_list().kind != SequenceKind::kGenerator) return dump_list(v.as_list().items, depth);
        break;
      case Value::Kind::kDict:
        if (!v.as_dict().is_namespace) return dump_dict(v.as_dict(), depth);
        break;
      default:
        break;
    }
    render_fail("Object of type ", type_name(v), " is not JSON serializable");
  }

  void dump_list(const std::vector<Value>& items, int depth) {
    if (items.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += item_separator;
      newline(depth + 1);
      dump(items[i], depth + 1);
    }
    newline(depth);
    out += ']';
  }

  void dump_dict(const Dict& dict, int depth) {
    if (dict.size() == 0) {
      out += "{}";
      return;
    }
    std::vector<const std::pair<std::string, Value>*> entries;
    for (const auto& entry : dict.entries()) entries.push_back(&entry);
    if (options.sort_keys)
      std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
    out += '{';
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) out += item_separator;
      newline(depth + 1);
      append_json_string(out, entries[i]->first, options.ensure_ascii);
      out += key_separator;
      dump(entries[i]->second, depth + 1);
    }
    newline(depth);
    out += '}';
  }
};

}  // namespace

Value value_from_json(const nlohmann::ordered_json& json) { return from_json(json); }
Value value_from_json(const nlohmann::json& json) { return from_json(json); }

std::string json_dumps(const Value& value, const JsonDumpOptions& options) {
  // json.dumps drops the space after "," once indenting, so lines do not end in blanks.
  Dumper dumper{
      options, options.item_separator.value_or(options.indent ? "," : ", "), options.key_separator.value_or(": "), {}};
  dumper.dump(value, 0);
  return std::move(dumper.out);
}

}  // namespace dsmoe::jinja
