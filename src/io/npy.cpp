#include "dsmoe/npy.h"

#include <fstream>

#include "core/errors.h"

namespace dsmoe {
namespace {

void write_npy_bytes(const std::string& path, const char* descr, const void* data, size_t element_size,
                     const std::vector<int64_t>& shape) {
  std::string shape_text = "(";
  size_t count = 1;
  for (int64_t d : shape) {
    shape_text += std::to_string(d) + ",";
    count *= size_t(d);
  }
  if (shape.size() > 1) shape_text.pop_back();
  shape_text += ")";
  std::string header = cat("{'descr': '", descr, "', 'fortran_order': False, 'shape': ", shape_text, ", }");
  // Magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');

  std::ofstream out(path, std::ios::binary);
  if (!out) fail(path, ": cannot create");
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t length = uint16_t(header.size());
  const char length_bytes[2] = {char(length & 0xff), char(length >> 8)};
  out.write(length_bytes, 2);
  out.write(header.data(), std::streamsize(header.size()));
  out.write(static_cast<const char*>(data), std::streamsize(count * element_size));
  if (!out) fail(path, ": write failed");
}

}  // namespace

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  write_npy_bytes(path, "<f4", data, sizeof(float), shape);
}

void write_npy(const std::string& path, const int32_t* data, const std::vector<int64_t>& shape) {
  write_npy_bytes(path, "<i4", data, sizeof(int32_t), shape);
}

}  // namespace dsmoe
