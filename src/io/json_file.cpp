#include "io/json_file.h"

#include <fstream>
#include <sstream>

#include "core/errors.h"

namespace dsmoe {

nlohmann::json parse_json_text(const char* begin, const char* end, const std::string& source) {
  try {
    return nlohmann::json::parse(begin, end);
  } catch (const nlohmann::json::parse_error& e) {
    fail(source, ": invalid JSON at byte ", e.byte, ": ", e.what());
  }
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  const std::string data = text.str();
  return parse_json_text(data.data(), data.data() + data.size(), path);
}

}  // namespace dsmoe
