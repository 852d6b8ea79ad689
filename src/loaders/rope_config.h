// config.json's RoPE keys (`rope_scaling` in its old `type` and new `rope_type` spelling, transformers v5
// `rope_parameters`) and the command-line overrides, turned into RopeParams.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "dsmoe/dsmoe.h"
#include "dsmoe/rope/rope.h"

namespace dsmoe {

struct ModelConfig;

// Parses one rope_scaling / rope_parameters object. `key` names it in errors ("rope_scaling"); keys it does not
// know are appended to unknown_keys as "key.name". Throws Error naming source, key and value.
RopeScaling parse_rope_scaling(const nlohmann::json& json, const std::string& source, const std::string& key,
                               const std::string& model_type, std::vector<std::string>& unknown_keys);

// Applies the overrides (dsmoe's --rope-* flags) to a parsed config. Throws Error naming the flag.
void apply_rope_overrides(ModelConfig& config, const RopeOverrides& overrides);

// One paragraph for -v: pairing, rotary dim, base, scaling and its parameters, the attention factor and
// softmax multiplier, the original and the effective context.
std::string describe_rope(const ModelConfig& config, int64_t context);

}  // namespace dsmoe
