// Writes a model as a GGUF file in llama.cpp's layout (arch "deepseek" or "llama"): its metadata keys, its tensor
// names, the routed experts stacked into one 3-D tensor per layer and projection, Q/K rows permuted for
// adjacent-pair RoPE, the tokenizer as tokenizer.ggml.* and the chat template. Tensors are produced, quantized and
// written one at a time, so the model is never whole in memory (the largest buffer is one stacked expert tensor
// or the embedding).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "loaders/gguf_vocab.h"
#include "loaders/quant_plan.h"
#include "model/config.h"
#include "model/weight_source.h"

namespace dsmoe {

// Fills out[numel] with the float32 values of one tensor in the model's orientation ([out, in]).
using TensorValues = std::function<void(const WeightSpec& spec, float* out)>;

struct GgufExportOptions {
  FileType file_type = FileType::kF16;
  std::string name;  // general.name
  // true when the values' Q/K rows are already in adjacent-pair order (they come from a GGUF file); false for
  // HF's rotate-half order, which is then permuted as llama.cpp's converter does.
  bool values_interleaved = false;
  // Called after each tensor with the bytes written so far and the total.
  std::function<void(uint64_t written, uint64_t total)> progress;
};

// An Error naming the config value when the model cannot be expressed in llama.cpp's layout (MoE layers that are
// not every layer after the leading dense ones, renormalised top-k, partial rotary, dynamic/llama3/longrope RoPE).
void check_gguf_expressible(const ModelConfig& config);

// Writes `path` (through path.partial). `vocab` may have no tokens: the file then carries no tokenizer.
void write_gguf_model(const std::string& path, const ModelConfig& config, const GgufVocabulary& vocab,
                      const TensorValues& values, const GgufExportOptions& options);

// llama.cpp's converter's Q/K row order: within each head, rotate-half pairs (i, i + d/2) become adjacent rows
// (2i, 2i + 1). rows [n_heads * head_dim, cols] in place.
void permute_rows_for_interleaved_rope(float* rows, int64_t n_heads, int64_t head_dim, int64_t cols);

}  // namespace dsmoe
