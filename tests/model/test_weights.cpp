// bind_weights over a tiny DeepSeek-MoE checkpoint held in memory (and, end to end, written to a
// directory for Model::load): the right tensors bind, and every missing, misshapen or unexpected
// tensor is an error naming the tensor and the expected and found shapes.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dsmoe/dsmoe.h"
#include "loaders/hf_config.h"
#include "loaders/hf_weights.h"
#include "io/tensor_store.h"
#include "model/config.h"
#include "model/weights.h"
#include "support/bad_input.h"

namespace dsmoe {
namespace {

using bad_input::expect_error_containing;
using bad_input::raw_bytes;
using bad_input::RawTensor;
using bad_input::safetensors_file;
using bad_input::TempDir;
using bad_input::write_file;
using Shape = std::vector<int64_t>;

// vocab 11, hidden 8, 2 layers (0 dense, 1 MoE), 2 heads of 4, dense width 12,
// 3 routed experts of width 4 (top 2) and 1 shared expert.
nlohmann::json tiny_json() {
  return {{"model_type", "deepseek"},     {"vocab_size", 11},           {"hidden_size", 8},
          {"intermediate_size", 12},      {"num_hidden_layers", 2},     {"num_attention_heads", 2},
          {"moe_intermediate_size", 4},   {"n_routed_experts", 3},      {"num_experts_per_tok", 2},
          {"n_shared_experts", 1},        {"first_k_dense_replace", 1}, {"moe_layer_freq", 1},
          {"max_position_embeddings", 32}};
}

// Every tensor of the tiny checkpoint with its shape, written out by hand (HF names).
std::map<std::string, Shape> tiny_shapes() {
  std::map<std::string, Shape> t;
  t["model.embed_tokens.weight"] = {11, 8};
  for (const std::string layer : {"model.layers.0", "model.layers.1"}) {
    t[layer + ".input_layernorm.weight"] = {8};
    t[layer + ".post_attention_layernorm.weight"] = {8};
    t[layer + ".self_attn.q_proj.weight"] = {8, 8};
    t[layer + ".self_attn.k_proj.weight"] = {8, 8};
    t[layer + ".self_attn.v_proj.weight"] = {8, 8};
    t[layer + ".self_attn.o_proj.weight"] = {8, 8};
  }
  t["model.layers.0.mlp.gate_proj.weight"] = {12, 8};
  t["model.layers.0.mlp.up_proj.weight"] = {12, 8};
  t["model.layers.0.mlp.down_proj.weight"] = {8, 12};
  t["model.layers.1.mlp.gate.weight"] = {3, 8};
  for (const std::string expert : {"experts.0", "experts.1", "experts.2", "shared_experts"}) {
    t["model.layers.1.mlp." + expert + ".gate_proj.weight"] = {4, 8};
    t["model.layers.1.mlp." + expert + ".up_proj.weight"] = {4, 8};
    t["model.layers.1.mlp." + expert + ".down_proj.weight"] = {8, 4};
  }
  t["model.norm.weight"] = {8};
  t["lm_head.weight"] = {11, 8};
  return t;
}

size_t numel(const Shape& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= size_t(d);
  return n;
}

// Float32 buffers owned by the test, one per tensor, filled with distinct values.
class TinyCheckpoint {
 public:
  TinyCheckpoint() : shapes_(tiny_shapes()) {}

  void remove(const std::string& name) { ASSERT_EQ(shapes_.erase(name), 1u) << name; }
  void set(const std::string& name, Shape shape) { shapes_[name] = std::move(shape); }

  MemoryStore store() {
    buffers_.clear();
    MemoryStore out;
    float next = 0.0f;
    for (const auto& [name, shape] : shapes_) {
      std::vector<float>& buffer = buffers_[name];
      for (size_t i = 0; i < numel(shape); ++i) buffer.push_back(next++ * 0.001f);
      TensorView view;
      view.dtype = DType::F32;
      view.shape = shape;
      view.data = buffer.data();
      out.add(name, view);
    }
    return out;
  }
  const void* data(const std::string& name) const { return buffers_.at(name).data(); }

