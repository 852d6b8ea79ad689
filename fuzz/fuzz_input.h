// Helpers shared by the libFuzzer targets: the input as a file (the parsers of model files take paths), and
// the input split into parts.
//
// Every target lets dsmoe::Error through as the expected outcome of bad input; any other exception escapes
// and libFuzzer reports it, since the CLI would print it as an internal error (exit code 2).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace dsmoe::fuzz {

// One in-memory file (memfd) per process, rewritten with each input: a regular file to every check dsmoe
// makes, reached through /proc/self/fd/N, without touching the disk.
class MemoryFile {
 public:
  MemoryFile() : fd_(memfd_create("dsmoe-fuzz", 0)) {
    if (fd_ < 0) std::abort();
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  ~MemoryFile() { close(fd_); }

  const std::string& write(const uint8_t* data, size_t size) {
    if (ftruncate(fd_, 0) != 0) std::abort();
    size_t done = 0;
    while (done < size) {
      const ssize_t n = pwrite(fd_, data + done, size - done, off_t(done));
      if (n <= 0) std::abort();
      done += size_t(n);
    }
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_ = "/proc/self/fd/" + std::to_string(fd_);
};

// The input cut at each NUL byte into at most `parts` pieces (the last one keeps any further NULs).
inline std::vector<std::string_view> split_input(const uint8_t* data, size_t size, size_t parts) {
  std::vector<std::string_view> out;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (out.size() + 1 < parts) {
    const size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) break;
    out.push_back(rest.substr(0, nul));
    rest.remove_prefix(nul + 1);
  }
  out.push_back(rest);
  return out;
}

}  // namespace dsmoe::fuzz
