// Writes a GGUF version 3 file (the layout is in gguf_file.h) one piece at a time, so a converter never holds
// more than one tensor: declare metadata and tensors, write_header(), then each tensor's bytes in declared
// order, then finish().
//
// The file is written to `path + ".partial"` and renamed to `path` by finish(), so an interrupted conversion
// never leaves a half-written file under the final name. A writer destroyed before finish() (an exception)
// removes its .partial file; a killed process leaves it behind, visibly incomplete.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/dtype.h"
#include "io/gguf_value.h"

namespace dsmoe {

class GgufWriter {
 public:
  // `alignment` (a power of two) pads the data section and every tensor; a value other than 32 is also recorded
  // as general.alignment, as readers expect.
  explicit GgufWriter(std::string path, uint32_t alignment = 32);
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // Metadata, kept in the order added; a repeated key is an Error. general.alignment, if given, must be the
  // UINT32 passed to the constructor.
  void add(const std::string& key, GgufValue value);
  // Declares a tensor; its data offset follows the previous tensor's, padded to the alignment.
  void add_tensor(const std::string& name, DType dtype, std::vector<int64_t> shape_outermost_first);

  void write_header();  // header, metadata, tensor infos, padding; nothing may be added after it
  // The next declared tensor's bytes: `name` must be that tensor and `n` its size (dtype_row_bytes x rows).
  void write_tensor(const std::string& name, const void* bytes, size_t n);
  void finish();  // checks every tensor was written, flushes, closes and renames .partial to the final path

  const std::string& path() const { return path_; }

 private:
  struct Declared {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;  // outermost first
    uint64_t bytes;
    uint64_t offset;
  };

  void write_bytes(const void* bytes, size_t n);
  void pad_to_alignment();

  std::string path_;
  std::string partial_path_;
  uint32_t alignment_;
  std::vector<unsigned char> metadata_bytes_;  // key, type, value for each entry, encoded as they are added
  uint64_t metadata_count_ = 0;
  bool has_alignment_key_ = false;
  std::unordered_set<std::string> keys_;
  std::vector<Declared> tensors_;
  std::unordered_set<std::string> tensor_names_;
  uint64_t next_offset_ = 0;

  std::FILE* out_ = nullptr;
  uint64_t written_ = 0;  // bytes written to the file so far
  size_t next_tensor_ = 0;
  bool header_written_ = false;
  bool finished_ = false;
};

}  // namespace dsmoe
