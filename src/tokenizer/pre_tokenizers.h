// tokenizer.json "pre_tokenizer": cuts normalized text into the words that the model encodes one by one.
// Supported types: Split, ByteLevel, Digits, Metaspace, Whitespace, WhitespaceSplit, Sequence.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "tokenizer/segment.h"

namespace dsmoe {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces each segment that is not yet a token by its pieces (HF PreTokenizedString::split); empty pieces vanish.
  virtual void pre_tokenize(Segments& segments) const = 0;
};

// Null for a JSON null (the whole normalized text is one word); throws Error naming the part otherwise.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& spec);

// What happens to the pattern's matches when a text is split (HF SplitDelimiterBehavior).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

}  // namespace dsmoe
