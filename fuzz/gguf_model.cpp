// Fuzz target: a GGUF file as `dsmoe -m model.gguf` opens it: header, metadata, tensor infos, the model config
// and tokenizer from the metadata, the tokenizer built from them, and the weights bound to the config.
#include "core/errors.h"
#include "fuzz_input.h"
#include "loaders/model_files.h"
#include "model/weights.h"
#include "dsmoe/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static dsmoe::fuzz::MemoryFile file;
  try {
    const dsmoe::ModelFiles files = dsmoe::open_model_files(file.write(data, size));
    if (!files.tokenizer_json.is_null()) {
      const auto tokenizer = dsmoe::Tokenizer::from_json(files.tokenizer_json, files.tokenizer_config);
      (void)tokenizer->encode("Hello, world! 123", true);
    }
    (void)dsmoe::bind_weights(files.config, *files.weights);
  } catch (const dsmoe::Error&) {
  }
  return 0;
}
