#include "model/weights.h"

#include "core/errors.h"
#include "quant/interleave.h"

namespace dsmoe {
namespace {

class Binder {
 public:
  explicit Binder(const WeightSource& source) : source_(source) {}

  TensorView take(WeightRole role, int64_t layer, int64_t expert, std::vector<int64_t> expected) {
    const WeightKey key{role, layer, expert};
    const std::optional<TensorView> view = source_.find(key);
    if (!view)
      fail(source_.origin(key), ": missing tensor '", source_.tensor_name(key), "' (expected shape ",
           shape_string(expected.data(), expected.size()), ")");
    if (view->shape != expected) {
      fail(source_.origin(key), ": tensor '", source_.tensor_name(key), "' has shape ", view->shape_text(),
           ", expected ", shape_string(expected.data(), expected.size()));
    }
    bound_.push_back(key);
    return *view;
  }
  bool has(WeightRole role) const { return source_.find({role, -1, -1}).has_value(); }

  FeedForwardWeights feed_forward(WeightRole gate, int64_t layer, int64_t expert, int64_t hidden, int64_t width) {
    // gate, up and down are consecutive roles for dense, routed and shared MLPs alike.
    const auto up = WeightRole(int(gate) + 1);
    const auto down = WeightRole(int(gate) + 2);
    FeedForwardWeights ffn;
    ffn.gate_proj = take(gate, layer, expert, {width, hidden});
    ffn.up_proj = take(up, layer, expert, {width, hidden});
    ffn.down_proj = take(down, layer, expert, {hidden, width});
    return ffn;
  }

  void reject_unbound() const {
    const std::vector<std::string> extra = source_.unused_tensors(bound_);
    if (!extra.empty()) {
      std::string list;
      for (size_t i = 0; i < extra.size() && i < 5; ++i) list += (i ? ", '" : "'") + extra[i] + "'";
      fail(source_.origin_of(extra[0]), ": ", extra.size(), " unexpected tensor(s) for this config: ", list,
           extra.size() > 5 ? ", ..." : "");
    }
  }

 private:
  const WeightSource& source_;
  std::vector<WeightKey> bound_;
};

}  // namespace

ModelWeights bind_weights(const ModelConfig& c, const WeightSource& source) {
  Binder bind(source);
  const int64_t hidden = c.hidden_size;
  ModelWeights w;
  w.embed_tokens = bind.take(WeightRole::kTokenEmbedding, -1, -1, {c.vocab_size, hidden});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    DecoderLayerWeights l;
    l.input_layernorm = bind.take(WeightRole::kAttentionNorm, i, -1, {hidden});
    l.post_attention_layernorm = bind.take(WeightRole::kFfnNorm, i, -1, {hidden});
    l.self_attn.q_proj = bind.take(WeightRole::kQuery, i, -1, {c.q_dim(), hidden});
    l.self_attn.k_proj = bind.take(WeightRole::kKey, i, -1, {c.kv_dim(), hidden});
    l.self_attn.v_proj = bind.take(WeightRole::kValue, i, -1, {c.kv_dim(), hidden});
    l.self_attn.o_proj = bind.take(WeightRole::kAttentionOutput, i, -1, {hidden, c.q_dim()});
    if (c.is_moe_layer(i)) {
      MoeWeights moe;
      moe.router = bind.take(WeightRole::kRouter, i, -1, {c.n_routed_experts, hidden});
      for (int64_t e = 0; e < c.n_routed_experts; ++e) {
        moe.experts.push_back(bind.feed_forward(WeightRole::kExpertGate, i, e, hidden, c.moe_intermediate_size));
      }
      if (c.n_shared_experts > 0) {
        moe.shared = bind.feed_forward(WeightRole::kSharedGate, i, -1, hidden, c.shared_intermediate_size());
      }
      l.moe = std::move(moe);
    } else {
      l.mlp = bind.feed_forward(WeightRole::kFfnGate, i, -1, hidden, c.intermediate_size);
    }
    w.layers.push_back(std::move(l));
  }
  w.norm = bind.take(WeightRole::kOutputNorm, -1, -1, {hidden});
  if (c.tie_word_embeddings) {
    // Some tied checkpoints still store lm_head; HF ignores it in favour of the embedding.
    if (bind.has(WeightRole::kOutput)) bind.take(WeightRole::kOutput, -1, -1, {c.vocab_size, hidden});
    w.lm_head = w.embed_tokens;
  } else {
    w.lm_head = bind.take(WeightRole::kOutput, -1, -1, {c.vocab_size, hidden});
  }
  bind.reject_unbound();
  return w;
}

int64_t interleave_matmul_weights(ModelWeights& w) {
  int64_t bytes = 0;
  auto interleave = [&](TensorView& view) {
    if (!quant::has_group_layout(view.dtype) || view.row_groups || view.shape.size() != 2 ||
        view.shape[0] % quant::kGroupRows != 0) {
      return;
    }
    // The memory is the model's own copy of the file (Model::load interleaves only weights read into memory).
    void* data = const_cast<void*>(view.data);
    quant::interleave_matrix(view.dtype, data, view.shape[0], view.shape[1], data);
    view.row_groups = true;
    bytes += int64_t(view.bytes());
  };
  auto interleave_ffn = [&](FeedForwardWeights& ffn) {
    interleave(ffn.gate_proj);
    interleave(ffn.up_proj);
    interleave(ffn.down_proj);
  };
  for (DecoderLayerWeights& layer : w.layers) {
    interleave(layer.self_attn.q_proj);
    interleave(layer.self_attn.k_proj);
    interleave(layer.self_attn.v_proj);
    interleave(layer.self_attn.o_proj);
    if (layer.mlp) interleave_ffn(*layer.mlp);
    if (layer.moe) {
      interleave(layer.moe->router);
      for (FeedForwardWeights& expert : layer.moe->experts) interleave_ffn(expert);
      if (layer.moe->shared) interleave_ffn(*layer.moe->shared);
    }
  }
  if (w.lm_head.data != w.embed_tokens.data) interleave(w.lm_head);  // a tied head is the embedding's rows
  return bytes;
}

std::map<std::string, int64_t> weight_bytes_by_dtype(const ModelConfig& config, const WeightSource& source) {
  std::map<std::string, int64_t> bytes;
  for (const WeightSpec& spec : weight_specs(config)) {
    const std::optional<TensorView> view = source.find(spec.key);
    if (!view) fail("weight_bytes_by_dtype: ", source.tensor_name(spec.key), " is missing (bind_weights first)");
    bytes[std::string(dtype_name(view->dtype))] += int64_t(view->bytes());
  }
  return bytes;
}

}  // namespace dsmoe
