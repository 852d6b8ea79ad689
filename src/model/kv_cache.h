// Keys (after RoPE) and values of every past position, per layer, allocated once up front. Rows (one head of
// one position) are stored as F32, F16, BF16 or Q8_0 (llama.cpp's --cache-type-k/-v): F16 halves the memory of
// F32 for a change in the logits of about 1e-3 relative; Q8_0 quarters it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "core/dtype.h"
#include "dsmoe/dsmoe.h"
#include "model/config.h"
#include "model/workspace.h"
#include "dsmoe/rope/rope_frequencies.h"
#include "dsmoe/rope/rope_table.h"

namespace dsmoe {

class KvCache {
 public:
  // type: F32, F16, BF16 or Q8_0 (head_dim a multiple of 32).
  KvCache(const ModelConfig& config, int64_t batch, int64_t capacity, DType type = DType::F32);

  // Rows [batch, n_kv_heads, capacity] of row_bytes() each.
  unsigned char* keys(int64_t layer) { return data_.get() + size_t(2 * layer) * layer_bytes_; }
  unsigned char* values(int64_t layer) { return data_.get() + size_t(2 * layer + 1) * layer_bytes_; }
  const unsigned char* keys(int64_t layer) const { return data_.get() + size_t(2 * layer) * layer_bytes_; }
  const unsigned char* values(int64_t layer) const { return data_.get() + size_t(2 * layer + 1) * layer_bytes_; }
  DType type() const { return type_; }
  size_t row_bytes() const { return row_bytes_; }

  int64_t batch() const { return batch_; }
  int64_t capacity() const { return capacity_; }
  int64_t length() const { return length_; }  // positions filled in every row
  void advance(int64_t n) { length_ += n; }
  void clear() {
    length_ = 0;
    rope_length = 0;
  }
  void truncate(int64_t length) { length_ = std::clamp<int64_t>(length, 0, length_); }
  size_t bytes() const { return bytes_; }

  // The RoPE state of this cache: the longest sequence it has held (dynamic NTK and LongRoPE follow it, as HF's
  // rotary embedding follows its longest kv length), and the cos/sin of the current call, computed per call.
  int64_t rope_length = 0;
  RopeFrequencies rope_frequencies;
  RopeTable rope_table;

  // The session's forward-pass buffers, sized by its largest call so far (model/workspace.h).
  ForwardWorkspace workspace;

 private:
  struct Free {
    void operator()(unsigned char* p) const { std::free(p); }
  };
  DType type_;
  int64_t batch_;
  int64_t capacity_;
  int64_t length_ = 0;
  size_t row_bytes_ = 0;
  size_t layer_bytes_ = 0;
  size_t bytes_ = 0;
  // calloc: a large cache is mapped lazily, so memory is used as positions fill rather than at creation.
  std::unique_ptr<unsigned char, Free> data_;
};

// The storage type of the public CacheType.
DType cache_dtype(CacheType type);

}  // namespace dsmoe
