#include "ops/softmax_topk.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace dsmoe {

void softmax(float* x, int64_t n) {
  float max_value = x[0];
  for (int64_t i = 1; i < n; ++i) max_value = std::max(max_value, x[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max_value);
    sum += x[i];
  }
  const float inv = float(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void top_k(const float* x, int64_t n, int64_t k, int32_t* indices, float* values) {
  std::vector<int32_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [x](int32_t a, int32_t b) {
    // NaN ranks below everything so the order stays strict and weak.
    const bool nan_a = std::isnan(x[a]), nan_b = std::isnan(x[b]);
    if (nan_a || nan_b) return !nan_a && nan_b ? true : (nan_a && nan_b && a < b);
    return x[a] > x[b] || (x[a] == x[b] && a < b);
  });
  for (int64_t i = 0; i < k; ++i) {
    indices[i] = order[size_t(i)];
    values[i] = x[order[size_t(i)]];
  }
}

}  // namespace dsmoe
