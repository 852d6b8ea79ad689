#include "model/weights.h"

#include <set>

#include "core/errors.h"

namespace dsmoe {
namespace {

class Binder {
 public:
  explicit Binder(const TensorSource& source) : source_(source) {}

  TensorView take(const std::string& name, std::vector<int64_t> expected) {
    const TensorView* view = source_.find(name);
    if (view == nullptr)
      fail(source_.location(), ": missing tensor '", name, "' (expected shape ",
           shape_string(expected.data(), expected.size()), ")");
    if (view->shape != expected) {
      fail(source_.origin(name), ": tensor '", name, "' has shape ", view->shape_text(), ", expected ",
           shape_string(expected.data(), expected.size()));
    }
    bound_.insert(name);
    return *view;
  }

  FeedForwardWeights feed_forward(const std::string& prefix, int64_t hidden, int64_t width) {
    FeedForwardWeights ffn;
    ffn.gate_proj = take(prefix + ".gate_proj.weight", {width, hidden});
    ffn.up_proj = take(prefix + ".up_proj.weight", {width, hidden});
    ffn.down_proj = take(prefix + ".down_proj.weight", {hidden, width});
    return ffn;
  }

  void reject_unbound() const {
    std::vector<std::string> extra;
    for (const auto& name : source_.names()) {
      // Old Llama checkpoints store the RoPE buffer; it is recomputed from the config.
      const bool rope_buffer = name.starts_with("model.layers.") && name.ends_with(".self_attn.rotary_emb.inv_freq");
      if (!bound_.count(name) && !rope_buffer) extra.push_back(name);
    }
    if (!extra.empty()) {
      std::string list;
      for (size_t i = 0; i < extra.size() && i < 5; ++i) list += (i ? ", '" : "'") + extra[i] + "'";
      fail(source_.origin(extra[0]), ": ", extra.size(), " unexpected tensor(s) for this config: ", list,
           extra.size() > 5 ? ", ..." : "");
    }
  }

 private:
  const TensorSource& source_;
  std::set<std::string> bound_;
};

}  // namespace

ModelWeights bind_weights(const ModelConfig& c, const TensorSource& source) {
  Binder bind(source);
  const int64_t hidden = c.hidden_size;
  ModelWeights w;
  w.embed_tokens = bind.take("model.embed_tokens.weight", {c.vocab_size, hidden});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string layer = cat("model.layers.", i);
    DecoderLayerWeights l;
    l.input_layernorm = bind.take(layer + ".input_layernorm.weight", {hidden});
    l.post_attention_layernorm = bind.take(layer + ".post_attention_layernorm.weight", {hidden});
    l.self_attn.q_proj = bind.take(layer + ".self_attn.q_proj.weight", {c.q_dim(), hidden});
    l.self_attn.k_proj = bind.take(layer + ".self_attn.k_proj.weight", {c.kv_dim(), hidden});
    l.self_attn.v_proj = bind.take(layer + ".self_attn.v_proj.weight", {c.kv_dim(), hidden});
    l.self_attn.o_proj = bind.take(layer + ".self_attn.o_proj.weight", {hidden, c.q_dim()});
    if (c.is_moe_layer(i)) {
      MoeWeights moe;
      moe.router = bind.take(layer + ".mlp.gate.weight", {c.n_routed_experts, hidden});
      for (int64_t e = 0; e < c.n_routed_experts; ++e) {
        moe.experts.push_back(bind.feed_forward(cat(layer, ".mlp.experts.", e), hidden, c.moe_intermediate_size));
      }
      if (c.n_shared_experts > 0) {
        moe.shared = bind.feed_forward(layer + ".mlp.shared_experts", hidden, c.shared_intermediate_size());
      }
      l.moe = std::move(moe);
    } else {
      l.mlp = bind.feed_forward(layer + ".mlp", hidden, c.intermediate_size);
    }
    w.layers.push_back(std::move(l));
  }
  w.norm = bind.take("model.norm.weight", {hidden});
  if (c.tie_word_embeddings) {
    // Some tied checkpoints still store lm_head; HF ignores it in favour of the embedding.
    if (source.find("lm_head.weight") != nullptr) bind.take("lm_head.weight", {c.vocab_size, hidden});
    w.lm_head = w.embed_tokens;
  } else {
    w.lm_head = bind.take("lm_head.weight", {c.vocab_size, hidden});
  }
  bind.reject_unbound();
  return w;
}

}  // namespace dsmoe
