// A whole file held read-only in memory. By default it is mapped, so weights are used in place and pages are
// loaded on first touch; FileAccess::kReadIntoMemory instead reads it once into an aligned heap buffer (for
// `--no-mmap`: file systems where mmap is slow or page faults during decoding are unwanted).
#pragma once

#include <cstddef>
#include <string>

namespace dsmoe {

enum class FileAccess { kMap, kReadIntoMemory };

class MappedFile {
 public:
  // Throws Error naming the path when the file cannot be opened, mapped, allocated or read.
  explicit MappedFile(const std::string& path, FileAccess access = FileAccess::kMap);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  FileAccess access() const { return access_; }

 private:
  void read_into_memory(int fd);

  std::string path_;
  FileAccess access_;
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace dsmoe
