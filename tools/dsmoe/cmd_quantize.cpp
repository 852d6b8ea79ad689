// `dsmoe quantize IN OUT --type T` (IN: an HF folder or a GGUF) and `dsmoe convert HF_DIR OUT.gguf [--type T]`:
// the same path, a model's tensors read one at a time, widened to float32, stored as the file type's per-tensor
// choice (src/loaders/quant_plan.h) and written as GGUF in llama.cpp's layout.
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "core/errors.h"
#include "loaders/gguf_export.h"
#include "loaders/model_files.h"
#include "model/weights.h"
#include "progress_bar.h"
#include "quant/quantize.h"

namespace dsmoe::cli {
namespace {

struct QuantizeArgs {
  std::string input;
  std::string output;
  std::string type;
  std::string name;
  bool convert = false;  // `convert`: an HF folder in, llama.cpp's converter types
};

const char* kTypeHelp =
    "file type: f32|f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1|q4_k_s|q4_k_m|q5_k_s|q5_k_m|q6_k. As llama-quantize: norms and "
    "the MoE router stay F32; output.weight is Q6_K in every quantized type but q8_0; q4_k_m/q5_k_m raise attn_v and "
    "ffn_down (dense, experts, shared) to Q6_K in the first and last eighth of the layers and every third between; "
    "q4_k_s raises them to Q5_K early; a K-quant whose 256-block does not divide a row falls back to Q5_0/Q5_1/Q8_0";

int run_quantize(const QuantizeArgs& args) {
  FileType type{};
  if (!parse_file_type(args.type, &type)) fail("--type: '", args.type, "' is not one of ", file_type_names());
  if (args.convert && type != FileType::kF32 && type != FileType::kF16 && type != FileType::kBF16 &&
      type != FileType::kQ8_0) {
    fail("convert: --type must be f32, f16, bf16 or q8_0 (as llama.cpp's converter); use `dsmoe quantize` for ",
         args.type);
  }
  ModelFiles files = open_model_files(args.input);
  if (args.convert && files.format != ModelFormat::kHfFolder)
    fail(args.input, ": convert reads an HF folder; use `dsmoe quantize` for GGUF input");
  if (std::filesystem::absolute(args.input) == std::filesystem::absolute(args.output))
    fail(args.output, ": the output would overwrite the input");
  const ModelConfig& config = files.config;
  bind_weights(config, *files.weights);  // every tensor present and of the right shape before writing anything
  const GgufVocabulary vocab = gguf_vocabulary_of(files);
  if (vocab.tokens.empty()) std::cerr << "note: " << args.input << " has no tokenizer; the GGUF will carry none\n";

  const WeightSource& source = *files.weights;
  GgufExportOptions options;
  options.file_type = type;
  options.name = args.name.empty() ? std::filesystem::path(args.input).filename().string() : args.name;
  options.values_interleaved = config.rope_pairing == RopePairing::kInterleaved;
  ProgressBar bar(args.convert ? "convert" : "quantize");
  options.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
  const TensorValues values = [&](const WeightSpec& spec, float* out) {
    const std::optional<TensorView> view = source.find(spec.key);
    dequantize_row(view->dtype, view->data, out, view->numel());  // whole rows: blocks never cross one
  };
  write_gguf_model(args.output, config, vocab, values, options);
  bar.finish();
  std::cout << args.output << ": " << file_type_info(type).name << ", " << std::filesystem::file_size(args.output)
            << " bytes\n";
  return 0;
}

Handler add(CLI::App& app, bool convert) {
  auto args = std::make_shared<QuantizeArgs>();
  args->convert = convert;
  args->type = convert ? "f16" : "";
  app.add_option("input", args->input, convert ? "an HF model folder" : "an HF model folder or a GGUF file")
      ->required();
  app.add_option("output", args->output, "the GGUF file to write")->required();
  auto* type = app.add_option("--type,--outtype", args->type, convert ? "f32|f16|bf16|q8_0 (default f16)" : kTypeHelp);
  if (!convert) type->required();
  app.add_option("--name", args->name, "general.name (default: the input's file name)");
  return [args] { return run_quantize(*args); };
}

}  // namespace

Handler add_quantize_command(CLI::App& app) { return add(app, false); }
Handler add_convert_command(CLI::App& app) { return add(app, true); }

}  // namespace dsmoe::cli
