// A read-only view of a weight tensor that lives elsewhere (a memory-mapped file or a buffer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace dsmoe {

struct TensorView {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;  // row-major; element formats aligned to their size, block formats to 2 bytes
  // Rows interleaved in groups of eight (quant/interleave.h), as the eight-row kernels read them: the same bytes,
  // so sizes and offsets of whole groups are those of the plain rows. Only matrix products read such a view.
  bool row_groups = false;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  int64_t row_elements() const { return shape.empty() ? 1 : shape.back(); }
  int64_t rows() const { return row_elements() == 0 ? 0 : numel() / row_elements(); }
  // Block formats hold whole blocks per row (the innermost dimension), so bytes are rows x row bytes.
  size_t row_bytes() const { return dtype_row_bytes(dtype, row_elements()); }
  size_t bytes() const { return size_t(rows()) * row_bytes(); }
  bool empty() const { return data == nullptr; }
  std::string shape_text() const;
};

}  // namespace dsmoe
