// How a template looks into a value, with jinja2's sandboxed rules:
//   x.name     tries the Python attribute first (so `d.items` is the dict method), then the item d['name'];
//   x[key]     tries the item first, then, for a string key, the attribute;
//   x[a:b:c]   Python slicing of lists and strings (by code point).
// A miss is Undefined, not an error — except that looking into an Undefined raises, as jinja2's default
// Undefined does. Methods of str, dict and list come back bound to their object.
#pragma once

#include <optional>
#include <string>

#include "jinja/jinja_value.h"

namespace dsmoe::jinja {

Value get_attribute(const Value& object, const std::string& name);
Value get_item(const Value& object, const Value& key);
// x[N] for N digits past int64, as jinja2 reads a part of map's attribute path with int(): no list, string or
// dict here has that element (their indexes are int64, their keys strings), so it is a miss, by get_item's rules.
Value get_item_past_int64(const Value& object, const std::string& digits);
Value get_slice(const Value& object, const Value& start, const Value& stop, const Value& step);

// The method `name` of a str, bound to it; nullopt when str has no such method here.
std::optional<Value> string_method(const std::string& self, const std::string& name);

// Python's slice.indices(): the positions a[start:stop:step] visits in a sequence of `length`.
std::vector<int64_t> slice_positions(int64_t length, const Value& start, const Value& stop, const Value& step);

}  // namespace dsmoe::jinja
