// Reading JSON files with errors that name the file and the position of a syntax error.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace dsmoe {

nlohmann::json read_json_file(const std::string& path);
nlohmann::json parse_json_text(const char* begin, const char* end, const std::string& source);

}  // namespace dsmoe
