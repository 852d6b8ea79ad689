// The one exception dsmoe throws for bad input (a file, a key, a tensor, an argument): its message names what was
// read, what was expected and what was found.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace dsmoe {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Concatenates anything streamable: cat("tensor ", name, " has ", n, " dims").
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw Error(cat(parts...));
}

}  // namespace dsmoe
