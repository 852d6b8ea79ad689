// What one chat template may take (issue 14): the limits that keep a hostile template from exhausting the stack,
// the memory or the clock. Real chat templates stay far below every one of them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "jinja/jinja_value.h"

namespace dsmoe::jinja {

inline constexpr int kMaxTemplateNesting = 100;  // blocks inside blocks, brackets inside brackets, `not not ...`
inline constexpr int kMaxExpressionDepth = 256;  // the expression tree, chains such as a + b + c ... included
inline constexpr int64_t kMaxRenderSteps = 1'000'000;  // statements, loop rounds and expressions evaluated
inline constexpr int kMaxRenderSeconds = 10;  // wall clock: steps on strings of megabytes each are slow steps
inline constexpr size_t kMaxRenderTextBytes = size_t(64) << 20;  // any string a render builds, the output too
inline constexpr size_t kMaxRenderListItems = size_t(1) << 22;   // any list a render builds

// A RenderError naming `what` when a string of `bytes` would pass kMaxRenderTextBytes.
inline void check_text_bytes(size_t bytes, const char* what) {
  if (bytes > kMaxRenderTextBytes) {
    render_fail(what, " would build a string of ", bytes, " bytes, more than the ", kMaxRenderTextBytes,
                " a chat template may");
  }
}

// The same for a list of `items`.
inline void check_list_items(size_t items, const char* what) {
  if (items > kMaxRenderListItems) {
    render_fail(what, " would build a list of ", items, " items, more than the ", kMaxRenderListItems,
                " a chat template may");
  }
}

// count copies of something of `each` bytes or items, without overflowing: the product, or SIZE_MAX.
inline size_t times(size_t each, int64_t count) {
  if (count <= 0 || each == 0) return 0;
  const auto n = static_cast<size_t>(count);
  return each > SIZE_MAX / n ? SIZE_MAX : each * n;
}

}  // namespace dsmoe::jinja
