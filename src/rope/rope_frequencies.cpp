#include "dsmoe/rope/rope_frequencies.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/errors.h"

namespace dsmoe {

std::vector<float> default_inv_freq(double base, int64_t rotary_dim) {
  std::vector<float> inv_freq(static_cast<size_t>(rotary_dim / 2));
  const float b = float(base);
  for (int64_t j = 0; j < rotary_dim / 2; ++j) {
    // torch: 1.0 / (base ** (arange(0, d, 2).float() / d)), every step in float32.
    const float exponent = float(2 * j) / float(rotary_dim);
    inv_freq[size_t(j)] = 1.0f / std::pow(b, exponent);
  }
  return inv_freq;
}

double yarn_magnitude(double factor, double mscale) { return factor <= 1.0 ? 1.0 : 0.1 * mscale * std::log(factor) + 1.0; }

double dynamic_ntk_base(double base, double factor, int64_t rotary_dim, int64_t seq_len, int64_t max_positions) {
  // Up to max_positions HF keeps the original inv_freq; the formula's (s L / L_max) - (s - 1) is 1 there only up
  // to rounding, which would move the base (and so an inv_freq) by an ulp.
  if (seq_len <= max_positions) return base;
  const double length = double(std::max(seq_len, max_positions));
  const double d = double(rotary_dim);
  return base * std::pow(factor * length / double(max_positions) - (factor - 1.0), d / (d - 2.0));
}

namespace {

int64_t original_context(const RopeParams& p) {
  return p.scaling.original_max_position_embeddings > 0 ? p.scaling.original_max_position_embeddings
                                                        : p.max_position_embeddings;
}

// YaRN: pairs that turn fewer than beta_slow times in L0 are interpolated (divided by s), pairs that turn more
// than beta_fast times keep their frequency, with a linear ramp between (transformers _compute_yarn_parameters,
// DeepseekV2YarnRotaryEmbedding: the same ramp).
void yarn(const RopeParams& p, RopeFrequencies& f) {
  const RopeScaling& s = p.scaling;
  const double d = double(p.rotary_dim);
  const double l0 = double(f.original_context);
  const auto correction_dim = [&](double rotations) {
    return d * std::log(l0 / (rotations * 2.0 * std::numbers::pi)) / (2.0 * std::log(p.theta));
  };
  double low = correction_dim(s.beta_fast);
  double high = correction_dim(s.beta_slow);
  if (s.truncate || s.yarn_flavor == YarnFlavor::kDeepseekV2) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, d - 1.0);
  if (low == high) high += 0.001;  // no division by zero
  const int64_t half = p.rotary_dim / 2;
  for (int64_t j = 0; j < half; ++j) {
    const float extrapolation = f.inv_freq[size_t(j)];
    const float interpolation = extrapolation / float(f.factor);
    const float ramp = float(std::clamp((double(j) - low) / (high - low), 0.0, 1.0));
    const float keep = 1.0f - ramp;  // weight of the original frequency
    f.inv_freq[size_t(j)] = interpolation * (1.0f - keep) + extrapolation * keep;
  }
  const double factor = f.factor;
  if (s.yarn_flavor == YarnFlavor::kDeepseekV2) {
    const double mscale = s.mscale.value_or(1.0);
    const double mscale_all_dim = s.mscale_all_dim.value_or(0.0);
    f.attention_factor = float(yarn_magnitude(factor, mscale) / yarn_magnitude(factor, mscale_all_dim));
    if (s.mscale_all_dim && *s.mscale_all_dim != 0.0) {
      const double m = yarn_magnitude(factor, mscale_all_dim);
      f.softmax_scale = float(m * m);
    }
  } else if (s.attention_factor) {
    f.attention_factor = float(*s.attention_factor);
  } else if (s.mscale.value_or(0.0) != 0.0 && s.mscale_all_dim.value_or(0.0) != 0.0) {
    // transformers tests `if mscale and mscale_all_dim` (truthiness): a 0 counts as absent, giving g(s, 1).
    f.attention_factor = float(yarn_magnitude(factor, *s.mscale) / yarn_magnitude(factor, *s.mscale_all_dim));
  } else {
    f.attention_factor = float(yarn_magnitude(factor, 1.0));
  }
}

// Llama 3.1: wavelengths longer than L0 / low_freq_factor are divided by s, shorter than L0 / high_freq_factor
// kept, and the band between blended by how many turns fit in L0.
void llama3(const RopeParams& p, RopeFrequencies& f) {
  const RopeScaling& s = p.scaling;
  const double l0 = double(f.original_context);
  const double low_freq_wavelen = l0 / s.low_freq_factor;
  const double high_freq_wavelen = l0 / s.high_freq_factor;
  for (float& inv : f.inv_freq) {
    const double wavelen = 2.0 * std::numbers::pi / double(inv);
    if (wavelen < high_freq_wavelen) continue;
    if (wavelen > low_freq_wavelen) {
      inv = float(double(inv) / f.factor);
      continue;
    }
    const double smooth = (l0 / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    inv = float((1.0 - smooth) * double(inv) / f.factor + smooth * double(inv));
  }
}

// LongRoPE (Phi-3): per-pair divisors, the long ones once the sequence passes L0.
void longrope(const RopeParams& p, int64_t seq_len, RopeFrequencies& f) {
  const RopeScaling& s = p.scaling;
  const size_t half = size_t(p.rotary_dim / 2);
  if (s.short_factor.size() != half || s.long_factor.size() != half) {
    fail("rope_scaling longrope: short_factor and long_factor need rotary_dim / 2 = ", half, " values, found ",
         s.short_factor.size(), " and ", s.long_factor.size());
  }
  f.long_factors = seq_len > f.original_context;
  const std::vector<double>& ext = f.long_factors ? s.long_factor : s.short_factor;
  for (size_t j = 0; j < half; ++j) f.inv_freq[j] = float(double(f.inv_freq[j]) / ext[j]);
  if (!s.factor_given) f.factor = double(p.max_position_embeddings) / double(f.original_context);
  if (s.attention_factor) {
    f.attention_factor = float(*s.attention_factor);
  } else {
    f.attention_factor = f.factor <= 1.0 ? 1.0f
                                         : float(std::sqrt(1.0 + std::log(f.factor) / std::log(double(f.original_context))));
  }
}

}  // namespace

RopeFrequencies rope_frequencies(const RopeParams& p, int64_t seq_len) {
  if (p.rotary_dim <= 0 || p.rotary_dim % 2 != 0) fail("RoPE: rotary_dim must be positive and even, found ", p.rotary_dim);
  RopeFrequencies f;
  f.base = p.theta;
  f.factor = p.scaling.factor;
  f.original_context = original_context(p);
  switch (p.scaling.type) {
    case RopeScalingType::kNone:
      f.factor = 1.0;
      f.inv_freq = default_inv_freq(f.base, p.rotary_dim);
      break;
    case RopeScalingType::kLinear:
      // Position interpolation: p / s, written as inv_freq / s (transformers; the same angles).
      f.inv_freq = default_inv_freq(f.base, p.rotary_dim);
      for (float& inv : f.inv_freq) inv /= float(f.factor);
      break;
    case RopeScalingType::kDynamic:
      f.base = dynamic_ntk_base(p.theta, f.factor, p.rotary_dim, seq_len, p.max_position_embeddings);
      f.inv_freq = default_inv_freq(f.base, p.rotary_dim);
      break;
    case RopeScalingType::kYarn:
      f.inv_freq = default_inv_freq(f.base, p.rotary_dim);
      yarn(p, f);
      break;
    case RopeScalingType::kLlama3:
      f.inv_freq = default_inv_freq(f.base, p.rotary_dim);
      llama3(p, f);
      break;
    case RopeScalingType::kLongRope:
      f.inv_freq = default_inv_freq(f.base, p.rotary_dim);
      longrope(p, seq_len, f);
      break;
  }
  return f;
}

const char* to_string(RopeScalingType type) {
  switch (type) {
    case RopeScalingType::kNone: return "none";
    case RopeScalingType::kLinear: return "linear";
    case RopeScalingType::kDynamic: return "dynamic";
    case RopeScalingType::kYarn: return "yarn";
    case RopeScalingType::kLlama3: return "llama3";
    case RopeScalingType::kLongRope: return "longrope";
  }
  return "?";
}

const char* to_string(RopePairing pairing) {
  return pairing == RopePairing::kRotateHalf ? "rotate-half" : "interleaved";
}

std::optional<RopeScalingType> parse_rope_scaling_type(const std::string& name) {
  if (name == "none" || name == "default") return RopeScalingType::kNone;
  if (name == "linear") return RopeScalingType::kLinear;
  if (name == "dynamic") return RopeScalingType::kDynamic;
  if (name == "yarn") return RopeScalingType::kYarn;
  if (name == "llama3") return RopeScalingType::kLlama3;
  if (name == "longrope") return RopeScalingType::kLongRope;
  return std::nullopt;
}

}  // namespace dsmoe
