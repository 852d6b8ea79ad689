#include "wait_notice.h"

#include <unistd.h>

#include <cstdio>

namespace dsmoe::cli {
namespace {

constexpr auto kQuietPeriod = std::chrono::seconds(1);  // most waits end before anyone would wonder
constexpr auto kRedraw = std::chrono::milliseconds(200);

}  // namespace

WaitNotice::WaitNotice(std::string label, bool enabled)
    : label_(std::move(label)), start_(std::chrono::steady_clock::now()) {
  if (enabled && isatty(STDERR_FILENO) != 0) thread_ = std::thread([this] { run(); });
}

WaitNotice::~WaitNotice() { stop(); }

void WaitNotice::stop() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WaitNotice::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (wake_.wait_until(lock, start_ + kQuietPeriod, [this] { return stopping_; })) return;
  do {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "\r%s ... %.1f s", label_.c_str(), seconds);
    std::fflush(stderr);
    shown_ = true;
  } while (!wake_.wait_for(lock, kRedraw, [this] { return stopping_; }));
  if (shown_) {
    std::fputs("\r\033[K", stderr);  // erase the notice: what follows starts on a clean line
    std::fflush(stderr);
  }
}

}  // namespace dsmoe::cli
