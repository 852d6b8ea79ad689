// A progress bar on stderr for long jobs (writing a model): redrawn in place on a terminal, a line every 10% when
// stderr is a file or pipe, so logs stay short.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace dsmoe::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  void update(uint64_t done, uint64_t total);  // bytes (or any unit) done of total
  void finish();                               // the final line and a newline

 private:
  std::string label_;
  bool terminal_;
  int last_percent_ = -1;
  std::chrono::steady_clock::time_point start_;
  uint64_t done_ = 0, total_ = 0;
};

}  // namespace dsmoe::cli
