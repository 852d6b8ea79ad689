// The frequency plan of each rope_scaling type: what transformers' ROPE_INIT_FUNCTIONS return, plus the
// softmax-scale multiplier DeepSeek-V2's YaRN adds.
#pragma once

#include <cstdint>
#include <vector>

#include "dsmoe/rope/rope.h"

namespace dsmoe {

struct RopeFrequencies {
  std::vector<float> inv_freq;   // [rotary_dim / 2], float32 as HF computes it
  float attention_factor = 1.0f;  // multiplies cos and sin (HF's attention_scaling)
  float softmax_scale = 1.0f;     // multiplies 1/sqrt(head_dim) in attention
  double base = 0.0;              // the theta actually used (dynamic NTK recomputes it)
  double factor = 1.0;            // the scale factor actually used
  int64_t original_context = 0;   // L0
  bool long_factors = false;      // longrope: the long factors are in use
};

// seq_len: the sequence length the plan is for (dynamic NTK and LongRoPE depend on it; the others ignore it).
// Throws Error when the parameters cannot give a plan (longrope factors of the wrong length, ...).
RopeFrequencies rope_frequencies(const RopeParams& params, int64_t seq_len);

// HF's float32 default: 1 / base^(float(2j) / float(d)) for j < d/2.
std::vector<float> default_inv_freq(double base, int64_t rotary_dim);

// YaRN's magnitude g(s, m) = 1 if s <= 1 else 0.1 m ln s + 1.
double yarn_magnitude(double factor, double mscale);

// Dynamic NTK's base for a sequence of seq_len: b ((s L / L_max) - (s - 1))^(d / (d - 2)), L = max(seq_len, L_max).
double dynamic_ntk_base(double base, double factor, int64_t rotary_dim, int64_t seq_len, int64_t max_positions);

}  // namespace dsmoe
