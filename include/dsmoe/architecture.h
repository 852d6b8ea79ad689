// A model's architecture as `dsmoe inspect` prints it: the tree of HF modules with the shapes entering and leaving
// each for a batch of `batch` x `seq` tokens, the parameters (total, active per token, by part), the weight bytes
// and the KV cache. Nothing is computed: the numbers come from the config, and from the files when there are some.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dsmoe {

struct ArchitectureReport {
  std::string config_name;  // where the config came from: a config.json, or a GGUF's metadata
  std::string text;
  std::vector<std::string> unused_config_keys;
};

// Exactly one of `model_path` (a folder or .gguf: its weights are checked and their bytes measured) and
// `config_path` (a config.json alone: bytes as its torch_dtype). seq 0: max_position_embeddings.
ArchitectureReport architecture_report(const std::string& model_path, const std::string& config_path, int64_t batch,
                                       int64_t seq);

}  // namespace dsmoe
