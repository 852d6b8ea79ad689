#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/errors.h"
#include "dsmoe/text_file.h"

namespace dsmoe {
namespace {

// Huge pages are 2 MiB on x86-64 and most aarch64 kernels; a buffer aligned to that can be backed by them.
constexpr size_t kHugePageBytes = size_t(2) << 20;

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

MappedFile::MappedFile(const std::string& path, FileAccess access) : path_(path), access_(access) {
  require_regular_file(path);  // before open: opening a FIFO waits for a writer
  const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) fail(path, ": cannot open: ", std::strerror(errno));
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) fail(path, ": not a regular file");
  size_ = size_t(info.st_size);
  if (size_ == 0) return;
  if (access_ == FileAccess::kReadIntoMemory) {
    read_into_memory(fd.get());
    return;
  }
  void* mapped = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (mapped == MAP_FAILED) fail(path, ": mmap failed: ", std::strerror(errno));
  data_ = static_cast<const unsigned char*>(mapped);
}

void MappedFile::read_into_memory(int fd) {
  // aligned_alloc wants a size that is a multiple of the alignment.
  const size_t capacity = (size_ + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  auto* buffer = static_cast<unsigned char*>(std::aligned_alloc(kHugePageBytes, capacity));
  if (buffer == nullptr) fail(path_, ": cannot allocate ", size_, " bytes to read the file into memory");
#ifdef MADV_HUGEPAGE
  ::madvise(buffer, capacity, MADV_HUGEPAGE);  // advice only: without transparent huge pages it is ignored
#endif
  size_t done = 0;
  while (done < size_) {
    const ssize_t got = ::pread(fd, buffer + done, size_ - done, off_t(done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      const int err = got < 0 ? errno : 0;
      std::free(buffer);
      fail(path_, ": read failed at byte ", done, " of ", size_, ": ",
           err != 0 ? std::strerror(err) : "the file shrank while being read");
    }
    done += size_t(got);
  }
  data_ = buffer;
}

MappedFile::~MappedFile() {
  if (data_ == nullptr) return;
  if (access_ == FileAccess::kReadIntoMemory) {
    std::free(const_cast<unsigned char*>(data_));
  } else {
    ::munmap(const_cast<unsigned char*>(data_), size_);
  }
}

}  // namespace dsmoe
