// Renders a parsed template over a context, with jinja2's scoping as HF's templates depend on it:
//   - `if` blocks share their enclosing scope, so a `set` inside one is seen after it;
//   - each for-loop iteration runs in a fresh scope over the enclosing one, so a `set` inside a loop is
//     gone after the loop and is not seen by the next iteration (hence templates use namespace());
//   - a macro runs in a scope over the one it was defined in, seeing that scope's current values.
#pragma once

#include <string>

#include "jinja/jinja_ast.h"

namespace dsmoe::jinja {

// `context` is a dict of the template's variables. Errors are dsmoe::Error naming the template position.
std::string render_body(const Body& body, const Value& context);

}  // namespace dsmoe::jinja
