#include "tokenizer/normalizers.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>

#include <vector>

#include "tokenizer/json_fields.h"
#include "tokenizer/pattern.h"
#include "tokenizer/utf8.h"

namespace dsmoe {

namespace {

using nlohmann::json;
using namespace json_fields;

class UnicodeForm : public Normalizer {
 public:
  UnicodeForm(const icu::Normalizer2* form, std::string name) : form_(form), name_(std::move(name)) {}
  void normalize(std::string& text) const override {
    UErrorCode status = U_ZERO_ERROR;
    if (form_->isNormalizedUTF8(text, status) && U_SUCCESS(status)) return;
    status = U_ZERO_ERROR;
    std::string out;
    icu::StringByteSink<std::string> sink(&out, int32_t(text.size()));
    form_->normalizeUTF8(0, text, sink, nullptr, status);
    if (U_FAILURE(status)) fail("normalizer ", name_, ": ICU failed (", u_errorName(status), ")");
    text = std::move(out);
  }

 private:
  const icu::Normalizer2* form_;
  std::string name_;
};

std::unique_ptr<Normalizer> unicode_form(const std::string& type) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* form = nullptr;
  if (type == "NFC") form = icu::Normalizer2::getNFCInstance(status);
  if (type == "NFD") form = icu::Normalizer2::getNFDInstance(status);
  if (type == "NFKC") form = icu::Normalizer2::getNFKCInstance(status);
  if (type == "NFKD") form = icu::Normalizer2::getNFKDInstance(status);
  if (form == nullptr || U_FAILURE(status)) fail("normalizer ", type, ": ICU data unavailable");
  return std::make_unique<UnicodeForm>(form, type);
}

class Lowercase : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    std::string out;
    out.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) utf8::append_lowercase(utf8::next(text, pos), out);
    text = std::move(out);
  }
};

// Every match of the pattern becomes `content` (HF NormalizedString::replace).
class Replace : public Normalizer {
 public:
  Replace(Pattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(std::string& text) const override {
    std::string out;
    size_t previous = 0;
    bool matched = false;
    pattern_.for_each_match(text, [&](size_t begin, size_t end) {
      out.append(text, previous, begin - previous);
      out += content_;
      previous = end;
      matched = true;
    });
    if (!matched) return;
    out.append(text, previous, std::string::npos);
    text = std::move(out);
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string& text) const override {
    if (text.empty()) return;
    std::string out;  // not text.insert(0, ...): GCC 12 -Wrestrict false positive (PR 105651)
    out.reserve(prefix_.size() + text.size());
    out.append(prefix_);
    out.append(text);
    text = std::move(out);
  }

 private:
  std::string prefix_;
};

// Leading and/or trailing Unicode whitespace removed.
class Strip : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text) const override {
    size_t begin = 0, end = text.size();
    if (left_) {
      while (begin < end) {
        size_t next = begin;
        if (!utf8::is_whitespace(utf8::next(text, next))) break;
        begin = next;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        size_t next = start;
        if (!utf8::is_whitespace(utf8::next(text, next))) break;
        end = start;
      }
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

// Combining marks (general category M) removed.
class StripAccents : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    std::string out;
    out.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
      const size_t start = pos;
      const char32_t c = utf8::next(text, pos);
      if ((U_MASK(u_charType(UChar32(c))) & U_GC_M_MASK) == 0) out.append(text, start, pos - start);
    }
    text = std::move(out);
  }
};

class NormalizerSequence : public Normalizer {
 public:
  explicit NormalizerSequence(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  void normalize(std::string& text) const override {
    for (const auto& step : steps_) step->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const json& spec) {
  if (spec.is_null()) return nullptr;
  const std::string type = type_of(spec, "tokenizer.json: normalizer");
  const std::string where = "tokenizer.json: normalizer " + type;
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") return unicode_form(type);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "Replace") {
    return std::make_unique<Replace>(Pattern::from_json(required(spec, "pattern", where), where),
                                     string_field(spec, "content", where));
  }
  if (type == "Prepend") return std::make_unique<Prepend>(string_field(spec, "prepend", where));
  if (type == "Strip") {
    return std::make_unique<Strip>(bool_field(spec, "strip_left", false, where),
                                   bool_field(spec, "strip_right", false, where));
  }
  if (type == "StripAccents") return std::make_unique<StripAccents>();
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (const json& step : array_field(spec, "normalizers", where)) {
      auto normalizer = make_normalizer(step);
      if (normalizer) steps.push_back(std::move(normalizer));
    }
    return std::make_unique<NormalizerSequence>(std::move(steps));
  }
  fail("tokenizer.json: normalizer type '", type, "' is not supported (supported: NFC, NFD, NFKC, NFKD, Lowercase, ",
       "Replace, Prepend, Strip, StripAccents, Sequence)");
}

}  // namespace dsmoe
