#include "core/errors.h"

namespace dsmoe {

int64_t checked_product(std::initializer_list<int64_t> factors, const char* what) {
  int64_t product = 1;
  for (int64_t f : factors) {
    if (f < 0 || __builtin_mul_overflow(product, f, &product)) fail(what, ": size overflows 64 bits");
  }
  return product;
}

std::string shape_string(const int64_t* dims, size_t n) {
  std::string text = "[";
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(dims[i]);
  }
  return text + "]";
}

}  // namespace dsmoe
