// tokenizer.json "post_processor": what encode(text, add_special_tokens=True) adds around the ids of one sequence.
// TemplateProcessing (its "single" template) adds special tokens such as BOS; ByteLevel only adjusts offsets, which
// we do not compute, so it adds nothing; Sequence chains them. Pair templates are not used: we encode one text.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace dsmoe {

class PostProcessor {
 public:
  PostProcessor() = default;  // the JSON null: nothing is added
  explicit PostProcessor(const nlohmann::json& spec);

  std::vector<int32_t> apply(std::vector<int32_t> ids, bool add_special_tokens) const;

 private:
  void add_template(const nlohmann::json& spec, const std::string& where);

  // The single-sequence template, flattened: ids to insert, with kSequence marking where the text's ids go.
  static constexpr int32_t kSequence = -1;
  std::vector<int32_t> single_template_{kSequence};
};

}  // namespace dsmoe
