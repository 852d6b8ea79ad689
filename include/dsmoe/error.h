// The one exception dsmoe throws for bad input (a file, a key, a tensor, an argument): its message names what was
// read, what was expected and what was found.
#pragma once

#include <stdexcept>
#include <string>

namespace dsmoe {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace dsmoe
