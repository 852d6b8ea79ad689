// Fuzz target: tokenizer.json, then (after a NUL byte) tokenizer_config.json, as Tokenizer::load reads them;
// the tokenizer that results encodes and decodes a fixed text.
#include "core/errors.h"
#include "fuzz_input.h"
#include "dsmoe/json_file.h"
#include "dsmoe/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = dsmoe::fuzz::split_input(data, size, 2);
  try {
    const nlohmann::json spec =
        dsmoe::parse_json_text(parts[0].data(), parts[0].data() + parts[0].size(), "tokenizer.json");
    nlohmann::json config = nlohmann::json::object();
    if (parts.size() > 1) {
      config = dsmoe::parse_json_text(parts[1].data(), parts[1].data() + parts[1].size(), "tokenizer_config.json");
    }
    const auto tokenizer = dsmoe::Tokenizer::from_json(spec, config);
    const std::vector<int32_t> ids = tokenizer->encode("Hello, world! <s> 123 \xe4\xbd\xa0\xe5\xa5\xbd", true);
    (void)tokenizer->decode(ids, false);
    (void)tokenizer->decode(ids, true);
  } catch (const dsmoe::Error&) {
  }
  return 0;
}
