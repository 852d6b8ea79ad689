#include "dsmoe/rope/rope_table.h"

#include <cmath>

namespace dsmoe {

void rope_cos_sin(const float* inv_freq, int64_t half, int64_t position, float attention_factor, float* cos, float* sin) {
  const double p = double(position);
  const double m = double(attention_factor);
  for (int64_t j = 0; j < half; ++j) {
    const double angle = p * double(inv_freq[j]);
    cos[j] = float(std::cos(angle) * m);
    sin[j] = float(std::sin(angle) * m);
  }
}

void RopeTable::compute(const RopeFrequencies& f, int64_t first, int64_t count) {
  first_ = first;
  count_ = count;
  half_ = int64_t(f.inv_freq.size());
  const size_t n = size_t(count * half_);
  if (cos_.size() < n) {
    cos_.resize(n);
    sin_.resize(n);
  }
  for (int64_t i = 0; i < count; ++i) {
    rope_cos_sin(f.inv_freq.data(), half_, first + i, f.attention_factor, cos_.data() + i * half_,
                 sin_.data() + i * half_);
  }
}

}  // namespace dsmoe
