// quantize_model: a model's tensors read one at a time, widened to float32, stored as the file type's per-tensor
// choice (quant_plan.h) and written as GGUF in llama.cpp's layout.
#include <filesystem>
#include <optional>

#include "core/errors.h"
#include "dsmoe/model_writer.h"
#include "loaders/gguf_export.h"
#include "loaders/model_files.h"
#include "loaders/quant_plan.h"
#include "model/weights.h"
#include "quant/quantize.h"

namespace dsmoe {

bool is_file_type_name(const std::string& name) {
  FileType type{};
  return parse_file_type(name, &type);
}

const char* file_type_rules() {
  return "As llama-quantize: norms and the MoE router stay F32; output.weight is Q6_K in every quantized type but "
         "q8_0; q4_k_m/q5_k_m raise attn_v and ffn_down (dense, experts, shared) to Q6_K in the first and last eighth "
         "of the layers and every third between; q4_k_s raises them to Q5_K early; a K-quant whose 256-block does "
         "not divide a row falls back to Q5_0/Q5_1/Q8_0";
}

WrittenModel quantize_model(const std::string& input, const std::string& output, const QuantizeOptions& options) {
  FileType type{};
  if (!parse_file_type(options.file_type, &type)) {
    fail("file type '", options.file_type, "' is not one of ", file_type_names());
  }
  ModelFiles files = open_model_files(input);
  if (std::filesystem::absolute(input) == std::filesystem::absolute(output)) {
    fail(output, ": the output would overwrite the input");
  }
  const ModelConfig& config = files.config;
  bind_weights(config, *files.weights);  // every tensor present and of the right shape before writing anything
  const GgufVocabulary vocab = gguf_vocabulary_of(files);

  const WeightSource& source = *files.weights;
  GgufExportOptions gguf;
  gguf.file_type = type;
  gguf.name = options.name.empty() ? std::filesystem::path(input).filename().string() : options.name;
  gguf.values_interleaved = config.rope_pairing == RopePairing::kInterleaved;
  gguf.progress = options.progress;
  const TensorValues values = [&](const WeightSpec& spec, float* out) {
    const std::optional<TensorView> view = source.find(spec.key);
    dequantize_row(view->dtype, view->data, out, view->numel());  // whole rows: blocks never cross one
  };
  write_gguf_model(output, config, vocab, values, gguf);
  return {std::string(file_type_info(type).name), std::filesystem::file_size(output), !vocab.tokens.empty()};
}

}  // namespace dsmoe
