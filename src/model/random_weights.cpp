#include "model/random_weights.h"

#include <cmath>
#include <cstring>

#include "core/parallel.h"

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

}  // namespace

RandomWeights::RandomWeights(const ModelConfig& c, DType dtype, uint64_t seed) : dtype_(dtype), seed_(seed) {
  const int64_t h = c.hidden_size;
  add("model.embed_tokens.weight", {c.vocab_size, h}, 1.0f);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string layer = "model.layers." + std::to_string(i);
    add(layer + ".input_layernorm.weight", {h}, 0.0f);
    add(layer + ".post_attention_layernorm.weight", {h}, 0.0f);
    add(layer + ".self_attn.q_proj.weight", {c.q_dim(), h}, 1.0f);
    add(layer + ".self_attn.k_proj.weight", {c.kv_dim(), h}, 1.0f);
    add(layer + ".self_attn.v_proj.weight", {c.kv_dim(), h}, 1.0f);
    add(layer + ".self_attn.o_proj.weight", {h, c.q_dim()}, 1.0f);
    if (c.is_moe_layer(i)) {
      // A wider router spread keeps routing away from near-ties.
      add(layer + ".mlp.gate.weight", {c.n_routed_experts, h}, 2.0f);
      for (int64_t e = 0; e < c.n_routed_experts; ++e) {
        add_feed_forward(layer + ".mlp.experts." + std::to_string(e), h, c.moe_intermediate_size);
      }
      if (c.n_shared_experts > 0) add_feed_forward(layer + ".mlp.shared_experts", h, c.shared_intermediate_size());
    } else {
      add_feed_forward(layer + ".mlp", h, c.intermediate_size);
    }
  }
  add("model.norm.weight", {h}, 0.0f);
  if (!c.tie_word_embeddings) add("lm_head.weight", {c.vocab_size, h}, 1.0f);
}

void RandomWeights::add(const std::string& name, std::vector<int64_t> shape, float gain) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  const size_t element = dtype_size(dtype_);
  auto& buffer = buffers_[name];
  buffer.resize((size_t(n) * element + 3) / 4);
  auto* bytes = reinterpret_cast<unsigned char*>(buffer.data());
  // gain 0 marks a norm weight: 1 + 0.1 * noise. Otherwise noise * gain / sqrt(fan_in).
  const float scale = gain == 0.0f ? 0.1f : gain / std::sqrt(float(shape.back()));
  const float offset = gain == 0.0f ? 1.0f : 0.0f;
  const uint64_t key = mix(seed_ ^ name_hash(name));
  const DType dtype = dtype_;
  parallel_for(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float value = offset + scale * unit_noise(key + uint64_t(i));
      if (dtype == DType::F32) {
        std::memcpy(bytes + size_t(i) * 4, &value, 4);
      } else {
        const uint16_t half = dtype == DType::BF16 ? f32_to_bf16(value) : f32_to_f16(value);
        std::memcpy(bytes + size_t(i) * 2, &half, 2);
      }
    }
  });
  TensorView view;
  view.dtype = dtype_;
  view.shape = std::move(shape);
  view.data = buffer.data();
  bytes_ += view.bytes();
  store_.add(name, view);
}

void RandomWeights::add_feed_forward(const std::string& prefix, int64_t hidden, int64_t width) {
  add(prefix + ".gate_proj.weight", {width, hidden}, 1.0f);
  add(prefix + ".up_proj.weight", {width, hidden}, 1.0f);
  add(prefix + ".down_proj.weight", {hidden, width}, 1.0f);
}

}  // namespace dsmoe
