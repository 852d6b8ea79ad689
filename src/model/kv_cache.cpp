#include "model/kv_cache.h"

#include "core/errors.h"

namespace dsmoe {

KvCache::KvCache(const ModelConfig& config, int64_t batch, int64_t capacity) : batch_(batch), capacity_(capacity) {
  if (batch <= 0) fail("KV cache: batch must be positive, found ", batch);
  if (capacity <= 0) fail("KV cache: context capacity must be positive, found ", capacity);
  layer_stride_ = checked_product({batch, config.num_key_value_heads, capacity, config.head_dim}, "KV cache");
  const int64_t floats =
      checked_product({layer_stride_, config.num_hidden_layers, 2 * int64_t(sizeof(float))}, "KV cache");
  if (floats > (int64_t(1) << 40))
    fail("KV cache of ", floats, " bytes for batch ", batch, " x context ", capacity, " is too large");
  keys_.assign(size_t(layer_stride_ * config.num_hidden_layers), 0.0f);
  values_.assign(size_t(layer_stride_ * config.num_hidden_layers), 0.0f);
}

}  // namespace dsmoe
