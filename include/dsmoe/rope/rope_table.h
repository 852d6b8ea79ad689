// cos/sin of the positions one forward call rotates. It belongs to the call (or the session that makes the
// call), never to the model: dynamic scaling and concurrent sessions cannot disturb each other.
//
// How angles are computed: inverse frequencies are HF's float32 values (rope_frequencies), and each angle is
// double(position) * double(inv_freq), reduced and passed to cos/sin in double, then times the attention factor,
// rounded to float32 once. The product is exact to ~1e-16 relative, so position 1,000,000 keeps full float32
// precision in cos/sin. HF rounds the product float(p) * inv_freq to float32 first, which at position 10^6 can
// be 0.03 rad off (at 4096: 2.4e-4); docs/rope.md has the measurements.
#pragma once

#include <cstdint>
#include <vector>

#include "dsmoe/rope/rope_frequencies.h"

namespace dsmoe {

// cos/sin [half] of one position: angle_j = position * inv_freq[j].
void rope_cos_sin(const float* inv_freq, int64_t half, int64_t position, float attention_factor, float* cos, float* sin);

// cos/sin of positions [first, first + count), rows of half = rotary_dim / 2 values.
class RopeTable {
 public:
  // Reuses the table's storage when it is large enough.
  void compute(const RopeFrequencies& frequencies, int64_t first, int64_t count);

  int64_t first() const { return first_; }
  int64_t count() const { return count_; }
  int64_t half() const { return half_; }
  const float* cos(int64_t position) const { return cos_.data() + (position - first_) * half_; }
  const float* sin(int64_t position) const { return sin_.data() + (position - first_) * half_; }

 private:
  int64_t first_ = 0;
  int64_t count_ = 0;
  int64_t half_ = 0;
  std::vector<float> cos_;
  std::vector<float> sin_;
};

}  // namespace dsmoe
