#include "core/errors.h"

namespace dsmoe {

std::string shape_string(const int64_t* dims, size_t n) {
  std::string text = "[";
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(dims[i]);
  }
  return text + "]";
}

}  // namespace dsmoe
