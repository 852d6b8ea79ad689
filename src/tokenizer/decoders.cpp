#include "tokenizer/decoders.h"

#include "core/errors.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/pattern.h"
#include "tokenizer/utf8.h"

namespace dsmoe {

namespace {

using nlohmann::json;
using namespace json_fields;

// All tokens become one string: each character back to its byte (a token with any other character keeps its
// UTF-8 as is), and the bytes read as UTF-8 with U+FFFD for ill-formed parts (Rust's from_utf8_lossy).
class ByteLevel : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& token : tokens) {
      const size_t mark = bytes.size();
      bool all_mapped = true;
      for (size_t pos = 0; pos < token.size() && all_mapped;) {
        const auto b = byte_level::char_byte(utf8::next(token, pos));
        if (b) {
          bytes += char(*b);
        } else {
          all_mapped = false;
        }
      }
      if (!all_mapped) {
        bytes.resize(mark);
        bytes += token;
      }
    }
    tokens.assign(1, utf8::to_valid(bytes));
  }
};

// Runs of <0xNN> tokens become the text of their bytes, or one U+FFFD per byte when those are not valid UTF-8.
class ByteFallback : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    std::string pending;
    size_t pending_count = 0;
    auto flush = [&]() {
      if (pending_count == 0) return;
      if (utf8::is_valid(pending)) {
        out.push_back(pending);
      } else {
        for (size_t i = 0; i < pending_count; ++i) out.emplace_back(utf8::kReplacement);
      }
      pending.clear();
      pending_count = 0;
    };
    for (std::string& token : tokens) {
      int byte = -1;
      if (token.size() == 6 && token.compare(0, 3, "<0x") == 0 && token[5] == '>') byte = hex_byte(token[3], token[4]);
      if (byte >= 0) {
        pending += char(byte);
        ++pending_count;
      } else {
        flush();
        out.push_back(std::move(token));
      }
    }
    flush();
    tokens = std::move(out);
  }

 private:
  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  static int hex_byte(char high, char low) {
    const int h = hex_digit(high), l = hex_digit(low);
    return h < 0 || l < 0 ? -1 : h * 16 + l;
  }
};

class Fuse : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string joined;
    for (const std::string& token : tokens) joined += token;
    tokens.assign(1, std::move(joined));
  }
};

// Up to `start` leading and `stop` trailing copies of one character cut from every token.
class Strip : public Decoder {
 public:
  Strip(char32_t content, size_t start, size_t stop) : content_(content), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& token : tokens) {
      std::vector<size_t> offsets;  // byte offset of each character, then the end
      std::vector<char32_t> chars;
      for (size_t pos = 0; pos < token.size();) {
        offsets.push_back(pos);
        chars.push_back(utf8::next(token, pos));
      }
      offsets.push_back(token.size());
      size_t start_cut = 0, stop_cut = chars.size();
      for (size_t i = 0; i < start_ && i < chars.size() && chars[i] == content_; ++i) start_cut = i + 1;
      for (size_t i = 0; i < stop_ && i < chars.size() && chars[chars.size() - 1 - i] == content_; ++i) {
        stop_cut = chars.size() - 1 - i;
      }
      token = stop_cut > start_cut ? token.substr(offsets[start_cut], offsets[stop_cut] - offsets[start_cut]) : "";
    }
  }

 private:
  char32_t content_;
  size_t start_, stop_;
};

class Replace : public Decoder {
 public:
  Replace(Pattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& token : tokens) {
      std::string out;
      for (const PatternSpan& span : pattern_.find_spans(token)) {
        if (span.is_match) {
          out += content_;
        } else {
          out.append(token, span.begin, span.end - span.begin);
        }
      }
      token = std::move(out);
    }
  }

 private:
  Pattern pattern_;
  std::string content_;
};

// The replacement character becomes a space, except at the very start when a space was prepended on encode.
class Metaspace : public Decoder {
 public:
  Metaspace(char32_t replacement, bool drop_first) : replacement_(replacement), drop_first_(drop_first) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& token = tokens[i];
      for (size_t pos = 0; pos < token.size();) {
        const size_t begin = pos;
        if (utf8::next(token, pos) != replacement_) {
          out.append(token, begin, pos - begin);
        } else if (i != 0 || !drop_first_) {
          out += ' ';
        }
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  char32_t replacement_;
  bool drop_first_;
};

class DecoderSequence : public Decoder {
 public:
  explicit DecoderSequence(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& step : steps_) step->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

char32_t single_char(const json& spec, const char* key, const std::string& where) {
  const std::string text = string_field(spec, key, where);
  size_t pos = 0;
  const char32_t c = text.empty() ? 0 : utf8::next(text, pos);
  if (text.empty() || pos != text.size()) fail(where, ": '", key, "' must be one character, found '", text, "'");
  return c;
}

size_t count_field(const json& spec, const char* key, const std::string& where) {
  const json& value = required(spec, key, where);
  if (!value.is_number_integer() || value.get<int64_t>() < 0) {
    fail(where, ": '", key, "' must be a non-negative integer, found ", value.dump());
  }
  return value.get<size_t>();
}

}  // namespace

std::unique_ptr<Decoder> make_decoder(const json& spec) {
  if (spec.is_null()) return nullptr;
  const std::string type = type_of(spec, "tokenizer.json: decoder");
  const std::string where = "tokenizer.json: decoder " + type;
  if (type == "ByteLevel") return std::make_unique<ByteLevel>();
  if (type == "ByteFallback") return std::make_unique<ByteFallback>();
  if (type == "Fuse") return std::make_unique<Fuse>();
  if (type == "Strip") {
    return std::make_unique<Strip>(single_char(spec, "content", where), count_field(spec, "start", where),
                                   count_field(spec, "stop", where));
  }
  if (type == "Replace") {
    return std::make_unique<Replace>(Pattern::from_json(required(spec, "pattern", where), where),
                                     string_field(spec, "content", where));
  }
  if (type == "Metaspace") {
    // The first token loses its leading replacement unless the encoder never prepends one.
    std::string scheme = "always";
    if (spec.contains("prepend_scheme") && !spec["prepend_scheme"].is_null()) {
      scheme = string_field(spec, "prepend_scheme", where);
    }
    if (!bool_field(spec, "add_prefix_space", true, where)) scheme = "never";
    return std::make_unique<Metaspace>(single_char(spec, "replacement", where), scheme != "never");
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Decoder>> steps;
    for (const json& step : array_field(spec, "decoders", where)) {
      auto decoder = make_decoder(step);
      if (decoder) steps.push_back(std::move(decoder));
    }
    return std::make_unique<DecoderSequence>(std::move(steps));
  }
  fail("tokenizer.json: decoder type '", type, "' is not supported (supported: ByteLevel, Metaspace, ByteFallback, ",
       "Fuse, Strip, Replace, Sequence)");
}

}  // namespace dsmoe