  // The same tensors as a model.safetensors file.
  std::string file() const {
    std::vector<RawTensor> tensors;
    float next = 0.0f;
    for (const auto& [name, shape] : shapes_) {
      std::vector<float> values(numel(shape));
      for (float& v : values) v = next++ * 0.001f;
      tensors.push_back({name, "F32", shape, raw_bytes(values)});
    }
    return safetensors_file(tensors);
  }

 private:
  std::map<std::string, Shape> shapes_;
  std::map<std::string, std::vector<float>> buffers_;
};

ModelConfig tiny_config(const nlohmann::json& changes = nlohmann::json::object()) {
  nlohmann::json config = tiny_json();
  for (const auto& [key, value] : changes.items()) config[key] = value;
  return parse_model_config(config, "tiny/config.json");
}

void expect_bind_error(const ModelConfig& config, TinyCheckpoint& checkpoint,
                       std::initializer_list<std::string> parts) {
  const MemoryStore store = checkpoint.store();
  expect_error_containing([&] { bind_hf_weights(config, store); }, parts);
}

TEST(BindWeights, TinyDeepseekBindsWithRightLayerKinds) {
  TinyCheckpoint checkpoint;
  const MemoryStore store = checkpoint.store();
  const ModelWeights w = bind_hf_weights(tiny_config(), store);
  ASSERT_EQ(w.layers.size(), 2u);

  const DecoderLayerWeights& dense = w.layers[0];
  ASSERT_TRUE(dense.mlp.has_value());
  EXPECT_FALSE(dense.moe.has_value());
  EXPECT_EQ(dense.mlp->width(), 12);
  EXPECT_EQ(dense.mlp->down_proj.shape, (Shape{8, 12}));
  EXPECT_EQ(dense.mlp->down_proj.data, checkpoint.data("model.layers.0.mlp.down_proj.weight"));

  const DecoderLayerWeights& moe = w.layers[1];
  EXPECT_FALSE(moe.mlp.has_value());
  ASSERT_TRUE(moe.moe.has_value());
  EXPECT_EQ(moe.moe->router.shape, (Shape{3, 8}));
  EXPECT_EQ(moe.moe->router.data, checkpoint.data("model.layers.1.mlp.gate.weight"));
  ASSERT_EQ(moe.moe->experts.size(), 3u);
  for (const auto& expert : moe.moe->experts) EXPECT_EQ(expert.width(), 4);
  EXPECT_EQ(moe.moe->experts[2].up_proj.data, checkpoint.data("model.layers.1.mlp.experts.2.up_proj.weight"));
  EXPECT_EQ(moe.moe->experts[0].down_proj.data, checkpoint.data("model.layers.1.mlp.experts.0.down_proj.weight"));
  ASSERT_TRUE(moe.moe->shared.has_value());
  EXPECT_EQ(moe.moe->shared->width(), 4);
  EXPECT_EQ(moe.moe->shared->gate_proj.data, checkpoint.data("model.layers.1.mlp.shared_experts.gate_proj.weight"));

  EXPECT_EQ(moe.self_attn.o_proj.data, checkpoint.data("model.layers.1.self_attn.o_proj.weight"));
  EXPECT_EQ(moe.input_layernorm.data, checkpoint.data("model.layers.1.input_layernorm.weight"));
  EXPECT_EQ(w.embed_tokens.data, checkpoint.data("model.embed_tokens.weight"));
  EXPECT_EQ(w.norm.data, checkpoint.data("model.norm.weight"));
  EXPECT_EQ(w.lm_head.data, checkpoint.data("lm_head.weight"));
}

TEST(BindWeights, MissingExpertTensorNamesItAndExpectedShape) {
  TinyCheckpoint checkpoint;
  checkpoint.remove("model.layers.1.mlp.experts.2.up_proj.weight");
  expect_bind_error(tiny_config(), checkpoint,
                    {"missing tensor", "'model.layers.1.mlp.experts.2.up_proj.weight'", "[4, 8]"});
}

TEST(BindWeights, MissingOtherTensors) {
  for (const auto& [name, shape] :
       std::map<std::string, std::string>{{"lm_head.weight", "[11, 8]"},
                                          {"model.layers.1.mlp.shared_experts.down_proj.weight", "[8, 4]"},
                                          {"model.layers.0.mlp.down_proj.weight", "[8, 12]"},
                                          {"model.layers.1.mlp.gate.weight", "[3, 8]"},
                                          {"model.norm.weight", "[8]"}}) {
    SCOPED_TRACE(name);
    TinyCheckpoint checkpoint;
    checkpoint.remove(name);
    expect_bind_error(tiny_config(), checkpoint, {"missing tensor", "'" + name + "'", shape});
  }
}

TEST(BindWeights, WrongShapeNamesTensorFoundAndExpected) {
  TinyCheckpoint checkpoint;
  checkpoint.set("model.layers.0.mlp.down_proj.weight", {12, 8});  // transposed
  expect_bind_error(tiny_config(), checkpoint,
                    {"<memory>", "'model.layers.0.mlp.down_proj.weight'", "shape [12, 8]", "expected [8, 12]"});
}

TEST(BindWeights, WrongRankIsAWrongShape) {
  TinyCheckpoint checkpoint;
  checkpoint.set("model.layers.1.post_attention_layernorm.weight", {8, 1});
  expect_bind_error(tiny_config(), checkpoint,
                    {"'model.layers.1.post_attention_layernorm.weight'", "shape [8, 1]", "expected [8]"});
}

TEST(BindWeights, GroupedKvHeadsExpectNarrowerKeyValue) {
  TinyCheckpoint checkpoint;
  checkpoint.set("model.layers.0.self_attn.k_proj.weight", {4, 8});
  checkpoint.set("model.layers.1.self_attn.k_proj.weight", {4, 8});
  checkpoint.set("model.layers.1.self_attn.v_proj.weight", {4, 8});
  // Layer 0's v_proj is still [8, 8]: one head's worth (4 rows) was expected.
  expect_bind_error(tiny_config({{"num_key_value_heads", 1}}), checkpoint,
                    {"'model.layers.0.self_attn.v_proj.weight'", "shape [8, 8]", "expected [4, 8]"});
}

TEST(BindWeights, UnexpectedExtraTensorIsNamed) {
  TinyCheckpoint checkpoint;
  checkpoint.set("model.layers.2.input_layernorm.weight", {8});
  expect_bind_error(tiny_config(), checkpoint, {"unexpected", "'model.layers.2.input_layernorm.weight'"});
}

TEST(BindWeights, DenseMlpInAMoeLayerIsUnexpected) {
  TinyCheckpoint checkpoint;
  checkpoint.set("model.layers.1.mlp.up_proj.weight", {12, 8});
  expect_bind_error(tiny_config(), checkpoint, {"unexpected", "'model.layers.1.mlp.up_proj.weight'"});
}

TEST(BindWeights, ManyExtraTensorsAreCountedAndListed) {
  TinyCheckpoint checkpoint;
  for (int e = 3; e < 10; ++e)
    checkpoint.set("model.layers.1.mlp.experts." + std::to_string(e) + ".up_proj.weight", {4, 8});
  expect_bind_error(tiny_config(), checkpoint,
                    {"7 unexpected", "'model.layers.1.mlp.experts.3.up_proj.weight'", "..."});
}

TEST(BindWeights, OldRotaryInvFreqBufferIsAccepted) {
  TinyCheckpoint checkpoint;
  checkpoint.set("model.layers.0.self_attn.rotary_emb.inv_freq", {2});
  checkpoint.set("model.layers.1.self_attn.rotary_emb.inv_freq", {2});
  const MemoryStore store = checkpoint.store();
  EXPECT_NO_THROW(bind_hf_weights(tiny_config(), store));
}

TEST(BindWeights, TiedEmbeddingsWithoutLmHead) {
  TinyCheckpoint checkpoint;
  checkpoint.remove("lm_head.weight");
  const MemoryStore store = checkpoint.store();
  const ModelWeights w = bind_hf_weights(tiny_config({{"tie_word_embeddings", true}}), store);
  EXPECT_EQ(w.lm_head.data, checkpoint.data("model.embed_tokens.weight"));
  EXPECT_EQ(w.lm_head.shape, (Shape{11, 8}));
  // Untied, the same checkpoint lacks lm_head.
  expect_error_containing([&] { bind_hf_weights(tiny_config(), store); },
                          {"missing tensor", "'lm_head.weight'", "[11, 8]"});
}

TEST(BindWeights, TiedEmbeddingsWithAStoredLmHead) {
  TinyCheckpoint checkpoint;
  const MemoryStore store = checkpoint.store();
  const ModelWeights w = bind_hf_weights(tiny_config({{"tie_word_embeddings", true}}), store);
  EXPECT_EQ(w.lm_head.data, checkpoint.data("model.embed_tokens.weight"));

  checkpoint.set("lm_head.weight", {8, 11});
  expect_bind_error(tiny_config({{"tie_word_embeddings", true}}), checkpoint,
                    {"'lm_head.weight'", "shape [8, 11]", "expected [11, 8]"});
}

// ---- End to end: a checkpoint directory through Model::load ----

void write_checkpoint(const TempDir& dir, const TinyCheckpoint& checkpoint,
                      const nlohmann::json& config = tiny_json()) {
  write_file(dir.file("config.json"), config.dump(2));
  write_file(dir.file("model.safetensors"), checkpoint.file());
}

void load(const TempDir& dir) {
  const auto model = Model::load(dir.str());
  (void)model;
}

TEST(ModelLoad, TinyCheckpointLoads) {
  TempDir dir;
  write_checkpoint(dir, TinyCheckpoint());
  const auto model = Model::load(dir.str());
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->info().hidden_size, 8);
  EXPECT_EQ(model->info().n_routed_experts, 3);
  EXPECT_EQ(model->directory(), dir.str());
}

TEST(ModelLoad, NotADirectory) {
  TempDir dir;
  const std::string path = dir.file("nothing-here");
  expect_error_containing([&] { (void)Model::load(path); }, {path, "no such file or folder"});
}

TEST(ModelLoad, MissingConfigNamesThePath) {
  TempDir dir;
  write_file(dir.file("model.safetensors"), TinyCheckpoint().file());
  expect_error_containing([&] { load(dir); }, {dir.file("config.json"), "cannot open"});
}

TEST(ModelLoad, InvalidConfigNamesThePathAndKey) {
  TempDir dir;
  nlohmann::json config = tiny_json();
  config["num_experts_per_tok"] = 4;
  write_checkpoint(dir, TinyCheckpoint(), config);
  expect_error_containing([&] { load(dir); },
                          {dir.file("config.json"), "'num_experts_per_tok'", "4", "n_routed_experts 3"});
}

TEST(ModelLoad, WrongShapeInFileNamesFileAndTensor) {
  TempDir dir;
  TinyCheckpoint checkpoint;
  checkpoint.set("model.layers.1.mlp.experts.1.gate_proj.weight", {5, 8});
  write_checkpoint(dir, checkpoint);
  expect_error_containing([&] { load(dir); },
                          {dir.file("model.safetensors"), "'model.layers.1.mlp.experts.1.gate_proj.weight'",
                           "shape [5, 8]", "expected [4, 8]"});
}

TEST(ModelLoad, MissingTensorInFileNamesTensor) {
  TempDir dir;
  TinyCheckpoint checkpoint;
  checkpoint.remove("model.layers.0.self_attn.q_proj.weight");
  write_checkpoint(dir, checkpoint);
  expect_error_containing([&] { load(dir); },
                          {dir.str() + ": missing tensor", "'model.layers.0.self_attn.q_proj.weight'", "[8, 8]"});
}

TEST(ModelLoad, ExtraTensorInFileNamesFileAndTensor) {
  TempDir dir;
  TinyCheckpoint checkpoint;
  checkpoint.set("model.layers.0.mlp.experts.0.up_proj.weight", {4, 8});
  write_checkpoint(dir, checkpoint);
  expect_error_containing([&] { load(dir); }, {dir.file("model.safetensors"), "unexpected",
                                               "'model.layers.0.mlp.experts.0.up_proj.weight'"});
}

TEST(ModelLoad, TruncatedWeightsFileNamesFile) {
  TempDir dir;
  write_checkpoint(dir, TinyCheckpoint());
  const std::string full = TinyCheckpoint().file();
  write_file(dir.file("model.safetensors"), full.substr(0, full.size() - 4));
  expect_error_containing([&] { load(dir); }, {dir.file("model.safetensors"), "tensor '", "truncated"});
}

}  // namespace
}  // namespace dsmoe
