#include "loaders/random_weights.h"

#include <cmath>
#include <cstring>

#include "core/parallel.h"
#include "loaders/hf_weights.h"
#include "quant/quantize.h"

namespace dsmoe {
namespace {

// splitmix64: a counter-based generator, so any element can be drawn independently and in parallel.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Sum of four uniforms, centred and scaled to unit variance: close enough to normal for weights.
float unit_noise(uint64_t key) {
  const uint64_t r = mix(key);
  float sum = 0;
  for (int i = 0; i < 4; ++i) sum += float((r >> (16 * i)) & 0xffff) / 65535.0f;
  return (sum - 2.0f) * std::sqrt(3.0f);
}

uint64_t name_hash(const std::string& name) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Norms are 1 + 0.1 noise; a wider router spread keeps routing away from near-ties.
float gain_of(const WeightSpec& spec) {
  if (spec.is_norm()) return 0.0f;
  return spec.key.role == WeightRole::kRouter ? 2.0f : 1.0f;
}

}  // namespace

void random_tensor_values(const WeightSpec& spec, uint64_t seed, float* out) {
  int64_t n = 1;
  for (int64_t d : spec.shape) n *= d;
  const float gain = gain_of(spec);
  // gain 0 marks a norm weight: 1 + 0.1 * noise. Otherwise noise * gain / sqrt(fan_in).
  const float scale = gain == 0.0f ? 0.1f : gain / std::sqrt(float(spec.shape.back()));
  const float offset = gain == 0.0f ? 1.0f : 0.0f;
  const uint64_t key = mix(seed ^ name_hash(hf_tensor_name(spec.key)));
  parallel_for(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = offset + scale * unit_noise(key + uint64_t(i));
  });
}

RandomWeights::RandomWeights(const ModelConfig& config, DType dtype, uint64_t seed) {
  std::vector<float> values;
  for (const WeightSpec& spec : weight_specs(config)) {
    TensorView view;
    view.dtype = dtype;
    view.shape = spec.shape;
    values.resize(size_t(view.numel()));
    random_tensor_values(spec, seed, values.data());
    const std::string name = hf_tensor_name(spec.key);
    auto& buffer = buffers_[name];
    buffer.resize((view.bytes() + 3) / 4);
    quantize_rows(dtype, values.data(), buffer.data(), view.rows(), view.row_elements());
    view.data = buffer.data();
    bytes_ += view.bytes();
    store_.add(name, view);
  }
}

}  // namespace dsmoe
