// DecodeStream (declared in tokenizer.h): HF's step_decode_stream.
#include "core/errors.h"
#include "dsmoe/tokenizer.h"
#include "tokenizer/utf8.h"

namespace dsmoe {

DecodeStream::DecodeStream(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}

namespace {
bool ends_with_replacement(const std::string& text) {
  return text.size() >= utf8::kReplacement.size() &&
         text.compare(text.size() - utf8::kReplacement.size(), std::string::npos, utf8::kReplacement) == 0;
}
}  // namespace

// HF step_decode_stream.
std::string DecodeStream::push(int32_t id) {
  if (prefix_.empty() && !ids_.empty()) {
    std::string new_prefix = tokenizer_.decode(ids_, skip_special_);
    if (!ends_with_replacement(new_prefix)) {
      prefix_ = std::move(new_prefix);
      prefix_index_ = ids_.size();
    }
  }
  ids_.push_back(id);
  const std::string text = tokenizer_.decode(ids_, skip_special_);
  if (text.size() <= prefix_.size() || ends_with_replacement(text)) return "";
  if (text.compare(0, prefix_.size(), prefix_) != 0) {
    fail("decode stream: decoding token ", id, " changed text already emitted ('", prefix_, "' became '", text, "')");
  }
  std::string fresh = text.substr(prefix_.size());
  const size_t new_prefix_index = ids_.size() - prefix_index_;
  ids_.erase(ids_.begin(), ids_.begin() + long(prefix_index_));
  prefix_ = tokenizer_.decode(ids_, skip_special_);
  prefix_index_ = new_prefix_index;
  return fresh;
}

std::string DecodeStream::flush() {
  const std::string text = tokenizer_.decode(ids_, skip_special_);
  std::string rest =
      text.size() > prefix_.size() && text.compare(0, prefix_.size(), prefix_) == 0 ? text.substr(prefix_.size()) : "";
  ids_.clear();
  prefix_.clear();
  prefix_index_ = 0;
  return rest;
}

}  // namespace dsmoe
