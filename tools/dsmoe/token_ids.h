// Token ids typed by people: "5,9,17" or "5 9 17" (commas, spaces, tabs), each an int32.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "core/errors.h"

namespace dsmoe::cli {

// `command` names the caller in the error for an item that is not an integer in int32 range.
inline std::vector<int32_t> parse_token_ids(std::string text, const char* command) {
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
