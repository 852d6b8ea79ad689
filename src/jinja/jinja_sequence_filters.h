// jinja2's filters over sequences and mappings. Those jinja2 implements as generators (map, select,
// reject, selectattr, rejectattr, unique, items, reverse of a list) return generators here too: always
// truthy, without len(), and refused by {{ }} where jinja2 would print "<generator object ...>".
#pragma once

#include <functional>

#include "jinja/jinja_value.h"

namespace dsmoe::jinja {

using Filter = std::function<Value(const Value& input, const CallArgs& call)>;

Value filter_attr(const Value& input, const CallArgs& call);
Value filter_dictsort(const Value& input, const CallArgs& call);
Value filter_items(const Value& input, const CallArgs& call);
Value filter_join(const Value& input, const CallArgs& call);
Value filter_length(const Value& input, const CallArgs& call);
Value filter_list(const Value& input, const CallArgs& call);
Value filter_map(const Value& input, const CallArgs& call);
Value filter_min_or_max(const Value& input, const CallArgs& call, bool max);
Value filter_reverse(const Value& input, const CallArgs& call);
// select/reject (keep = true/false), and with `attribute` their selectattr/rejectattr forms.
Value filter_select(const Value& input, const CallArgs& call, bool keep, bool attribute);
Value filter_sort(const Value& input, const CallArgs& call);
Value filter_sum(const Value& input, const CallArgs& call);
Value filter_unique(const Value& input, const CallArgs& call);
Value first_or_last(const Value& input, bool last);

}  // namespace dsmoe::jinja
