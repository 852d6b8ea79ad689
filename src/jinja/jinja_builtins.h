// What HF's jinja2 environment provides by name: filters (`x | trim`), tests (`x is defined`) and globals
// (range, namespace, dict, and HF's raise_exception and strftime_now). Filter and test names are checked
// when a template is parsed, as jinja2 checks them when it compiles.
#pragma once

#include <string>

#include "jinja/jinja_value.h"

namespace dsmoe::jinja {

bool is_known_filter(const std::string& name);
Value apply_filter(const std::string& name, const Value& input, const CallArgs& args);

bool is_known_test(const std::string& name);
bool apply_test(const std::string& name, const Value& value, const CallArgs& args);

// The global of that name, or Undefined.
Value global_value(const std::string& name);

// jinja2's attribute getter for filters taking attribute=...: "a.b.0" looks up a, then b, then item 0,
// each with get_item's rules; a missing part yields Undefined (or `fallback` when given).
Value lookup_attribute_path(const Value& item, const Value& attribute, const Value* fallback = nullptr);

}  // namespace dsmoe::jinja
