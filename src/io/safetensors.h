// One .safetensors file: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the data.
// Every entry is validated against the file before any byte of it is read.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "core/tensor_view.h"

namespace dsmoe {

class SafetensorsFile {
 public:
  // throws Error naming the file and tensor; kReadIntoMemory reads the file instead of mapping it (--no-mmap)
  explicit SafetensorsFile(const std::string& path, FileAccess access = FileAccess::kMap);

  const std::string& path() const { return file_.path(); }
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }

 private:
  MappedFile file_;
  std::map<std::string, TensorView> tensors_;
  // Tensors whose bytes in the file are not aligned to their element size are copied here.
  std::vector<std::unique_ptr<float[]>> aligned_copies_;
};

}  // namespace dsmoe
