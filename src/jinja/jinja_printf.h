// Python's printf-style formatting, `'%s: %d' % (a, b)` and the format filter `'%s'|format(a)`:
// %[(key)][flags][width][.precision]type with types s r a d i u o x X e E f F g G c and %%.
#pragma once

#include <string>

#include "jinja/jinja_value.h"

namespace dsmoe::jinja {

// `args` is a tuple (positional values), a dict (for %(key)s), or any single value.
std::string printf_format(const std::string& format, const Value& args);

}  // namespace dsmoe::jinja
