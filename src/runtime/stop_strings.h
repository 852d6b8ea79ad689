// Stop strings over streamed text: text that might be the start of a stop string is held back until
// the next piece decides it, so a stop string is never half-printed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dsmoe {

class StopStringFilter {
 public:
  explicit StopStringFilter(std::vector<std::string> stops);

  // Takes the next piece of text; returns what can be shown now. After a stop string is seen,
  // stopped() is true and the returned text ends right before it.
  std::string push(std::string_view piece);
  std::string flush();  // what is held back, at the end of generation
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace dsmoe
