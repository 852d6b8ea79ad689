#include "io/gguf_file.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

#include "core/errors.h"

namespace dsmoe {

// Reads little-endian fields from the file's bytes; every read is checked against what remains, and every
// Error names the file, the field being read and its byte position.
class GgufCursor {
 public:
  GgufCursor(const std::string& path, const unsigned char* data, size_t size) : path_(path), data_(data), size_(size) {}

  size_t position() const { return position_; }
  size_t remaining() const { return size_ - position_; }
  const std::string& path() const { return path_; }

  const unsigned char* take(size_t n, const std::string& field) {
    if (n > remaining()) {
      fail(path_, ": truncated: ", field, " needs ", n, " bytes at byte ", position_, " but the file has ", remaining(),
           " left");
    }
    const unsigned char* at = data_ + position_;
    position_ += n;
    return at;
  }
  uint32_t u32(const std::string& field) { return load<uint32_t>(field); }
  uint64_t u64(const std::string& field) { return load<uint64_t>(field); }

  // A u64 length and that many bytes; the length is checked against the file before any allocation.
  std::string string(const std::string& field) {
    const uint64_t length = u64(field + " length");
    if (length > remaining()) {
      fail(path_, ": ", field, " claims ", length, " bytes at byte ", position_, " but only ", remaining(),
           " remain in the file");
    }
    const unsigned char* bytes = take(size_t(length), field);
    return std::string(reinterpret_cast<const char*>(bytes), size_t(length));
  }

 private:
  template <typename T>
  T load(const std::string& field) {
    T value;
    std::memcpy(&value, take(sizeof value, field), sizeof value);  // the host is little-endian (gguf_value.cpp)
    return value;
  }

