// tokenizer.json "normalizer": rewrites each stretch of text between added tokens before pre-tokenization.
// Supported types: NFC, NFD, NFKC, NFKD (ICU), Lowercase, Replace, Prepend, Strip, StripAccents, Sequence.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace dsmoe {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& text) const = 0;
};

// Null for a JSON null (no normalizer); throws Error naming the part for an unknown or malformed one.
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& spec);

}  // namespace dsmoe
