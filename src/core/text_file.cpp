#include "dsmoe/text_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/errors.h"

namespace dsmoe {
namespace {

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

struct stat regular_file_status(const std::string& path, const std::string& prefix) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) fail(prefix, path, ": cannot open: ", std::strerror(errno));
  if (!S_ISREG(info.st_mode)) fail(prefix, path, ": not a regular file (", file_kind(info.st_mode), ")");
  return info;
}

}  // namespace

void require_regular_file(const std::string& path, const std::string& prefix) { regular_file_status(path, prefix); }

std::string read_text_file(const std::string& path, const std::string& prefix, size_t max_bytes) {
  const struct stat info = regular_file_status(path, prefix);
  const size_t size = size_t(info.st_size);
  if (size > max_bytes) fail(prefix, path, ": ", size, " bytes is more than the ", max_bytes, " this file may hold");
  // O_NONBLOCK: should the path be swapped for a FIFO after the check, open does not wait for a writer.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail(prefix, path, ": cannot open: ", std::strerror(errno));
  std::string text(size, '\0');
  size_t done = 0;
  while (done < size) {
    const ssize_t got = ::read(fd, text.data() + done, size - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // the file shrank while being read: keep what was there
    done += size_t(got);
  }
  ::close(fd);
  text.resize(done);
  return text;
}

}  // namespace dsmoe
