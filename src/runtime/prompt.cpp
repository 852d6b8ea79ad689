#include "model/model_access.h"
#include "dsmoe/prompt.h"

#include <algorithm>

#include "dsmoe/dsmoe.h"
#include "model/config.h"
#include "dsmoe/tokenizer.h"

namespace dsmoe {

std::vector<int32_t> prompt_tokens(const Tokenizer& tokenizer, std::string_view text) {
  std::vector<int32_t> tokens = tokenizer.encode(text, /*add_special_tokens=*/true);
  const auto& config = tokenizer.config_json();
  const bool add_bos = config.is_object() && config.contains("add_bos_token") && config["add_bos_token"].is_boolean() &&
                       config["add_bos_token"].get<bool>();
  if (add_bos && tokenizer.bos_id() && (tokens.empty() || tokens.front() != *tokenizer.bos_id())) {
    tokens.insert(tokens.begin(), *tokenizer.bos_id());
  }
  return tokens;
}

std::vector<int32_t> end_tokens(const Model& model) {
  std::vector<int32_t> ends;
  const int64_t vocab = model_config(model).vocab_size;
  auto add = [&](int64_t id) {
    if (id >= 0 && id < vocab && std::find(ends.begin(), ends.end(), int32_t(id)) == ends.end()) {
      ends.push_back(int32_t(id));
    }
  };
  if (const Tokenizer* tokenizer = model.tokenizer(); tokenizer != nullptr && tokenizer->eos_id()) {
    add(*tokenizer->eos_id());
  }
  if (model_config(model).eos_token_id) add(*model_config(model).eos_token_id);
  const nlohmann::json& generation = model.generation_config();
  if (generation.is_object() && generation.contains("eos_token_id")) {
    const nlohmann::json& eos = generation["eos_token_id"];
    if (eos.is_number_integer()) add(eos.get<int64_t>());
    if (eos.is_array()) {
      for (const auto& id : eos) {
        if (id.is_number_integer()) add(id.get<int64_t>());
      }
    }
  }
  return ends;
}

}  // namespace dsmoe
