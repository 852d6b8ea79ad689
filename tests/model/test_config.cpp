// parse_model_config / load_model_config: the real DeepSeek-MoE 16B config read value by value,
// the layer-kind rule, defaults, and one clear error (naming the source and the key) per bad value.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/config.h"
#include "loaders/hf_config.h"
#include "support/bad_input.h"

namespace dsmoe {
namespace {

using bad_input::expect_error_containing;
using bad_input::TempDir;
using bad_input::write_file;
using nlohmann::json;

const char* const kRealConfigPath = DSMOE_SOURCE_DIR "/configs/deepseek-moe-16b-base.json";
const char* const kSource = "test/config.json";

json real_config_json() {
  std::ifstream in(kRealConfigPath);
  EXPECT_TRUE(in) << "cannot open " << kRealConfigPath;
  return json::parse(in);
}

json with(json base, const json& changes) {
  for (const auto& [key, value] : changes.items()) base[key] = value;
  return base;
}

json without(json base, const std::string& key) {
  base.erase(key);
  return base;
}

// The smallest config that parses: only the required keys.
json minimal_json() {
  return {{"model_type", "deepseek"}, {"vocab_size", 100},      {"hidden_size", 64},
          {"intermediate_size", 96},  {"num_hidden_layers", 6}, {"num_attention_heads", 4}};
}

void expect_config_error(const json& config, std::initializer_list<std::string> parts) {
  expect_error_containing([&] { parse_model_config(config, kSource); }, parts);
  expect_error_containing([&] { parse_model_config(config, kSource); }, {kSource});
}

TEST(Config, RealConfigValues) {
  const ModelConfig c = parse_model_config(real_config_json(), kRealConfigPath);
  EXPECT_EQ(c.architecture, Architecture::kDeepseek);
  EXPECT_EQ(c.model_type, "deepseek");
  EXPECT_EQ(c.vocab_size, 102400);
  EXPECT_EQ(c.hidden_size, 2048);
  EXPECT_EQ(c.intermediate_size, 10944);
  EXPECT_EQ(c.moe_intermediate_size, 1408);
  EXPECT_EQ(c.num_hidden_layers, 28);
  EXPECT_EQ(c.num_attention_heads, 16);
  EXPECT_EQ(c.num_key_value_heads, 16);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.q_dim(), 2048);
  EXPECT_EQ(c.kv_dim(), 2048);
  EXPECT_EQ(c.n_routed_experts, 64);
  EXPECT_EQ(c.n_shared_experts, 2);
  EXPECT_EQ(c.shared_intermediate_size(), 2816);
  EXPECT_EQ(c.num_experts_per_tok, 6);
  EXPECT_EQ(c.first_k_dense_replace, 1);
  EXPECT_EQ(c.moe_layer_freq, 1);
  EXPECT_FALSE(c.norm_topk_prob);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.max_position_embeddings, 4096);
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::kNone);
  EXPECT_FALSE(c.attention_bias);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.bos_token_id, std::optional<int64_t>(100000));
  EXPECT_EQ(c.eos_token_id, std::optional<int64_t>(100001));
  EXPECT_EQ(c.torch_dtype, std::optional<DType>(DType::BF16));
  EXPECT_TRUE(c.unknown_keys.empty()) << "first unknown key: " << c.unknown_keys.front();
}

TEST(Config, LoadModelConfigReadsTheFile) {
  const ModelConfig c = load_model_config(kRealConfigPath);
  EXPECT_EQ(c.hidden_size, 2048);
  EXPECT_EQ(c.n_routed_experts, 64);
}

TEST(Config, RealConfigLayerKinds) {
  const ModelConfig c = parse_model_config(real_config_json(), kRealConfigPath);
  EXPECT_FALSE(c.is_moe_layer(0));
  for (int64_t layer = 1; layer < 28; ++layer) EXPECT_TRUE(c.is_moe_layer(layer)) << "layer " << layer;
}

