// Small tokenizer.json documents built in code, so that tokenizer unit tests need no downloaded files.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/byte_level.h"

namespace dsmoe::tokenizer_fixtures {

using nlohmann::json;
using Merges = std::vector<std::pair<std::string, std::string>>;

// The GPT-2 character of each byte of `text`.
inline std::string byte_chars(const std::string& text) {
  std::string out;
  for (const char c : text) out += byte_level::byte_chars()[static_cast<unsigned char>(c)];
  return out;
}

// A GPT-2 style byte-level BPE: ids 0..255 are the bytes, then one token per merge (merges given in plain text and
// converted to byte characters), ByteLevel pre-tokenizer (GPT-2 regex, no prefix space) and decoder.
inline json byte_level_tokenizer(const Merges& merges) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level::byte_chars()[size_t(b)]] = b;
  json merge_list = json::array();
  for (const auto& [left, right] : merges) {
    const std::string merged = byte_chars(left + right);
    if (!vocab.contains(merged)) vocab[merged] = int(vocab.size());
    merge_list.push_back(byte_chars(left) + " " + byte_chars(right));
  }
  return json{{"version", "1.0"},
              {"added_tokens", json::array()},
              {"normalizer", nullptr},
              {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
              {"post_processor", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
              {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
              {"model",
               {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"ignore_merges", false},
                {"vocab", vocab},
                {"merges", merge_list}}}};
}

// A Llama-2 style SentencePiece BPE: "▁"-prepending normalizer, byte fallback, the Llama 2 decoder chain and a BOS
// template. Ids: <unk> 0, <s> 1, </s> 2, <0x00>..<0xFF> 3..258, then `pieces`, then one token per merge.
inline json sentencepiece_tokenizer(const std::vector<std::string>& pieces, const Merges& merges) {
  json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  static const char* hex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) vocab[std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">"] = 3 + b;
  for (const auto& piece : pieces) {
    if (!vocab.contains(piece)) vocab[piece] = int(vocab.size());
  }
  json merge_list = json::array();
  for (const auto& [left, right] : merges) {
    if (!vocab.contains(left + right)) vocab[left + right] = int(vocab.size());
    merge_list.push_back(json::array({left, right}));
  }
  const json special = {
      {"single_word", false}, {"lstrip", false}, {"rstrip", false}, {"normalized", false}, {"special", true}};
  json added = json::array();
  for (const auto& [content, id] : std::vector<std::pair<std::string, int>>{{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}}) {
    json token = special;
    token["id"] = id;
    token["content"] = content;
    added.push_back(token);
  }
  return json{
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers", json::array({{{"type", "Prepend"}, {"prepend", "▁"}},
                                     {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}})}}},
      {"pre_tokenizer", nullptr},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
        {"pair", json::array()},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders", json::array({{{"type", "Replace"}, {"pattern", {{"String", "▁"}}}, {"content", " "}},
                                  {{"type", "ByteFallback"}},
                                  {{"type", "Fuse"}},
                                  {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}})}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", "<unk>"},
        {"fuse_unk", true},
        {"byte_fallback", true},
        {"vocab", vocab},
        {"merges", merge_list}}}};
}

}  // namespace dsmoe::tokenizer_fixtures
