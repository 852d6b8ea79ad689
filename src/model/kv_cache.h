// Keys (after RoPE) and values of every past position, per layer, allocated once up front.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "model/config.h"
#include "model/workspace.h"
#include "rope/rope_frequencies.h"
#include "rope/rope_table.h"

namespace dsmoe {

class KvCache {
 public:
  KvCache(const ModelConfig& config, int64_t batch, int64_t capacity);

  // [batch, n_kv_heads, capacity, head_dim]
  float* keys(int64_t layer) { return keys_.data() + layer * layer_stride_; }
  float* values(int64_t layer) { return values_.data() + layer * layer_stride_; }
  const float* keys(int64_t layer) const { return keys_.data() + layer * layer_stride_; }
  const float* values(int64_t layer) const { return values_.data() + layer * layer_stride_; }

  int64_t batch() const { return batch_; }
  int64_t capacity() const { return capacity_; }
  int64_t length() const { return length_; }  // positions filled in every row
  void advance(int64_t n) { length_ += n; }
  void clear() {
    length_ = 0;
    rope_length = 0;
  }
  void truncate(int64_t length) { length_ = std::clamp<int64_t>(length, 0, length_); }
  size_t bytes() const { return (keys_.size() + values_.size()) * sizeof(float); }

 // The RoPE state of this cache: the longest sequence it has held (dynamic NTK and LongRoPE follow it, as HF's
  // rotary embedding follows its longest kv length), and the cos/sin of the current call, computed per call.
  int64_t rope_length = 0;
  RopeFrequencies rope_frequencies;
  RopeTable rope_table;

  // The session's forward-pass buffers, sized by its largest call so far (model/workspace.h).
  ForwardWorkspace workspace;

 private:
  int64_t batch_;
  int64_t capacity_;
  int64_t length_ = 0;
  int64_t layer_stride_;
  std::vector<float> keys_;
  std::vector<float> values_;
};

}  // namespace dsmoe