  const std::string& path_;
  const unsigned char* data_;
  size_t size_;
  size_t position_ = 0;
};

namespace {

constexpr unsigned char kMagic[4] = {'G', 'G', 'U', 'F'};
// The fewest bytes one entry can take, to bound claimed counts by the file size: a metadata entry is a key
// (8-byte length + at least 1 byte), a 4-byte type and at least a 1-byte value; a tensor info is a name
// (8 + 1), n_dims (4), at least one 8-byte dimension, a 4-byte type and an 8-byte offset.
constexpr uint64_t kMinMetadataBytes = 8 + 1 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;
constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS

std::string supported_types_text() {
  std::string text;
  for (int i = 0; i < kDTypeCount; ++i) text += cat(i == 0 ? "" : ", ", dtype_name(DType(i)));
  return text;
}

GgufValueType read_value_type(GgufCursor& cursor, const std::string& where) {
  const uint32_t tag = cursor.u32(where + " type");
  if (!is_gguf_value_type(tag)) fail(cursor.path(), ": ", where, " has unknown value type ", tag);
  return GgufValueType(tag);
}

GgufValue read_value(GgufCursor& cursor, GgufValueType type, const std::string& where, int depth);

GgufValue read_array(GgufCursor& cursor, const std::string& where, int depth) {
  if (depth > kGgufMaxArrayDepth) {
    fail(cursor.path(), ": ", where, " nests arrays more than ", kGgufMaxArrayDepth, " deep");
  }
  const GgufValueType element_type = read_value_type(cursor, where + " element");
  const uint64_t count = cursor.u64(where + " element count");
  const size_t width = gguf_scalar_bytes(element_type);
  const uint64_t min_element_bytes =
      width != 0 ? width : (element_type == GgufValueType::kString ? 8 : 4 + 8);  // a length / a type and count
  if (count > cursor.remaining() / min_element_bytes) {
    fail(cursor.path(), ": ", where, " claims ", count, " elements of ", gguf_value_type_name(element_type),
         " but only ", cursor.remaining(), " bytes remain in the file");
  }
  if (width != 0) {
    const unsigned char* bytes = cursor.take(size_t(count) * width, where);
    return GgufValue::packed_array(element_type, bytes, size_t(count));
  }
  if (element_type == GgufValueType::kString) {
    std::vector<std::string> strings;
    strings.reserve(size_t(count));
    for (uint64_t i = 0; i < count; ++i) strings.push_back(cursor.string(cat(where, " element ", i)));
    return GgufValue::string_array(std::move(strings));
  }
  std::vector<GgufValue> items;
  items.reserve(size_t(count));
  for (uint64_t i = 0; i < count; ++i) {
    items.push_back(read_value(cursor, GgufValueType::kArray, cat(where, " element ", i), depth + 1));
  }
  return GgufValue::array(GgufValueType::kArray, std::move(items));
}

GgufValue read_value(GgufCursor& cursor, GgufValueType type, const std::string& where, int depth) {
  if (type == GgufValueType::kString) return GgufValue::string(cursor.string(where));
  if (type == GgufValueType::kArray) return read_array(cursor, where, depth);
  // A scalar is a one-element packed array read back as its element.
  const unsigned char* bytes = cursor.take(gguf_scalar_bytes(type), where);
  return GgufValue::packed_array(type, bytes, 1).at(0);
}

bool is_power_of_two(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

// The alignment kernels assume for a tensor's first byte (tensor_view.h).
size_t required_alignment(DType dtype) { return is_block_format(dtype) ? 2 : dtype_info(dtype).block_bytes; }

}  // namespace

GgufFile::GgufFile(const std::string& path, FileAccess access) : file_(path, access) {
  GgufCursor cursor(file_.path(), file_.data(), file_.size());
  uint64_t tensor_count = 0;
  read_header_and_metadata(cursor, &tensor_count);
  read_tensor_infos(cursor, tensor_count);
  const uint64_t padded = (uint64_t(cursor.position()) + alignment_ - 1) / alignment_ * alignment_;
  if (padded > file_.size()) {
    if (!tensors_.empty()) {
      fail(path, ": truncated: the data section would start at byte ", padded, " but the file has ", file_.size());
    }
    data_offset_ = cursor.position();  // no tensors: llama.cpp does not pad then either
  } else {
    data_offset_ = padded;
  }
  place_tensors();
}

void GgufFile::read_header_and_metadata(GgufCursor& cursor, uint64_t* tensor_count) {
  const std::string& path = file_.path();
  if (file_.size() < 4 || std::memcmp(file_.data(), kMagic, 4) != 0) {
    fail(path, ": not a GGUF file (the first 4 bytes are not \"GGUF\")");
  }
  cursor.take(4, "magic");
  version_ = cursor.u32("version");
  // A big-endian file's small version number reads as a multiple of 65536 here (gguf-py uses the same test).
  if (version_ != 0 && (version_ & 0xffffu) == 0) {
    fail(path, ": version field reads ", version_,
         ": a big-endian (byte-swapped) GGUF file, which dsmoe does not read");
  }
  if (version_ == 1) fail(path, ": GGUF version 1 is obsolete and not supported (convert it to version 3)");
  if (version_ != 2 && version_ != 3) fail(path, ": unsupported GGUF version ", version_, " (dsmoe reads 2 and 3)");

  *tensor_count = cursor.u64("tensor count");
  const uint64_t kv_count = cursor.u64("metadata count");
  const uint64_t left = cursor.remaining();
  if (*tensor_count > left / kMinTensorInfoBytes) {
    fail(path, ": tensor count ", *tensor_count, " cannot fit in the ", left, " bytes after the header");
  }
  if (kv_count > left / kMinMetadataBytes ||
      *tensor_count * kMinTensorInfoBytes + kv_count * kMinMetadataBytes > left) {
    fail(path, ": metadata count ", kv_count, " (with ", *tensor_count, " tensors) cannot fit in the ", left,
         " bytes after the header");
  }

  metadata_.reserve(size_t(kv_count));
  for (uint64_t i = 0; i < kv_count; ++i) {
    std::string key = cursor.string(cat("metadata entry ", i, " key"));
    if (key.empty()) fail(path, ": metadata entry ", i, " has an empty key");
    if (key_index_.count(key) != 0) fail(path, ": duplicate metadata key '", key, "'");
    const std::string where = cat("metadata '", key, "'");
    const GgufValueType type = read_value_type(cursor, where);
    GgufValue value = read_value(cursor, type, where, 1);
    key_index_.emplace(key, metadata_.size());
    metadata_.emplace_back(std::move(key), std::move(value));
  }

  if (const GgufValue* alignment = find("general.alignment")) {
    if (alignment->type() != GgufValueType::kUint32) {
      fail(path, ": general.alignment must be UINT32, found ", gguf_value_type_name(alignment->type()));
    }
    const uint64_t value = alignment->as_uint64();
    if (!is_power_of_two(value)) fail(path, ": general.alignment ", value, " is not a power of two");
    alignment_ = uint32_t(value);
  }
}

void GgufFile::read_tensor_infos(GgufCursor& cursor, uint64_t tensor_count) {
  const std::string& path = file_.path();
  tensors_.reserve(size_t(tensor_count));
  for (uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensorInfo info;
    info.name = cursor.string(cat("tensor info ", i, " name"));
    if (info.name.empty()) fail(path, ": tensor info ", i, " has an empty name");
    if (tensor_index_.count(info.name) != 0) fail(path, ": duplicate tensor name '", info.name, "'");
    const std::string where = cat(path, ": tensor '", info.name, "'");
    const std::string field = cat("tensor '", info.name, "'");

    const uint32_t n_dims = cursor.u32(field + " n_dims");
    if (n_dims < 1 || n_dims > kMaxDims) fail(where, ": n_dims is ", n_dims, ", expected 1 to ", kMaxDims);
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto extent = int64_t(cursor.u64(cat(field, " ne[", d, "]")));
      if (extent < 0) fail(where, ": ne[", d, "] is ", extent, ", a negative extent");
      info.ne.push_back(extent);
      if (extent != 0 && numel > uint64_t(std::numeric_limits<int64_t>::max()) / uint64_t(extent)) {
        fail(where, ": element count of ne ", shape_string(info.ne.data(), info.ne.size()), "... overflows int64");
      }
      numel *= uint64_t(extent);
    }

    info.ggml_type = cursor.u32(field + " type");
    if (!dtype_from_ggml_type(info.ggml_type, &info.dtype)) {
      fail(where, " has type ", ggml_type_name(info.ggml_type),
           ", which dsmoe does not read; supported: ", supported_types_text());
    }
    const DTypeInfo& type = dtype_info(info.dtype);
    if (info.ne[0] % type.block_elements != 0) {
      fail(where, ": rows of ", info.ne[0], " elements are not whole ", type.name, " blocks of ", type.block_elements);
    }
    if (numel / uint64_t(type.block_elements) > std::numeric_limits<uint64_t>::max() / type.block_bytes) {
      fail(where, ": its size in bytes overflows 64 bits");
    }
    info.offset = cursor.u64(field + " offset");
    info.view.dtype = info.dtype;
    info.view.shape.assign(info.ne.rbegin(), info.ne.rend());
    tensor_index_.emplace(info.name, tensors_.size());
    tensors_.push_back(std::move(info));
  }
}

void GgufFile::place_tensors() {
  const std::string& path = file_.path();
  const uint64_t data_size = file_.size() - data_offset_;
  for (GgufTensorInfo& info : tensors_) {
    const std::string where = cat(path, ": tensor '", info.name, "'");
    const uint64_t bytes = uint64_t(info.view.bytes());
    if (info.offset % alignment_ != 0) {
      fail(where, ": offset ", info.offset, " is not a multiple of the alignment ", alignment_);
    }
    if (info.offset > data_size || bytes > data_size - info.offset) {
      fail(where, ": bytes [", info.offset, ", ", info.offset + bytes, ") of the data section lie outside its ",
           data_size, " bytes (truncated or corrupt file)");
    }
    const unsigned char* at = file_.data() + data_offset_ + info.offset;
    if (reinterpret_cast<uintptr_t>(at) % required_alignment(info.dtype) != 0) {
      auto copy = std::make_unique<float[]>((bytes + 3) / 4);
      std::memcpy(copy.get(), at, bytes);
      info.view.data = copy.get();
      aligned_copies_.push_back(std::move(copy));
    } else {
      info.view.data = at;
    }
  }

  // Overlapping tensors: sorted by offset, each non-empty range must start at or after the previous one's end.
  std::vector<size_t> order(tensors_.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors_[a].offset < tensors_[b].offset; });
  const GgufTensorInfo* previous = nullptr;
  for (const size_t index : order) {
    const GgufTensorInfo& info = tensors_[index];
    if (info.view.bytes() == 0) continue;
    if (previous != nullptr && info.offset < previous->offset + previous->view.bytes()) {
      fail(path, ": tensors '", previous->name, "' (bytes ", previous->offset, "..",
           previous->offset + previous->view.bytes(), ") and '", info.name, "' (from byte ", info.offset,
           ") overlap in the data section");
    }
    previous = &info;
  }
}

const GgufValue* GgufFile::find(const std::string& key) const {
  const auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &metadata_[it->second].second;
}

const GgufValue& GgufFile::require(const std::string& key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) fail(path(), ": missing metadata key '", key, "'");
  return *value;
}

std::string GgufFile::key_context(const std::string& key) const { return cat(path(), ": metadata '", key, "'"); }

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace dsmoe
