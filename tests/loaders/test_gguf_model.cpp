// GGUF files as models: metadata to ModelConfig, stacked experts sliced without copying, tied output, llama.cpp's
// Q/K permutation, the per-tensor type plan, and the files dsmoe refuses with a message naming key or tensor.
// Files are written with dsmoe's GgufWriter (checked against gguf-py in tests/gguf) from configs built here.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "io/gguf_writer.h"
#include "loaders/gguf_export.h"
#include "loaders/gguf_model.h"
#include "loaders/hf_config.h"
#include "loaders/random_weights.h"
#include "model/weights.h"
#include "support/bad_input.h"
#include "support/random_model.h"

namespace dsmoe {
namespace {

using bad_input::expect_error_containing;
using bad_input::TempDir;

ModelConfig tiny_config(nlohmann::json changes = nlohmann::json::object()) {
  nlohmann::json json = testing::tiny_deepseek_json();
  json.update(changes);
  return parse_model_config(json, "<test>");
}

// A random model written by write_gguf_model: the path.
std::string write_random_gguf(const TempDir& dir, const ModelConfig& config, FileType type = FileType::kF32) {
  const std::string path = dir.file("model.gguf");
  GgufExportOptions options;
  options.file_type = type;
  write_gguf_model(
      path, config, GgufVocabulary{}, [](const WeightSpec& spec, float* out) { random_tensor_values(spec, 5, out); },
      options);
  return path;
}

TEST(GgufModel, ConfigComesFromTheArchitectureKeys) {
  TempDir dir;
  const ModelConfig written = tiny_config({{"num_key_value_heads", 2}, {"rope_theta", 5e5}, {"rms_norm_eps", 1e-5}});
  const GgufFile file(write_random_gguf(dir, written));
  const ModelConfig c = gguf_model_config(file);
  EXPECT_EQ(c.model_type, "deepseek");
  EXPECT_EQ(c.vocab_size, written.vocab_size);
  EXPECT_EQ(c.hidden_size, written.hidden_size);
  EXPECT_EQ(c.num_hidden_layers, written.num_hidden_layers);
  EXPECT_EQ(c.num_attention_heads, 4);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.head_dim, written.head_dim);
  EXPECT_EQ(c.intermediate_size, written.intermediate_size);
  EXPECT_EQ(c.n_routed_experts, written.n_routed_experts);
  EXPECT_EQ(c.n_shared_experts, written.n_shared_experts);
  EXPECT_EQ(c.num_experts_per_tok, written.num_experts_per_tok);
  EXPECT_EQ(c.first_k_dense_replace, written.first_k_dense_replace);
  EXPECT_EQ(c.moe_intermediate_size, written.moe_intermediate_size);
  EXPECT_EQ(c.max_position_embeddings, written.max_position_embeddings);
  EXPECT_DOUBLE_EQ(c.rope_theta, 5e5);
  EXPECT_FLOAT_EQ(float(c.rms_norm_eps), 1e-5f);
  EXPECT_EQ(c.rope_pairing, RopePairing::kInterleaved);  // the converter permuted Q/K
  EXPECT_FALSE(c.tie_word_embeddings);
}

TEST(GgufModel, StackedExpertsAreSlicedInPlace) {
  TempDir dir;
  const ModelConfig config = tiny_config();
  GgufWeightSource source(std::make_unique<GgufFile>(write_random_gguf(dir, config)), config.n_routed_experts);
  const GgufTensorInfo* stack = source.file().find_tensor("blk.1.ffn_up_exps.weight");
  ASSERT_NE(stack, nullptr);
  EXPECT_EQ(stack->view.shape, (std::vector<int64_t>{config.n_routed_experts, config.moe_intermediate_size, 32}));
  for (int64_t e = 0; e < config.n_routed_experts; ++e) {
    const auto slice = source.find({WeightRole::kExpertUp, 1, e});
    ASSERT_TRUE(slice);
    EXPECT_EQ(slice->shape, (std::vector<int64_t>{config.moe_intermediate_size, 32}));
    EXPECT_EQ(static_cast<const unsigned char*>(slice->data),
              static_cast<const unsigned char*>(stack->view.data) + size_t(e) * slice->bytes());
    // The values are the model's: random_tensor_values of that expert alone.
    std::vector<float> expected(size_t(config.moe_intermediate_size * 32));
    random_tensor_values({{WeightRole::kExpertUp, 1, e}, slice->shape}, 5, expected.data());
    EXPECT_EQ(0, std::memcmp(slice->data, expected.data(), expected.size() * sizeof(float)));
  }
}

TEST(GgufModel, NoOutputTensorMeansTiedEmbeddings) {
  TempDir dir;
  const ModelConfig written = tiny_config({{"tie_word_embeddings", true}});
  auto file = std::make_unique<GgufFile>(write_random_gguf(dir, written));
  EXPECT_EQ(file->find_tensor("output.weight"), nullptr);
  const ModelConfig c = gguf_model_config(*file);
  EXPECT_TRUE(c.tie_word_embeddings);
  GgufWeightSource source(std::move(file), c.n_routed_experts);
  const ModelWeights w = bind_weights(c, source);
  EXPECT_EQ(w.lm_head.data, w.embed_tokens.data);
}

TEST(GgufModel, PermutationPairsRotateHalfCoordinates) {
  // Two heads of dim 6, two columns: within a head, row i and i + 3 become rows 2i and 2i + 1.
  std::vector<float> rows(12 * 2);
  std::iota(rows.begin(), rows.end(), 0.0f);
  permute_rows_for_interleaved_rope(rows.data(), 2, 6, 2);
  const std::vector<int> source_row = {0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11};
  for (int r = 0; r < 12; ++r) {
    EXPECT_EQ(rows[size_t(2 * r)], float(2 * source_row[size_t(r)])) << r;
    EXPECT_EQ(rows[size_t(2 * r + 1)], float(2 * source_row[size_t(r)] + 1)) << r;
  }
}

TEST(GgufModel, UnexpressibleConfigsAreRefusedBeforeWriting) {
  TempDir dir;
  expect_error_containing([&] { write_random_gguf(dir, tiny_config({{"moe_layer_freq", 2}})); }, {"moe_layer_freq"});
  expect_error_containing([&] { write_random_gguf(dir, tiny_config({{"norm_topk_prob", true}})); }, {"norm_topk_prob"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("model.gguf")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("model.gguf.partial")));
}

// A GGUF with hand-picked metadata and no tensors, to test the config reader alone.
std::string write_metadata(const TempDir& dir, const std::vector<std::pair<std::string, GgufValue>>& keys) {
  const std::string path = dir.file("meta.gguf");
  GgufWriter out(path);
  for (const auto& [key, value] : keys) out.add(key, value);
  out.write_header();
  out.finish();
  return path;
}

TEST(GgufModel, BadMetadataIsAnErrorNamingTheKey) {
  TempDir dir;
  const std::vector<std::pair<std::string, GgufValue>> base = {
      {"general.architecture", GgufValue::string("deepseek")}, {"deepseek.embedding_length", GgufValue::uint32(32)},
      {"deepseek.block_count", GgufValue::uint32(2)},          {"deepseek.attention.head_count", GgufValue::uint32(4)},
      {"deepseek.feed_forward_length", GgufValue::uint32(48)}, {"deepseek.vocab_size", GgufValue::uint32(50)},
  };
  auto with = [&](std::vector<std::pair<std::string, GgufValue>> extra, const std::string& drop = "") {
    std::vector<std::pair<std::string, GgufValue>> keys;
    for (const auto& kv : base)
      if (kv.first != drop) keys.push_back(kv);
    keys.insert(keys.end(), extra.begin(), extra.end());
    return write_metadata(dir, keys);
  };
  EXPECT_NO_THROW(gguf_model_config(GgufFile(with({}))));
  {
    const std::string path = with({}, "deepseek.block_count");
    expect_error_containing([&] { gguf_model_config(GgufFile(path)); }, {path, "deepseek.block_count"});
  }
  {
    const std::string path = with({{"general.architecture", GgufValue::string("qwen2")}}, "general.architecture");
    expect_error_containing([&] { gguf_model_config(GgufFile(path)); }, {path, "qwen2", "deepseek, llama"});
  }
  {
    const std::string path = with({{"deepseek.expert_weights_scale", GgufValue::float32(2.5f)}});
    expect_error_containing([&] { gguf_model_config(GgufFile(path)); }, {path, "expert_weights_scale", "2.5"});
  }
  {
    const std::string path = with({{"deepseek.rope.scaling.type", GgufValue::string("longrope")}});
    expect_error_containing([&] { gguf_model_config(GgufFile(path)); }, {path, "rope.scaling.type", "longrope"});
  }
  {
    const std::string path = with({{"deepseek.attention.head_count_kv", GgufValue::uint32(3)}});
    expect_error_containing([&] { gguf_model_config(GgufFile(path)); }, {path, "3", "does not divide"});
  }
  {
    const std::string path = with({{"deepseek.block_count", GgufValue::string("two")}}, "deepseek.block_count");
    expect_error_containing([&] { gguf_model_config(GgufFile(path)); }, {path, "deepseek.block_count"});
  }
}

TEST(GgufModel, WrongExpertStackIsAnErrorNamingTheTensor) {
  TempDir dir;
  const ModelConfig written = tiny_config();
  const std::string path = write_random_gguf(dir, written);
  ModelConfig claims_more = written;
  claims_more.n_routed_experts = written.n_routed_experts + 2;
  GgufWeightSource source(std::make_unique<GgufFile>(path), claims_more.n_routed_experts);
  expect_error_containing([&] { bind_weights(claims_more, source); },
                          {path, "blk.1.ffn_gate_inp.weight"});  // the router is the first tensor that disagrees
}

TEST(QuantPlan, Q4KMFollowsLlamaQuantizeFor16B) {
  const ModelConfig c = load_model_config(std::string(DSMOE_SOURCE_DIR) + "/configs/deepseek-moe-16b-base.json");
  ASSERT_EQ(c.num_hidden_layers, 28);
  // use_more_bits over 28 layers: layer < 3, layer >= 24, or (layer - 3) % 3 == 2.
  auto more_bits = [](int64_t l) { return l < 3 || l >= 24 || (l - 3) % 3 == 2; };
  EXPECT_EQ(tensor_storage_type(FileType::kQ4_K_M, c, WeightRole::kOutput, -1, 2048), DType::Q6_K);
  EXPECT_EQ(tensor_storage_type(FileType::kQ4_K_M, c, WeightRole::kTokenEmbedding, -1, 2048), DType::Q4_K);
  EXPECT_EQ(tensor_storage_type(FileType::kQ4_K_M, c, WeightRole::kRouter, 5, 2048), DType::F32);
  EXPECT_EQ(tensor_storage_type(FileType::kQ4_K_M, c, WeightRole::kAttentionNorm, 5, 2048), DType::F32);
  for (int64_t l = 0; l < 28; ++l) {
    const DType v = tensor_storage_type(FileType::kQ4_K_M, c, WeightRole::kValue, l, 2048);
    EXPECT_EQ(v, more_bits(l) ? DType::Q6_K : DType::Q4_K) << l;
    // Experts' down rows are 1408 wide: not a whole number of 256-blocks, so Q6_K -> Q8_0 and Q4_K -> Q5_0.
    const DType down = tensor_storage_type(FileType::kQ4_K_M, c, WeightRole::kExpertDown, l, 1408);
    EXPECT_EQ(down, more_bits(l) ? DType::Q8_0 : DType::Q5_0) << l;
    EXPECT_EQ(tensor_storage_type(FileType::kQ4_K_M, c, WeightRole::kExpertUp, l, 2048), DType::Q4_K);
  }
  EXPECT_EQ(tensor_storage_type(FileType::kQ8_0, c, WeightRole::kOutput, -1, 2048), DType::Q8_0);
  EXPECT_EQ(tensor_storage_type(FileType::kBF16, c, WeightRole::kExpertDown, 3, 1408), DType::BF16);
  // A row of 40 fits no block size at all: F16, as llama-quantize falls back.
  EXPECT_EQ(tensor_storage_type(FileType::kQ4_0, c, WeightRole::kQuery, 3, 40), DType::F16);
}

}  // namespace
}  // namespace dsmoe
