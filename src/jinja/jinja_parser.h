// Builds the statement tree of a chat template from its tokens, following jinja2's grammar and operator
// precedence (parser.py): ternary < or < and < not < comparisons/in < + - < ~ < * / // % < ** < unary
// minus < postfix (.attr [item] (call)) < filters and tests. Anything outside the supported subset
// (include, extends, import, call blocks, recursive loops, ...) is an Error naming the construct and
// where it is.
#pragma once

#include <string>

#include "jinja/jinja_ast.h"

namespace dsmoe::jinja {

Body parse_template(const std::string& source);

}  // namespace dsmoe::jinja
