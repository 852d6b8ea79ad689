#include "model/kv_cache.h"

#include "core/errors.h"

namespace dsmoe {

KvCache::KvCache(const ModelConfig& config, int64_t batch, int64_t capacity, DType type)
    : type_(type), batch_(batch), capacity_(capacity) {
  if (batch <= 0) fail("KV cache: batch must be positive, found ", batch);
  if (capacity <= 0) fail("KV cache: context capacity must be positive, found ", capacity);
  if (type != DType::F32 && type != DType::F16 && type != DType::BF16 && type != DType::Q8_0) {
    fail("KV cache: type must be f32, f16, bf16 or q8_0, found ", dtype_name(type));
  }
  if (config.head_dim % dtype_block_elements(type) != 0) {
    fail("KV cache: ", dtype_name(type), " needs head_dim to be a multiple of ", dtype_block_elements(type),
         ", found ", config.head_dim);
  }
  row_bytes_ = dtype_row_bytes(type, config.head_dim);
  const int64_t rows = checked_product({batch, config.num_key_value_heads, capacity}, "KV cache");
  const int64_t layer_bytes = checked_product({rows, int64_t(row_bytes_)}, "KV cache");
  const int64_t total = checked_product({layer_bytes, 2 * config.num_hidden_layers}, "KV cache");
  if (total > (int64_t(1) << 40)) {
    fail("KV cache of ", total, " bytes for batch ", batch, " x context ", capacity, " is too large");
  }
  layer_bytes_ = size_t(layer_bytes);
  bytes_ = size_t(total);
  data_.reset(static_cast<unsigned char*>(std::calloc(bytes_ > 0 ? bytes_ : 1, 1)));
  if (!data_) fail("KV cache: cannot allocate ", bytes_, " bytes for batch ", batch, " x context ", capacity);
}

DType cache_dtype(CacheType type) {
  switch (type) {
    case CacheType::kF32:
      return DType::F32;
    case CacheType::kF16:
      return DType::F16;
    case CacheType::kBF16:
      return DType::BF16;
    case CacheType::kQ8_0:
      return DType::Q8_0;
  }
  return DType::F16;
}

}  // namespace dsmoe
