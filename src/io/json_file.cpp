#include "dsmoe/json_file.h"

#include <set>
#include <string>
#include <vector>

#include "core/errors.h"
#include "dsmoe/text_file.h"

namespace dsmoe {

void check_json_depth(const char* begin, const char* end, const std::string& source) {
  int depth = 0;
  bool in_string = false;
  for (const char* p = begin; p < end; ++p) {
    const char c = *p;
    if (in_string) {
      if (c == '\\') {
        ++p;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        fail(source, ": JSON nested deeper than ", kMaxJsonDepth, " levels (at byte ", p - begin, ")");
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

nlohmann::json parse_json_text(const char* begin, const char* end, const std::string& source, bool unique_keys) {
  check_json_depth(begin, end, source);
  try {
    if (unique_keys) {
      // The keys seen in each object being parsed, innermost last.
      std::vector<std::set<std::string>> open_objects;
      auto track = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        using Event = nlohmann::json::parse_event_t;
        if (event == Event::object_start) open_objects.emplace_back();
        if (event == Event::object_end) open_objects.pop_back();
        if (event == Event::key && !open_objects.back().insert(parsed.get<std::string>()).second) {
          fail(source, ": the key \"", parsed.get<std::string>(), "\" appears twice in one object");
        }
        return true;
      };
      return nlohmann::json::parse(begin, end, track);
    }
    return nlohmann::json::parse(begin, end);
  } catch (const nlohmann::json::parse_error& e) {
    fail(source, ": invalid JSON at byte ", e.byte, ": ", e.what());
  } catch (const nlohmann::json::exception& e) {  // a number past double's range (1e999): out_of_range 406
    fail(source, ": invalid JSON: ", e.what());
  }
}

nlohmann::ordered_json parse_ordered_json_text(const char* begin, const char* end, const std::string& source) {
  check_json_depth(begin, end, source);
  try {
    return nlohmann::ordered_json::parse(begin, end);
  } catch (const nlohmann::json::parse_error& e) {
    fail(source, ": invalid JSON at byte ", e.byte, ": ", e.what());
  } catch (const nlohmann::json::exception& e) {
    fail(source, ": invalid JSON: ", e.what());
  }
}

nlohmann::json read_json_file(const std::string& path) {
  const std::string data = read_text_file(path);
  return parse_json_text(data.data(), data.data() + data.size(), path);
}

}  // namespace dsmoe
