// Reading the fields of one tokenizer.json part, with errors that name the part ("tokenizer.json: normalizer
// Replace: 'content' must be a string").
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/errors.h"

namespace dsmoe::json_fields {

using nlohmann::json;

inline const json& required(const json& part, const char* key, const std::string& where) {
  if (!part.is_object() || !part.contains(key)) fail(where, ": '", key, "' is missing");
  return part[key];
}

inline std::string string_field(const json& part, const char* key, const std::string& where) {
  const json& value = required(part, key, where);
  if (!value.is_string()) fail(where, ": '", key, "' must be a string, found ", value.dump());
  return value.get<std::string>();
}

// A boolean that may be absent or null (then `fallback`).
inline bool bool_field(const json& part, const char* key, bool fallback, const std::string& where) {
  if (!part.contains(key) || part[key].is_null()) return fallback;
  if (!part[key].is_boolean()) fail(where, ": '", key, "' must be true or false, found ", part[key].dump());
  return part[key].get<bool>();
}

inline const json& array_field(const json& part, const char* key, const std::string& where) {
  const json& value = required(part, key, where);
  if (!value.is_array()) fail(where, ": '", key, "' must be an array, found ", value.dump().substr(0, 80));
  return value;
}

// The "type" of a part, which selects its implementation.
inline std::string type_of(const json& part, const std::string& where) {
  if (!part.is_object()) fail(where, " must be an object or null, found ", part.dump().substr(0, 80));
  return string_field(part, "type", where);
}

}  // namespace dsmoe::json_fields
