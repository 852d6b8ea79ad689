// Errors raised at the boundary of user input (files, configs, command lines).
// Every message names what was read, what was expected and what was found.
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

// Shape printed as [2048, 102400].
std::string shape_string(const int64_t* dims, size_t n);

}  // namespace dsmoe
