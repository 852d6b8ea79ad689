// Rotary position embedding as math, independent of any model. This header holds the parameters; the
// other headers of include/dsmoe/rope/ (sources in src/rope/) compute with them:
//   rope_frequencies  inverse frequencies, attention factor and softmax multiplier per rope_scaling type
//   rope_table        cos/sin for any positions of one call (exact angles, see there)
//   rope_apply        the rotation of a vector of heads, either pairing, partial rotary
//   rope_axes         2-D/N-D axial RoPE, M-RoPE, Qwen2-VL vision and Pixtral layouts
//   position_baselines  sinusoidal absolute encoding and ALiBi, the baselines RoPE is compared with
// Formulas and their sources: /work/shared/ROPE.md and docs/rope.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dsmoe {

// Which coordinates form a rotated pair. It belongs to the file, not the architecture: llama.cpp's converter
// permutes Q/K rows so that a GGUF of the same model uses the interleaved pairing.
enum class RopePairing {
  kRotateHalf,   // (j, j + d/2): HF Llama/DeepSeek modelling code, GPT-NeoX
  kInterleaved,  // (2j, 2j + 1): Meta's complex form, GPT-J, GGUF Llama/DeepSeek files
};

// The `rope_scaling` types of transformers' modeling_rope_utils.
enum class RopeScalingType { kNone, kLinear, kDynamic, kYarn, kLlama3, kLongRope };

// YaRN's magnitude factor comes in two flavours, chosen by the file (model_type):
//   kTransformers: cos/sin times attention_factor (given, else g(s, mscale) / g(s, mscale_all_dim) when both
//                  are given and non-zero, else g(s, 1)); the softmax scale is unchanged.
//   kDeepseekV2:   cos/sin times g(s, mscale) / g(s, mscale_all_dim) (defaults mscale 1, mscale_all_dim 0), and
//                  the softmax scale multiplied by g(s, mscale_all_dim)^2.
enum class YarnFlavor { kTransformers, kDeepseekV2 };

// With a KV cache, dynamic NTK (and LongRoPE's long/short switch) depend on the sequence length, which grows.
//   kGrowWithCache: HF's behaviour, the default. Each forward uses the longest length the cache has held,
//                   new keys get the new base while cached keys keep the rotation they were stored with.
//   kFixedAtContext: the base of the session's whole context, computed once (vLLM's choice): cached and new
//                   keys agree, but short sequences are scaled too.
enum class RopeDynamicPolicy { kGrowWithCache, kFixedAtContext };

struct RopeScaling {
  RopeScalingType type = RopeScalingType::kNone;
  double factor = 1.0;
  // The pre-training context L0. 0: the model's max_position_embeddings.
  int64_t original_max_position_embeddings = 0;
  // yarn
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  std::optional<double> mscale;
  std::optional<double> mscale_all_dim;
  std::optional<double> attention_factor;  // also longrope
  bool truncate = true;                    // floor/ceil the correction range
  YarnFlavor yarn_flavor = YarnFlavor::kTransformers;
  // llama3
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  // longrope: one factor per rotary pair, each > 0
  std::vector<double> short_factor;
  std::vector<double> long_factor;
  bool factor_given = true;  // longrope: false means factor = max_position_embeddings / L0
};

struct RopeParams {
  int64_t rotary_dim = 0;  // even; the first rotary_dim coordinates of each head rotate, the rest pass through
  double theta = 10000.0;
  RopePairing pairing = RopePairing::kRotateHalf;
  RopeScaling scaling;
  int64_t max_position_embeddings = 2048;  // the context the model was configured for
  RopeDynamicPolicy dynamic_policy = RopeDynamicPolicy::kGrowWithCache;
};

const char* to_string(RopeScalingType type);
const char* to_string(RopePairing pairing);
// "none"/"default", "linear", "dynamic", "yarn", "llama3", "longrope"; nullopt for anything else.
std::optional<RopeScalingType> parse_rope_scaling_type(const std::string& name);

}  // namespace dsmoe
