#include "progress_bar.h"

#include <unistd.h>
#include <cstdio>

#include "dsmoe/number_format.h"

namespace dsmoe::cli {

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), terminal_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(uint64_t done, uint64_t total) {
  done_ = done;
  total_ = total;
  const int percent = total == 0 ? 100 : int(100.0 * double(done) / double(total));
  if (!terminal_ && percent / 10 == last_percent_ / 10) return;
  if (terminal_ && percent == last_percent_) return;
  last_percent_ = percent;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  constexpr int kWidth = 30;
  std::string bar(size_t(kWidth * percent / 100), '#');
  bar.resize(kWidth, '.');
  const double rate = seconds > 0 ? double(done) / seconds : 0;
  const double eta = rate > 0 ? double(total - done) / rate : 0;
  std::fprintf(stderr, "%s%s [%s] %3d%%  %s of %s  %.0f s, ~%.0f s left%s", terminal_ ? "\r" : "", label_.c_str(),
               bar.c_str(), percent, human_bytes(double(done)).c_str(), human_bytes(double(total)).c_str(), seconds,
               eta, terminal_ ? "   " : "\n");
  std::fflush(stderr);
}

void ProgressBar::finish() {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "%s%s done: %s in %.1f s%s\n", terminal_ ? "\r" : "", label_.c_str(),
               human_bytes(double(done_)).c_str(), seconds, terminal_ ? "                              " : "");
}

}  // namespace dsmoe::cli
