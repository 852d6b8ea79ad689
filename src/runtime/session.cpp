#include "model/model_access.h"
#include "core/errors.h"
#include "core/parallel.h"
#include "dsmoe/dsmoe.h"
#include "model/kv_cache.h"
#include "model/transformer.h"

namespace dsmoe {

Session::Session(const Model& model, int64_t batch, int64_t context)
    : Session(model, batch, context, model.cache_type()) {}

Session::Session(const Model& model, int64_t batch, int64_t context, CacheType cache_type)
    : model_(model),
      cache_type_(cache_type),
      cache_(std::make_unique<KvCache>(model_config(model), batch, context, cache_dtype(cache_type))) {}

Session::~Session() = default;

ForwardResult Session::forward(const std::vector<int32_t>& tokens, const ForwardOptions& options) {
  ForwardResult result;
  forward(tokens, options, result);
  return result;
}

void Session::forward(const std::vector<int32_t>& tokens, const ForwardOptions& options, ForwardResult& result) {
  const int64_t batch = cache_->batch();
  if (tokens.empty() || int64_t(tokens.size()) % batch != 0) {
    fail("forward: ", tokens.size(), " tokens do not split into ", batch, " equal rows");
  }
  model_transformer(model_).forward(tokens.data(), batch, int64_t(tokens.size()) / batch, *cache_, options, result);
}

size_t Session::cache_bytes() const { return cache_->bytes(); }

CacheType Session::cache_type() const { return cache_type_; }

int64_t Session::position() const { return cache_->length(); }
int64_t Session::context() const { return cache_->capacity(); }
void Session::reset() { cache_->clear(); }
void Session::truncate(int64_t length) { cache_->truncate(length); }

}  // namespace dsmoe