std::vector<bool> moe_layers(int64_t first_k, int64_t freq, int64_t n_layers) {
  const ModelConfig c = parse_model_config(
      with(real_config_json(),
           {{"first_k_dense_replace", first_k}, {"moe_layer_freq", freq}, {"num_hidden_layers", n_layers}}),
      kSource);
  std::vector<bool> out;
  for (int64_t i = 0; i < n_layers; ++i) out.push_back(c.is_moe_layer(i));
  return out;
}

TEST(Config, LayerKindIsLayerModFreqNotOffsetByDenseLayers) {
  EXPECT_EQ(moe_layers(2, 2, 6), (std::vector<bool>{false, false, true, false, true, false}));
  // Here layer % freq and (layer - k) % freq disagree: HF's rule (layer % freq) must win.
  EXPECT_EQ(moe_layers(1, 2, 6), (std::vector<bool>{false, false, true, false, true, false}));
  EXPECT_EQ(moe_layers(3, 2, 7), (std::vector<bool>{false, false, false, false, true, false, true}));
  EXPECT_EQ(moe_layers(0, 3, 7), (std::vector<bool>{true, false, false, true, false, false, true}));
}

TEST(Config, NoRoutedExpertsMeansAllLayersDense) {
  const ModelConfig c = parse_model_config(with(real_config_json(), {{"n_routed_experts", 0}}), kSource);
  for (int64_t layer = 0; layer < 28; ++layer) EXPECT_FALSE(c.is_moe_layer(layer)) << "layer " << layer;
}

TEST(Config, DefaultsWhenKeysAreAbsent) {
  const ModelConfig c = parse_model_config(minimal_json(), kSource);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.max_position_embeddings, 2048);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::kNone);
  EXPECT_EQ(c.first_k_dense_replace, 0);
  EXPECT_EQ(c.moe_layer_freq, 1);
  EXPECT_EQ(c.n_routed_experts, 0);
  EXPECT_EQ(c.n_shared_experts, 0);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.bos_token_id.has_value());
  EXPECT_FALSE(c.eos_token_id.has_value());
  EXPECT_FALSE(c.torch_dtype.has_value());
  EXPECT_TRUE(c.unknown_keys.empty());

  // With experts but no placement keys, every layer is MoE.
  const ModelConfig moe = parse_model_config(
      with(minimal_json(), {{"n_routed_experts", 8}, {"num_experts_per_tok", 2}, {"n_shared_experts", nullptr}}),
      kSource);
  EXPECT_EQ(moe.n_shared_experts, 0);
  for (int64_t layer = 0; layer < 6; ++layer) EXPECT_TRUE(moe.is_moe_layer(layer)) << "layer " << layer;
}

TEST(Config, UnknownKeysAreNotedNotFatal) {
  const json config =
      with(real_config_json(), {{"my_new_feature", 3}, {"zz_flag", true}, {"aux_loss_alpha", 0.5}, {"seq_aux", false}});
  ModelConfig c;
  ASSERT_NO_THROW(c = parse_model_config(config, kSource));
  std::vector<std::string> unknown = c.unknown_keys;
  std::sort(unknown.begin(), unknown.end());
  EXPECT_EQ(unknown, (std::vector<std::string>{"my_new_feature", "zz_flag"}));
}

TEST(Config, EndTokenListTakesTheFirst) {
  const ModelConfig c = parse_model_config(with(minimal_json(), {{"eos_token_id", {7, 9}}}), kSource);
  EXPECT_EQ(c.eos_token_id, std::optional<int64_t>(7));
  expect_config_error(with(minimal_json(), {{"eos_token_id", "</s>"}}), {"'eos_token_id'", "integer", "\"</s>\""});
}

TEST(Config, UnknownModelType) {
  expect_config_error(with(real_config_json(), {{"model_type", "mistral"}}),
                      {"'model_type'", "'mistral'", "not supported"});
  expect_config_error(without(real_config_json(), "model_type"), {"'model_type'"});
}

