// `dsmoe quantize IN OUT --type T` (IN: an HF folder or a GGUF) and `dsmoe convert HF_DIR OUT.gguf [--type T]`:
// the same path, a model's tensors read one at a time, widened to float32, stored as the file type's per-tensor
// choice (src/loaders/quant_plan.h) and written as GGUF in llama.cpp's layout.
#include <algorithm>
#include <cctype>
#include <iostream>
#include <memory>

#include "commands.h"
#include "dsmoe/error.h"
#include "dsmoe/model_metadata.h"
#include "dsmoe/model_writer.h"
#include "progress_bar.h"

namespace dsmoe::cli {
namespace {

struct QuantizeArgs {
  std::string input;
  std::string output;
  std::string type;
  std::string name;
  bool convert = false;  // `convert`: an HF folder in, llama.cpp's converter types
};

int run_quantize(const QuantizeArgs& args) {
  if (!is_file_type_name(args.type)) fail("--type: '", args.type, "' is not one of ", file_type_names());
  std::string type = args.type;
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (args.convert && type != "f32" && type != "f16" && type != "bf16" && type != "q8_0") {
    fail("convert: --type must be f32, f16, bf16 or q8_0 (as llama.cpp's converter); use `dsmoe quantize` for ",
         args.type);
  }
  if (args.convert && is_gguf_path(args.input)) {
    fail(args.input, ": convert reads an HF folder; use `dsmoe quantize` for GGUF input");
  }
  QuantizeOptions options;
  options.file_type = args.type;
  options.name = args.name;
  ProgressBar bar(args.convert ? "convert" : "quantize");
  options.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
  const WrittenModel written = quantize_model(args.input, args.output, options);
  bar.finish();
  if (!written.has_tokenizer) std::cerr << "note: " << args.input << " has no tokenizer; the GGUF carries none\n";
  std::cout << args.output << ": " << written.file_type << ", " << written.bytes << " bytes\n";
  return 0;
}

Handler add(CLI::App& app, bool convert) {
  auto args = std::make_shared<QuantizeArgs>();
  args->convert = convert;
  args->type = convert ? "f16" : "";
  app.add_option("input", args->input, convert ? "an HF model folder" : "an HF model folder or a GGUF file")
      ->required();
  app.add_option("output", args->output, "the GGUF file to write")->required();
  auto* type = app.add_option("--type,--outtype", args->type, convert ? "f32|f16|bf16|q8_0 (default f16)" : "file type: " + file_type_names() + ". " + file_type_rules());
  if (!convert) type->required();
  app.add_option("--name", args->name, "general.name (default: the input's file name)");
  return [args] { return run_quantize(*args); };
}

}  // namespace

Handler add_quantize_command(CLI::App& app) { return add(app, false); }
Handler add_convert_command(CLI::App& app) { return add(app, true); }

}  // namespace dsmoe::cli
