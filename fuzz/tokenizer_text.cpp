// Fuzz target: arbitrary bytes through real tokenizers. The first byte picks the tokenizer (the shipped
// model's byte-level BPE, or one of the hand-made tokenizer.json files of tests/tokenizer_compat/synthetic
// with Metaspace, Whitespace, Split and added tokens); the rest is encoded (with and without special tokens),
// decoded, and read again as token ids for decode and the streaming decoder.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"
#include "fuzz_input.h"
#include "dsmoe/tokenizer.h"

namespace {

std::vector<std::unique_ptr<dsmoe::Tokenizer>> load_tokenizers() {
  const std::string root = DSMOE_SOURCE_DIR;
  std::vector<std::unique_ptr<dsmoe::Tokenizer>> out;
  out.push_back(dsmoe::Tokenizer::load(root + "/models/dsmoe-kjv-9m/tokenizer.json"));
  for (const char* name : {"added_tokens", "metaspace_first", "metaspace_always", "whitespace", "split_behaviors"}) {
    out.push_back(dsmoe::Tokenizer::load(root + "/tests/tokenizer_compat/synthetic/" + name + ".json"));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto tokenizers = load_tokenizers();
  if (size == 0) return 0;
  const dsmoe::Tokenizer& tokenizer = *tokenizers[data[0] % tokenizers.size()];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::vector<int32_t> ids = tokenizer.encode(text, true);
  (void)tokenizer.encode(text, false);
  (void)tokenizer.decode(ids, false);

  // The same bytes as ids: some out of the vocabulary, which decode refuses with an Error.
  std::vector<int32_t> as_ids(text.size() / 2);
  for (size_t i = 0; i < as_ids.size(); ++i) {
    uint16_t v = 0;
    std::memcpy(&v, text.data() + 2 * i, 2);
    as_ids[i] = int32_t(v);
  }
  try {
    (void)tokenizer.decode(as_ids, data[0] & 0x80);
  } catch (const dsmoe::Error&) {
  }
  dsmoe::DecodeStream stream(tokenizer, data[0] & 0x40);
  for (const int32_t id : as_ids) {
    if (id >= tokenizer.vocab_size()) continue;
    try {
      (void)stream.push(id);
    } catch (const dsmoe::Error&) {
    }
  }
  return 0;
}
