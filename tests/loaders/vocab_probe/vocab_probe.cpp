// src/loaders/gguf_vocab exposed to tests/loaders/check_gguf_vocab.py (a folder of its own, so that its main() is
// not globbed into dsmoe_tests):
//   vocab_probe from-hf TOKENIZER_JSON [TOKENIZER_CONFIG_JSON]
//       prints gguf_vocabulary_from_hf's GgufVocabulary as one JSON object (keys as the struct's fields; absent
//       optionals are null), which the check writes into a GGUF file with llama.cpp's gguf-py.
//   vocab_probe tokenize VOCABULARY_JSON [--special]
//       builds the tokenizer from that object through tokenizer_json_from_gguf / tokenizer_config_from_gguf and
//       prints the ids of each stdin line (a JSON string) as a JSON array; --special adds BOS/EOS as the file says.
// Errors go to stderr with exit status 1.
#include <fstream>
#include <iostream>
#include <string>

#include "core/errors.h"
#include "loaders/gguf_vocab.h"
#include "dsmoe/tokenizer.h"

namespace {

using dsmoe::GgufVocabulary;
using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) dsmoe::fail(path, ": cannot open");
  return json::parse(in);
}

template <typename T>
json optional_json(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

template <typename T>
std::optional<T> optional_from(const json& object, const char* key) {
  if (!object.contains(key) || object[key].is_null()) return std::nullopt;
  return object[key].get<T>();
}

json to_json(const GgufVocabulary& v) {
  return {{"model", v.model},
          {"pre", v.pre},
          {"tokens", v.tokens},
          {"token_types", v.token_types},
          {"scores", v.scores},
          {"merges", v.merges},
          {"bos_id", optional_json(v.bos_id)},
          {"eos_id", optional_json(v.eos_id)},
          {"unknown_id", optional_json(v.unknown_id)},
          {"padding_id", optional_json(v.padding_id)},
          {"add_bos", optional_json(v.add_bos)},
          {"add_eos", optional_json(v.add_eos)},
          {"chat_template", v.chat_template}};
}

GgufVocabulary from_json(const json& j) {
  GgufVocabulary v;
  v.model = j.at("model").get<std::string>();
  v.pre = j.at("pre").get<std::string>();
  v.tokens = j.at("tokens").get<std::vector<std::string>>();
  v.token_types = j.at("token_types").get<std::vector<int32_t>>();
  v.scores = j.at("scores").get<std::vector<float>>();
  v.merges = j.at("merges").get<std::vector<std::string>>();
  v.bos_id = optional_from<int64_t>(j, "bos_id");
  v.eos_id = optional_from<int64_t>(j, "eos_id");
  v.unknown_id = optional_from<int64_t>(j, "unknown_id");
  v.padding_id = optional_from<int64_t>(j, "padding_id");
  v.add_bos = optional_from<bool>(j, "add_bos");
  v.add_eos = optional_from<bool>(j, "add_eos");
  v.chat_template = j.value("chat_template", "");
  return v;
}

int run(int argc, char** argv) {
  const std::string command = argc > 2 ? argv[1] : "";
  if (command == "from-hf") {
    const json config = argc > 3 ? read_json(argv[3]) : json::object();
    std::cout << to_json(dsmoe::gguf_vocabulary_from_hf(read_json(argv[2]), config, argv[2])).dump() << "\n";
    return 0;
  }
  if (command == "tokenize") {
    const bool special = argc > 3 && std::string(argv[3]) == "--special";
    const GgufVocabulary vocab = from_json(read_json(argv[2]));
    const auto tokenizer = dsmoe::Tokenizer::from_json(dsmoe::tokenizer_json_from_gguf(vocab, argv[2]),
                                                       dsmoe::tokenizer_config_from_gguf(vocab, argv[2]));
    for (std::string line; std::getline(std::cin, line);) {
      if (line.empty()) continue;
      std::cout << json(tokenizer->encode(json::parse(line).get<std::string>(), special)).dump() << "\n";
    }
    return 0;
  }
  std::cerr << "usage: vocab_probe from-hf TOKENIZER_JSON [CONFIG] | tokenize VOCABULARY_JSON [--special]\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "vocab_probe: " << e.what() << "\n";
    return 1;
  }
}
