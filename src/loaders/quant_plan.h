// Which storage type each tensor gets in a GGUF file of a given file type: llama-quantize's choices
// (llama.cpp src/llama-quant.cpp, llama_tensor_get_type, v0.5.0) for the tensors of the two architectures dsmoe
// writes, so a file dsmoe quantizes has the same per-tensor types as one llama.cpp quantizes.
//
//   never quantized: 1-D tensors (the norms, kept F32) and the MoE router ffn_gate_inp (kept F32);
//   output.weight (token_embd when tied): Q6_K in every quantized type except q8_0 (stays Q8_0);
//   q4_k_m / q5_k_m: attn_v and every ffn_down (dense, routed experts, shared experts) in layers where
//     use_more_bits(layer) holds (the first and last eighth of the layers and every third between) are Q6_K;
//   q4_k_s: attn_v of the first 4 layers and ffn_down of the first eighth of the layers are Q5_K;
//   exactly 8 routed experts (llama.cpp's Mixtral rule, applied to any architecture): attn_k and attn_v are Q8_0,
//     and attn_output is Q5_K in q4_k_s/q4_k_m;
//   a row length that is not a whole number of blocks falls back: Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0,
//     and to F16 when even 32 does not divide it (DeepSeek-MoE 16B's experts are 1408 wide, so its
//     ffn_down_exps are Q5_0 / Q8_0 in a Q4_K_M file).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/dtype.h"
#include "dsmoe/model_writer.h"  // file_type_names
#include "model/config.h"
#include "model/weight_source.h"

namespace dsmoe {

enum class FileType { kF32, kF16, kBF16, kQ8_0, kQ4_0, kQ4_1, kQ5_0, kQ5_1, kQ4_K_S, kQ4_K_M, kQ5_K_S, kQ5_K_M, kQ6_K };

struct FileTypeInfo {
  std::string_view name;  // "q4_k_m", as llama-quantize spells it (lower case)
  uint32_t llama_ftype;   // general.file_type (enum llama_ftype)
  DType base;             // the type of most 2-D tensors
};

const FileTypeInfo& file_type_info(FileType type);
bool parse_file_type(std::string_view name, FileType* out);  // case-insensitive
// file_type_names(): include/dsmoe/model_writer.h

// The storage type of the tensor holding `role` in `layer` (-1 outside layers), whose rows are `row_length` long.
DType tensor_storage_type(FileType type, const ModelConfig& config, WeightRole role, int64_t layer, int64_t row_length);

}  // namespace dsmoe
