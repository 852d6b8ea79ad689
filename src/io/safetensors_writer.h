// Writes one .safetensors file tensor by tensor: the header (with every offset) is known from the declared
// tensors, so the data can be streamed in declared order without holding more than one tensor. Written to
// `path + ".partial"` and renamed on finish().
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace dsmoe {

class SafetensorsWriter {
 public:
  struct Entry {
    std::string name;
    DType dtype;  // F32, F16 or BF16
    std::vector<int64_t> shape;
  };
  SafetensorsWriter(std::string path, std::vector<Entry> entries);  // writes the header
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  void write_tensor(const std::string& name, const void* bytes, size_t n);  // in declared order
  void finish();

 private:
  std::string path_;
  std::vector<Entry> entries_;
  std::vector<size_t> sizes_;
  size_t next_ = 0;
  std::ofstream out_;
  bool finished_ = false;
};

}  // namespace dsmoe
