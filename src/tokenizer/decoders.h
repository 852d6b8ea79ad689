// tokenizer.json "decoder": turns the token strings of a decode back into text, each step rewriting the list of
// strings (HF Decoder::decode_chain) before they are joined. Supported types: ByteLevel, Metaspace, ByteFallback,
// Fuse, Strip, Replace, Sequence.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dsmoe {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// Null for a JSON null (decode then joins the tokens with spaces, as HF does); throws Error naming the part.
std::unique_ptr<Decoder> make_decoder(const nlohmann::json& spec);

}  // namespace dsmoe
