// Reading JSON files with errors that name the file and the position of a syntax error. Documents nested deeper
// than kMaxJsonDepth are refused before parsing: nlohmann's values are destroyed (and printed) recursively, so a
// document of 100,000 nested brackets would overflow the stack. Nothing dsmoe reads nests past about ten.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace dsmoe {

inline constexpr int kMaxJsonDepth = 128;

nlohmann::json read_json_file(const std::string& path);
// unique_keys: an object naming a key twice is an Error (nlohmann would keep the last silently).
nlohmann::json parse_json_text(const char* begin, const char* end, const std::string& source, bool unique_keys = false);
nlohmann::ordered_json parse_ordered_json_text(const char* begin, const char* end, const std::string& source);

// An Error naming `source` when text nests arrays and objects deeper than kMaxJsonDepth (brackets inside
// strings do not count); the syntax itself is the parser's to check.
void check_json_depth(const char* begin, const char* end, const std::string& source);

}  // namespace dsmoe
