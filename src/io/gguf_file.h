// One GGUF file (versions 2 and 3, little-endian), as llama.cpp writes them:
//
//   "GGUF", u32 version, i64 tensor count, i64 metadata count,
//   metadata: {string key, u32 type, value}...,   strings are u64 length + bytes; arrays u32 type, u64 count, items
//   tensor infos: {string name, u32 n_dims, i64 ne[n_dims] (innermost first), u32 ggml type, u64 offset}...,
//   padding to `alignment` (general.alignment, else 32), then the data section; offsets are relative to it.
//
// Everything is validated against the file size before anything proportional to a claimed count is allocated:
// counts, string lengths and array lengths must fit in the bytes that remain; arrays nest at most
// kGgufMaxArrayDepth deep; keys and tensor names are non-empty and unique; tensors have 1..4 dimensions, each
// >= 0 (llama.cpp accepts empty tensors too), an element count that fits in int64, a type dsmoe reads, whole
// blocks per row, and an aligned byte range inside the data section that overlaps no other tensor's.
// Every Error names the file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/mapped_file.h"
#include "core/tensor_view.h"
#include "io/gguf_value.h"

namespace dsmoe {

inline constexpr uint32_t kGgufDefaultAlignment = 32;
// Arrays of arrays deeper than this are refused: no real file nests at all, and the bound keeps the
// recursive reader's stack small on hostile input.
inline constexpr int kGgufMaxArrayDepth = 8;

class GgufCursor;  // the bounds-checked byte reader, in gguf_file.cpp

struct GgufTensorInfo {
  std::string name;
  uint32_t ggml_type = 0;
  DType dtype = DType::F32;
  std::vector<int64_t> ne;  // innermost first, as in the file: ne[0] is the row length
  uint64_t offset = 0;      // from the start of the data section
  TensorView view;          // shape outermost first (ne reversed); data points into the file's bytes
};

class GgufFile {
 public:
  // kMap uses the weights in place; kReadIntoMemory reads the whole file into memory first (`--no-mmap`).
  explicit GgufFile(const std::string& path, FileAccess access = FileAccess::kMap);

  const std::string& path() const { return file_.path(); }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // where the data section starts in the file

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }  // file order
  const GgufValue* find(const std::string& key) const;                                          // nullptr when absent
  const GgufValue& require(const std::string& key) const;  // an Error naming the file and key when absent
  // "model.gguf: metadata 'llama.block_count'", the `where` to pass to GgufValue's accessors.
  std::string key_context(const std::string& key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }  // file order
  const GgufTensorInfo* find_tensor(const std::string& name) const;        // nullptr when absent

 private:
  void read_header_and_metadata(GgufCursor& cursor, uint64_t* tensor_count);
  void read_tensor_infos(GgufCursor& cursor, uint64_t tensor_count);
  void place_tensors();

  MappedFile file_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::unordered_map<std::string, size_t> key_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
  // Tensors whose bytes are not aligned to their element size (a file with general.alignment < 4) are copied.
  std::vector<std::unique_ptr<float[]>> aligned_copies_;
};

}  // namespace dsmoe
