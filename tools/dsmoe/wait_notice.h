// A notice on the terminal while something of unknown length runs (loading a model, a long prefill): nothing for
// the first second, then "label ... 2.4 s" redrawn in place until the object is stopped or destroyed, when the
// line is erased. Nothing at all when stderr is not a terminal, so logs and pipes stay clean.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace dsmoe::cli {

class WaitNotice {
 public:
  // enabled = false (--log-disable) shows nothing either.
  WaitNotice(std::string label, bool enabled);
  ~WaitNotice();
  WaitNotice(const WaitNotice&) = delete;
  WaitNotice& operator=(const WaitNotice&) = delete;

  void stop();  // erases the line; further calls do nothing

 private:
  void run();

  std::string label_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
  std::thread thread_;
};

}  // namespace dsmoe::cli
