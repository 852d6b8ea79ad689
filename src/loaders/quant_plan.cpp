#include "loaders/quant_plan.h"

#include <cctype>

#include "core/errors.h"

namespace dsmoe {
namespace {

constexpr FileTypeInfo kFileTypes[] = {
    {"f32", 0, DType::F32},      {"f16", 1, DType::F16},      {"bf16", 32, DType::BF16},   {"q8_0", 7, DType::Q8_0},
    {"q4_0", 2, DType::Q4_0},    {"q4_1", 3, DType::Q4_1},    {"q5_0", 8, DType::Q5_0},    {"q5_1", 9, DType::Q5_1},
    {"q4_k_s", 14, DType::Q4_K}, {"q4_k_m", 15, DType::Q4_K}, {"q5_k_s", 16, DType::Q5_K}, {"q5_k_m", 17, DType::Q5_K},
    {"q6_k", 18, DType::Q6_K},
};

// llama.cpp's rule for the layers that get more bits: the first and last eighth, and every third in between.
bool use_more_bits(int64_t layer, int64_t n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

// A K-quant whose block does not divide the row falls back to a 32-block type, then to F16.
DType fit_row(DType wanted, int64_t row_length) {
  if (row_length % dtype_block_elements(wanted) == 0) return wanted;
  DType fallback = wanted;
  if (wanted == DType::Q4_K) fallback = DType::Q5_0;
  if (wanted == DType::Q5_K) fallback = DType::Q5_1;
  if (wanted == DType::Q6_K) fallback = DType::Q8_0;
  return row_length % dtype_block_elements(fallback) == 0 ? fallback : DType::F16;
}

bool is_ffn_down(WeightRole role) {
  return role == WeightRole::kFfnDown || role == WeightRole::kExpertDown || role == WeightRole::kSharedDown;
}

}  // namespace

const FileTypeInfo& file_type_info(FileType type) { return kFileTypes[static_cast<int>(type)]; }

bool parse_file_type(std::string_view name, FileType* out) {
  std::string lower(name);
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  for (size_t i = 0; i < std::size(kFileTypes); ++i) {
    if (kFileTypes[i].name == lower) {
      *out = static_cast<FileType>(i);
      return true;
    }
  }
  return false;
}

std::string file_type_names() {
  std::string names;
  for (const FileTypeInfo& info : kFileTypes) {
    if (!names.empty()) names += '|';
    names.append(info.name);
  }
  return names;
}

DType tensor_storage_type(FileType type, const ModelConfig& config, WeightRole role, int64_t layer,
                          int64_t row_length) {
  const DType base = file_type_info(type).base;
  const bool norm =
      role == WeightRole::kAttentionNorm || role == WeightRole::kFfnNorm || role == WeightRole::kOutputNorm;
  if (norm || role == WeightRole::kRouter) return DType::F32;
  if (!is_block_format(base)) return base;  // f32/f16/bf16: every matrix in that type

  DType wanted = base;
  const bool output =
      role == WeightRole::kOutput || (config.tie_word_embeddings && role == WeightRole::kTokenEmbedding);
  const int64_t n_layers = config.num_hidden_layers;
  const bool eight_experts = config.n_routed_experts == 8;
  if (output) {
    // llama.cpp picks Q8_0 outright when the K-quant block does not divide the row.
    if (row_length % 256 != 0) return fit_row(DType::Q8_0, row_length);
    wanted = base == DType::Q8_0 ? DType::Q8_0 : DType::Q6_K;
  } else if (role == WeightRole::kValue) {
    if ((type == FileType::kQ4_K_M || type == FileType::kQ5_K_M) && use_more_bits(layer, n_layers))
      wanted = DType::Q6_K;
    if (type == FileType::kQ4_K_S && layer < 4) wanted = DType::Q5_K;
    if (eight_experts) wanted = DType::Q8_0;  // llama.cpp's rule for Mixtral-like models, whatever the arch
  } else if (role == WeightRole::kKey) {
    if (eight_experts) wanted = DType::Q8_0;
  } else if (role == WeightRole::kAttentionOutput) {
    if (eight_experts && (type == FileType::kQ4_K_S || type == FileType::kQ4_K_M)) wanted = DType::Q5_K;
  } else if (is_ffn_down(role)) {
    if ((type == FileType::kQ4_K_M || type == FileType::kQ5_K_M) && use_more_bits(layer, n_layers))
      wanted = DType::Q6_K;
    if (type == FileType::kQ4_K_S && layer < n_layers / 8) wanted = DType::Q5_K;
  }
  return fit_row(wanted, row_length);
}

}  // namespace dsmoe
