#include "tokenizer/post_processor.h"

#include "core/errors.h"
#include "tokenizer/json_fields.h"

namespace dsmoe {

using nlohmann::json;
using namespace json_fields;

PostProcessor::PostProcessor(const json& spec) {
  if (spec.is_null()) return;
  const std::string type = type_of(spec, "tokenizer.json: post_processor");
  const std::string where = "tokenizer.json: post_processor " + type;
  if (type == "ByteLevel") return;  // offsets only
  if (type == "TemplateProcessing") {
    add_template(spec, where);
    return;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    // [CLS] $A [SEP]; each field is ["token", id].
    auto id_of = [&](const char* key) {
      const json& field = required(spec, key, where);
      if (!field.is_array() || field.size() != 2 || !field[1].is_number_integer()) {
        fail(where, ": '", key, "' must be [token, id], found ", field.dump());
      }
      return field[1].get<int32_t>();
    };
    single_template_ = {id_of("cls"), kSequence, id_of("sep")};
    return;
  }
  if (type == "Sequence") {
    for (const json& step : array_field(spec, "processors", where)) {
      const PostProcessor inner(step);
      // Applying this then `inner` is one template: inner's with ours where its sequence goes.
      std::vector<int32_t> combined;
      for (const int32_t piece : inner.single_template_) {
        if (piece == kSequence) {
          combined.insert(combined.end(), single_template_.begin(), single_template_.end());
        } else {
          combined.push_back(piece);
        }
      }
      single_template_ = std::move(combined);
    }
    return;
  }
  fail("tokenizer.json: post_processor type '", type, "' is not supported (supported: TemplateProcessing, ",
       "ByteLevel, BertProcessing, RobertaProcessing, Sequence)");
}

void PostProcessor::add_template(const json& spec, const std::string& where) {
  const json& special_tokens = required(spec, "special_tokens", where);
  if (!special_tokens.is_object()) fail(where, ": 'special_tokens' must be an object");
  single_template_.clear();
  bool has_sequence = false;
  for (const json& piece : array_field(spec, "single", where)) {
    if (piece.is_object() && piece.contains("Sequence")) {
      const std::string id = string_field(piece["Sequence"], "id", where + " single Sequence");
      if (id != "A") fail(where, ": the single template refers to sequence '", id, "'; only A exists");
      single_template_.push_back(kSequence);
      has_sequence = true;
    } else if (piece.is_object() && piece.contains("SpecialToken")) {
      const std::string name = string_field(piece["SpecialToken"], "id", where + " single SpecialToken");
      if (!special_tokens.contains(name)) fail(where, ": special token '", name, "' is not in special_tokens");
      const json& ids = array_field(special_tokens[name], "ids", where + " special_tokens " + name);
      for (const json& id : ids) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
          fail(where, ": special token '", name, "' has id ", id.dump(), ", not an id");
        }
        single_template_.push_back(id.get<int32_t>());
      }
    } else {
      fail(where, ": template piece must be {\"Sequence\": ...} or {\"SpecialToken\": ...}, found ", piece.dump());
    }
  }
  if (!has_sequence) fail(where, ": the single template has no Sequence A");
}

std::vector<int32_t> PostProcessor::apply(std::vector<int32_t> ids, bool add_special_tokens) const {
  if (!add_special_tokens || (single_template_.size() == 1 && single_template_[0] == kSequence)) return ids;
  std::vector<int32_t> out;
  out.reserve(ids.size() + single_template_.size());
  for (const int32_t piece : single_template_) {
    if (piece == kSequence) {
      out.insert(out.end(), ids.begin(), ids.end());
    } else {
      out.push_back(piece);
    }
  }
  return out;
}

}  // namespace dsmoe
