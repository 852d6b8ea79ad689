// Token ids typed by people: "5,9,17" or "5 9 17" (commas, spaces, tabs), each an int32.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "dsmoe/error.h"

namespace dsmoe::cli {

// The most ids one list may hold: 2^24, the longest context dsmoe accepts (-c). Counted on the text before
// anything is parsed, since a JSON array of 500 million ids would take 8 GB as a json tree.
inline constexpr size_t kMaxIds = size_t(1) << 24;

inline void check_id_count(std::string_view text, const char* command) {
  size_t items = 0;
  bool in_item = false;
  for (const char c : text) {
    const bool separator = c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '[' || c == ']';
    if (!separator && !in_item) ++items;
    in_item = !separator;
  }
  if (items > kMaxIds) fail(command, ": ", items, " ids, more than the ", kMaxIds, " one list may hold");
}

// `command` names the caller in the error for an item that is not an integer in int32 range.
inline std::vector<int32_t> parse_token_ids(std::string text, const char* command) {
  check_id_count(text, command);
  for (char& c : text) {
    if (c == ',' || c == '\t' || c == '\r') c = ' ';
  }
  std::istringstream items(text);
  std::vector<int32_t> ids;
  std::string item;
  while (items >> item) {
    size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || value < INT32_MIN || value > INT32_MAX) fail(command, ": '", item, "' is not a token id");
    ids.push_back(int32_t(value));
  }
  return ids;
}

}  // namespace dsmoe::cli
