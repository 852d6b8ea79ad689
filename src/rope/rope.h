// Rotary position embedding as math, independent of any model: the inverse-frequency plan, the
// cos/sin table over positions, and the rotation of a vector of heads.
//
// Angles follow HF's float32 recipe: inv_freq_j = 1 / theta^(2j/d) and angle = float(p) * inv_freq_j,
// each rounded to float32, so positions far past training give the same cos/sin as HF's.
#pragma once

#include <cstdint>
#include <vector>

namespace dsmoe {

// Which coordinates form a rotated pair.
enum class RopePairing {
  kRotateHalf,   // (j, j + d/2): HF Llama/DeepSeek modelling code ("NeoX")
  kInterleaved,  // (2j, 2j + 1): Meta's complex form, GGUF files
};

enum class RopeScalingType { kNone, kLinear };

struct RopeScaling {
  RopeScalingType type = RopeScalingType::kNone;
  double factor = 1.0;  // linear: positions are divided by factor
};

struct RopeParams {
  int64_t rotary_dim = 0;  // even; the first rotary_dim coordinates of each head rotate
  double theta = 10000.0;
  RopePairing pairing = RopePairing::kRotateHalf;
  RopeScaling scaling;
};

// inv_freq [rotary_dim / 2] in float32, as HF computes it.
std::vector<float> rope_inv_freq(const RopeParams& params);

// cos/sin of every (position, frequency) pair, grown on demand: HF rebuilds its cache whenever a
// sequence is longer than what it holds, so positions past max_position_embeddings just extend.
class RopeCache {
 public:
  explicit RopeCache(const RopeParams& params);

  void reserve(int64_t n_positions);  // not thread-safe: call before a parallel section
  int64_t size() const { return n_positions_; }
  const float* cos(int64_t position) const { return cos_.data() + position * half_; }  // [rotary_dim / 2]
  const float* sin(int64_t position) const { return sin_.data() + position * half_; }
  const RopeParams& params() const { return params_; }

 private:
  RopeParams params_;
  int64_t half_;
  std::vector<float> inv_freq_;
  int64_t n_positions_ = 0;
  std::vector<float> cos_;
  std::vector<float> sin_;
};

// Rotates each of n_heads vectors of head_dim floats (x [n_heads, head_dim]) in place.
void rope_apply(float* x, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin, int64_t rotary_dim,
                RopePairing pairing);

}  // namespace dsmoe