TEST(Config, MissingRequiredKeys) {
  for (const char* key :
       {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"}) {
    SCOPED_TRACE(key);
    expect_config_error(without(real_config_json(), key), {"missing required key", std::string("'") + key + "'"});
  }
  expect_config_error(with(real_config_json(), {{"vocab_size", nullptr}}), {"missing required key 'vocab_size'"});
}

TEST(Config, HiddenSizeNotDivisibleByHeads) {
  expect_config_error(with(real_config_json(), {{"num_attention_heads", 12}, {"num_key_value_heads", 12}}),
                      {"'hidden_size'", "2048", "num_attention_heads 12"});
}

TEST(Config, HeadsNotDivisibleByKvHeads) {
  expect_config_error(with(real_config_json(), {{"num_key_value_heads", 3}}),
                      {"'num_key_value_heads'", "3", "num_attention_heads 16"});
}

TEST(Config, TopKExceedsRoutedExperts) {
  expect_config_error(with(real_config_json(), {{"num_experts_per_tok", 65}}),
                      {"'num_experts_per_tok'", "65", "n_routed_experts 64"});
  expect_config_error(with(real_config_json(), {{"num_experts_per_tok", 0}}), {"'num_experts_per_tok'", "found 0"});
}

TEST(Config, SigmoidScoringRejected) {
  expect_config_error(with(real_config_json(), {{"scoring_func", "sigmoid"}}), {"'scoring_func'", "'sigmoid'"});
}

TEST(Config, NonSiluActivationRejected) {
  expect_config_error(with(real_config_json(), {{"hidden_act", "gelu"}}), {"'hidden_act'", "'gelu'"});
}

TEST(Config, WrongJsonTypes) {
  expect_config_error(with(real_config_json(), {{"hidden_size", "2048"}}), {"'hidden_size'", "integer", "\"2048\""});
  expect_config_error(with(real_config_json(), {{"vocab_size", 102400.5}}), {"'vocab_size'", "integer", "102400.5"});
  expect_config_error(with(real_config_json(), {{"num_hidden_layers", true}}),
                      {"'num_hidden_layers'", "integer", "true"});
  expect_config_error(with(real_config_json(), {{"rms_norm_eps", "1e-6"}}), {"'rms_norm_eps'", "number", "\"1e-6\""});
  expect_config_error(with(real_config_json(), {{"norm_topk_prob", 1}}), {"'norm_topk_prob'", "true or false", "1"});
  expect_config_error(with(real_config_json(), {{"hidden_act", 3}}), {"'hidden_act'", "string", "3"});
}

TEST(Config, NegativeOrZeroSizes) {
  expect_config_error(with(real_config_json(), {{"vocab_size", -5}}), {"'vocab_size'", "positive", "found -5"});
  expect_config_error(with(real_config_json(), {{"intermediate_size", 0}}), {"'intermediate_size'", "found 0"});
  expect_config_error(with(real_config_json(), {{"num_hidden_layers", -1}}), {"'num_hidden_layers'", "found -1"});
  expect_config_error(with(real_config_json(), {{"num_key_value_heads", -16}}), {"'num_key_value_heads'", "found -16"});
  expect_config_error(with(real_config_json(), {{"max_position_embeddings", 0}}),
                      {"'max_position_embeddings'", "found 0"});
  expect_config_error(with(real_config_json(), {{"moe_intermediate_size", -1408}}),
                      {"'moe_intermediate_size'", "found -1408"});
  expect_config_error(with(real_config_json(), {{"n_routed_experts", -1}}), {"'n_routed_experts'", "negative"});
  expect_config_error(with(real_config_json(), {{"n_shared_experts", -2}}), {"'n_shared_experts'", "negative"});
  expect_config_error(with(real_config_json(), {{"first_k_dense_replace", -1}}),
                      {"'first_k_dense_replace'", "negative"});
  expect_config_error(with(real_config_json(), {{"rms_norm_eps", -1e-6}}), {"'rms_norm_eps'"});
  expect_config_error(with(real_config_json(), {{"rope_theta", 0}}), {"'rope_theta'", "found 0"});
  // 2^64 - 1 does not fit a signed size; it must not be taken as a valid (or wrapped) value.
  expect_config_error(with(real_config_json(), {{"vocab_size", 18446744073709551615ull}}), {"'vocab_size'"});
}

TEST(Config, ZeroMoeLayerFreq) {
  expect_config_error(with(real_config_json(), {{"moe_layer_freq", 0}}), {"'moe_layer_freq'", "found 0"});
}

TEST(Config, RopeScaling) {
  const ModelConfig linear =
      parse_model_config(with(real_config_json(), {{"rope_scaling", {{"type", "linear"}, {"factor", 2.0}}}}), kSource);
  EXPECT_EQ(linear.rope_scaling.type, RopeScalingType::kLinear);
  EXPECT_DOUBLE_EQ(linear.rope_scaling.factor, 2.0);
  EXPECT_EQ(linear.rope_params().scaling.type, RopeScalingType::kLinear);
  const ModelConfig new_key = parse_model_config(
      with(real_config_json(), {{"rope_scaling", {{"rope_type", "linear"}, {"factor", 4}}}}), kSource);
  EXPECT_DOUBLE_EQ(new_key.rope_scaling.factor, 4.0);

  const ModelConfig yarn = parse_model_config(
      with(real_config_json(), {{"rope_scaling",
                                 {{"rope_type", "yarn"}, {"factor", 4.0}, {"beta_fast", 16}, {"mscale", 0.7},
                                  {"original_max_position_embeddings", 1024}, {"made_up", 1}}}}),
      kSource);
  EXPECT_EQ(yarn.rope_scaling.type, RopeScalingType::kYarn);
  EXPECT_DOUBLE_EQ(yarn.rope_scaling.beta_fast, 16.0);
  EXPECT_EQ(yarn.rope_scaling.mscale, std::optional<double>(0.7));
  EXPECT_EQ(yarn.rope_scaling.original_max_position_embeddings, 1024);
  EXPECT_EQ(yarn.unknown_keys, std::vector<std::string>{"rope_scaling.made_up"});
  const ModelConfig v5 = parse_model_config(
      with(real_config_json(), {{"rope_parameters", {{"rope_type", "dynamic"}, {"factor", 2.0}, {"rope_theta", 5e5}}}}),
      kSource);
  EXPECT_EQ(v5.rope_scaling.type, RopeScalingType::kDynamic);
  EXPECT_DOUBLE_EQ(v5.rope_theta, 5e5);
  // DeepSeek v1's HF code ignores partial_rotary_factor (only noted); Llama's applies it.
  const ModelConfig deepseek_partial =
      parse_model_config(with(real_config_json(), {{"partial_rotary_factor", 0.5}}), kSource);
  EXPECT_EQ(deepseek_partial.rotary_dim, deepseek_partial.head_dim);
  EXPECT_EQ(deepseek_partial.unknown_keys, std::vector<std::string>{"partial_rotary_factor"});
  const ModelConfig partial = parse_model_config(
      with(real_config_json(), {{"model_type", "llama"}, {"partial_rotary_factor", 0.5}}), kSource);
  EXPECT_EQ(partial.rotary_dim, partial.head_dim / 2);

  expect_config_error(with(real_config_json(), {{"rope_scaling", {{"type", "su"}, {"factor", 2.0}}}}),
                      {"'rope_scaling'", "'su'", "not supported"});
  expect_config_error(with(real_config_json(), {{"rope_scaling", {{"type", "longrope"}, {"factor", 4.0}}}}),
                      {"'rope_scaling'", "short_factor"});
  expect_config_error(with(real_config_json(), {{"model_type", "llama"}, {"partial_rotary_factor", 1.5}}),
                      {"'partial_rotary_factor'", "1.5"});
  expect_config_error(with(real_config_json(), {{"rope_scaling", {{"type", "linear"}, {"factor", 0.5}}}}),
                      {"'rope_scaling'", "factor = 0.5"});
  expect_config_error(with(real_config_json(), {{"rope_scaling", {{"type", "linear"}}}}),
                      {"'rope_scaling'", "'factor'"});
  expect_config_error(with(real_config_json(), {{"rope_scaling", {{"factor", 2.0}}}}), {"'rope_scaling'", "'type'"});
  expect_config_error(with(real_config_json(), {{"rope_scaling", "linear"}}), {"'rope_scaling'", "\"linear\""});
}

TEST(Config, AttentionBiasNotSupportedYet) {
  expect_config_error(with(real_config_json(), {{"attention_bias", true}}), {"'attention_bias'", "not supported"});
}

TEST(Config, TorchDtype) {
  EXPECT_EQ(parse_model_config(with(minimal_json(), {{"torch_dtype", "float32"}}), kSource).torch_dtype,
            std::optional<DType>(DType::F32));
  EXPECT_EQ(parse_model_config(with(minimal_json(), {{"torch_dtype", "float16"}}), kSource).torch_dtype,
            std::optional<DType>(DType::F16));
  expect_config_error(with(minimal_json(), {{"torch_dtype", "int8"}}), {"'torch_dtype'", "'int8'"});
}

TEST(Config, NotAnObject) { expect_config_error(json::array({1, 2}), {"JSON object"}); }

TEST(Config, ConfigFileNotValidJson) {
  TempDir dir;
  const std::string path = dir.file("config.json");
  write_file(path, R"({"model_type": "deepseek", "vocab_size": 102400,)");
  expect_error_containing([&] { load_model_config(path); }, {path, "invalid JSON"});
}

TEST(Config, ConfigFileMissing) {
  TempDir dir;
  const std::string path = dir.file("config.json");
  expect_error_containing([&] { load_model_config(path); }, {path, "cannot open"});
}

TEST(Config, ConfigFileErrorsNameThePath) {
  TempDir dir;
  const std::string path = dir.file("config.json");
  write_file(path, with(real_config_json(), {{"hidden_act", "relu"}}).dump());
  expect_error_containing([&] { load_model_config(path); }, {path, "'hidden_act'", "'relu'"});
}

json llama_json() {
  return {{"model_type", "llama"},       {"vocab_size", 256},
          {"hidden_size", 64},           {"intermediate_size", 128},
          {"num_hidden_layers", 2},      {"num_attention_heads", 4},
          {"num_key_value_heads", 2},    {"head_dim", 32},
          {"rope_theta", 500000.0},      {"max_position_embeddings", 8192},
          {"tie_word_embeddings", true}, {"rms_norm_eps", 1e-5}};
}

TEST(Config, LlamaWithExplicitHeadDimAndGroupedKv) {
  const ModelConfig c = parse_model_config(llama_json(), kSource);
  EXPECT_EQ(c.architecture, Architecture::kLlama);
  EXPECT_EQ(c.head_dim, 32);  // explicit, not hidden_size / heads = 16
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.q_dim(), 128);
  EXPECT_EQ(c.kv_dim(), 64);
  EXPECT_EQ(c.n_routed_experts, 0);
  EXPECT_FALSE(c.is_moe_layer(0));
  EXPECT_FALSE(c.is_moe_layer(1));
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_TRUE(c.unknown_keys.empty());
}

TEST(Config, OddHeadDimRejected) {
  expect_config_error(with(llama_json(), {{"head_dim", 15}}), {"'head_dim'", "even", "found 15"});
  // Derived from hidden_size / heads = 12 / 4 = 3.
  expect_config_error(with(llama_json(), {{"hidden_size", 12}, {"head_dim", nullptr}}), {"'head_dim'", "found 3"});
  expect_config_error(with(llama_json(), {{"head_dim", 0}}), {"'head_dim'", "found 0"});
}

}  // namespace
}  // namespace dsmoe
