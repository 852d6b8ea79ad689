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

void Session::forward_together(std::span<Session* const> sessions, std::span<const int32_t> tokens,
                               ForwardResult& result) {
  if (sessions.empty()) fail("forward_together: no sessions");
  std::vector<KvCache*> caches;  // a handful of pointers a step (the server's slots)
  caches.reserve(sessions.size());
  for (size_t i = 0; i < sessions.size(); ++i) {
    if (&sessions[i]->model_ != &sessions[0]->model_) fail("forward_together: session ", i, " is of another model");
    caches.push_back(sessions[i]->cache_.get());
  }
  model_transformer(sessions[0]->model_).forward_caches(tokens, caches, result);
}

}  // namespace dsmoe
