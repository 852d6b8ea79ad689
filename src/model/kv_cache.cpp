#include "model/kv_cache.h"

#include "core/errors.h"
#include "core/system_memory.h"

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
  // The pages are only touched as positions fill, so calloc would succeed for a cache larger than the machine and
  // the process die later, mid-generation: refuse it now, saying what was asked and what there is.
  require_available_memory(bytes_, cat("KV cache: batch ", batch, " x context ", capacity, " in ", dtype_name(type)),
                           "a smaller -c/--ctx-size, or --cache-type q8_0");
  data_.reset(static_cast<unsigned char*>(std::calloc(bytes_ > 0 ? bytes_ : 1, 1)));
  if (!data_) fail("KV cache: cannot allocate ", bytes_, " bytes for batch ", batch, " x context ", capacity);
}

namespace {

// The public cache types: their storage and their names on the command line (llama.cpp's --cache-type-k).
struct CacheTypeInfo {
  CacheType type;
  DType dtype;
  const char* name;
};
constexpr CacheTypeInfo kCacheTypes[] = {{CacheType::kF32, DType::F32, "f32"},
                                         {CacheType::kF16, DType::F16, "f16"},
                                         {CacheType::kBF16, DType::BF16, "bf16"},
                                         {CacheType::kQ8_0, DType::Q8_0, "q8_0"}};

const CacheTypeInfo& info(CacheType type) {
  for (const CacheTypeInfo& i : kCacheTypes) {
    if (i.type == type) return i;
  }
  fail("internal: cache type ", int(type), " is not one of the four");
}

}  // namespace

DType cache_dtype(CacheType type) { return info(type).dtype; }

const char* cache_type_name(CacheType type) { return info(type).name; }

CacheType parse_cache_type_name(const std::string& name, const std::string& flag) {
  for (const CacheTypeInfo& i : kCacheTypes) {
    if (name == i.name) return i.type;
  }
  fail(flag, " must be f32, f16, bf16 or q8_0, found '", name, "'");
}

}  // namespace dsmoe
