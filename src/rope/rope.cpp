#include "rope/rope.h"

#include <algorithm>
#include <cmath>

namespace dsmoe {

std::vector<float> rope_inv_freq(const RopeParams& params) {
  const int64_t half = params.rotary_dim / 2;
  std::vector<float> inv_freq(static_cast<size_t>(half));
  const float base = float(params.theta);
  for (int64_t j = 0; j < half; ++j) {
    // torch: 1.0 / (base ** (arange(0, d, 2).float() / d)), every step in float32.
    const float exponent = float(2 * j) / float(params.rotary_dim);
    inv_freq[size_t(j)] = 1.0f / std::pow(base, exponent);
  }
  return inv_freq;
}

RopeCache::RopeCache(const RopeParams& params)
    : params_(params), half_(params.rotary_dim / 2), inv_freq_(rope_inv_freq(params)) {}

void RopeCache::reserve(int64_t n_positions) {
  if (n_positions <= n_positions_) return;
  // Grow geometrically so that one-token decoding does not rebuild at every step.
  const int64_t target = std::max(n_positions, 2 * n_positions_);
  cos_.resize(size_t(target * half_));
  sin_.resize(size_t(target * half_));
  const bool linear = params_.scaling.type == RopeScalingType::kLinear;
  const float factor = float(params_.scaling.factor);
  for (int64_t p = n_positions_; p < target; ++p) {
    // Linear scaling (HF DeepseekLinearScalingRotaryEmbedding): t = t / factor, in float32.
    const float t = linear ? float(p) / factor : float(p);
    for (int64_t j = 0; j < half_; ++j) {
      const float angle = t * inv_freq_[size_t(j)];
      cos_[size_t(p * half_ + j)] = std::cos(angle);
      sin_[size_t(p * half_ + j)] = std::sin(angle);
    }
  }
  n_positions_ = target;
}

void rope_apply(float* x, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin, int64_t rotary_dim,
                RopePairing pairing) {
  const int64_t half = rotary_dim / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* head = x + h * head_dim;
    for (int64_t j = 0; j < half; ++j) {
      // Pair (a, b) rotates by the angle of frequency j: a' = a cos - b sin, b' = a sin + b cos.
      float& a = pairing == RopePairing::kRotateHalf ? head[j] : head[2 * j];
      float& b = pairing == RopePairing::kRotateHalf ? head[j + half] : head[2 * j + 1];
      const float a0 = a;
      const float b0 = b;
      a = a0 * cos[j] - b0 * sin[j];
      b = b0 * cos[j] + a0 * sin[j];
    }
  }
}

}  // namespace dsmoe
