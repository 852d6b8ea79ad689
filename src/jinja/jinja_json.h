// JSON in and out of template values. In: the render context (messages, tools, special tokens). Out:
// the tojson filter, which HF overrides to call Python's json.dumps with ensure_ascii=False — so the text
// must match json.dumps byte for byte: ", " and ": " separators (or "," and ": " once indented),
// floats as Python's repr, non-ASCII kept, only '"', '\\' and control characters escaped.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "jinja/jinja_value.h"

namespace dsmoe::jinja {

// Objects keep their key order: ordered_json holds the order of the file, as json.loads does; a plain
// nlohmann::json has already sorted its keys.
Value value_from_json(const nlohmann::ordered_json& json);
Value value_from_json(const nlohmann::json& json);

struct JsonDumpOptions {
  bool ensure_ascii = false;          // HF's default; jinja2's own tojson differs (it HTML-escapes)
  std::optional<std::string> indent;  // json.dumps(indent=...): an int n means n spaces
  std::optional<std::string> item_separator;
  std::optional<std::string> key_separator;
  bool sort_keys = false;
};

std::string json_dumps(const Value& value, const JsonDumpOptions& options);

}  // namespace dsmoe::jinja
