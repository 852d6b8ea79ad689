// Fuzz target: config.json text as load_model_config reads it (depth check, JSON, the typed config with its
// RoPE scaling).
#include "core/errors.h"
#include "fuzz_input.h"
#include "dsmoe/json_file.h"
#include "loaders/hf_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  try {
    const nlohmann::json json = dsmoe::parse_json_text(text, text + size, "config.json");
    (void)dsmoe::parse_model_config(json, "config.json");
  } catch (const dsmoe::Error&) {
  }
  return 0;
}
