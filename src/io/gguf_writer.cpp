#include "io/gguf_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "core/errors.h"

namespace dsmoe {
namespace {

constexpr uint32_t kVersion = 3;

void append(std::vector<unsigned char>& out, const void* bytes, size_t n) {
  const auto* begin = static_cast<const unsigned char*>(bytes);
  out.insert(out.end(), begin, begin + n);
}

template <typename T>
void append_scalar(std::vector<unsigned char>& out, T value) {
  append(out, &value, sizeof value);  // the host is little-endian (gguf_value.cpp)
}

void append_string(std::vector<unsigned char>& out, const std::string& text) {
  append_scalar<uint64_t>(out, text.size());
  append(out, text.data(), text.size());
}

// A value without its leading type tag: what follows the tag in a metadata entry or an array.
void append_payload(std::vector<unsigned char>& out, const GgufValue& value) {
  const GgufValueType type = value.type();
  if (type == GgufValueType::kString) {
    append_string(out, value.as_string());
  } else if (type != GgufValueType::kArray) {
    const uint64_t bits = value.scalar_bits();
    append(out, &bits, gguf_scalar_bytes(type));
  } else {
    const GgufValueType element_type = value.array_type();
    append_scalar<uint32_t>(out, uint32_t(element_type));
    append_scalar<uint64_t>(out, value.size());
    if (element_type == GgufValueType::kString) {
      for (const std::string& item : value.as_string_array()) append_string(out, item);
    } else if (element_type == GgufValueType::kArray) {
      for (const GgufValue& item : value.as_array_array()) append_payload(out, item);
    } else {
      const std::vector<unsigned char>& packed = value.packed_elements();
      append(out, packed.data(), packed.size());
    }
  }
}

uint64_t round_up(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

}  // namespace

GgufWriter::GgufWriter(std::string path, uint32_t alignment)
    : path_(std::move(path)), partial_path_(path_ + ".partial"), alignment_(alignment) {
  if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0) {
    fail(path_, ": GGUF alignment ", alignment_, " is not a power of two");
  }
}

GgufWriter::~GgufWriter() {
  if (out_ != nullptr) std::fclose(out_);
  if (header_written_ && !finished_) std::remove(partial_path_.c_str());
}

void GgufWriter::add(const std::string& key, GgufValue value) {
  if (header_written_) fail(path_, ": metadata '", key, "' added after the header was written");
  if (key.empty()) fail(path_, ": metadata keys must not be empty");
  if (!keys_.insert(key).second) fail(path_, ": duplicate metadata key '", key, "'");
  if (key == "general.alignment") {
    if (value.type() != GgufValueType::kUint32 || value.scalar_bits() != alignment_) {
      fail(path_, ": general.alignment must be the UINT32 ", alignment_, " the writer was created with");
    }
    has_alignment_key_ = true;
  }
  append_string(metadata_bytes_, key);
  append_scalar<uint32_t>(metadata_bytes_, uint32_t(value.type()));
  append_payload(metadata_bytes_, value);
  ++metadata_count_;
}

void GgufWriter::add_tensor(const std::string& name, DType dtype, std::vector<int64_t> shape_outermost_first) {
  if (header_written_) fail(path_, ": tensor '", name, "' declared after the header was written");
  if (name.empty()) fail(path_, ": tensor names must not be empty");
  if (!tensor_names_.insert(name).second) fail(path_, ": duplicate tensor name '", name, "'");
  const std::vector<int64_t>& shape = shape_outermost_first;
  if (shape.empty() || shape.size() > 4)
    fail(path_, ": tensor '", name, "' has ", shape.size(), " dims, expected 1 to 4");
  int64_t numel = 1;
  for (const int64_t extent : shape) {
    if (extent < 0) fail(path_, ": tensor '", name, "' has a negative extent ", extent);
    if (extent != 0 && numel > std::numeric_limits<int64_t>::max() / extent) {
      fail(path_, ": tensor '", name, "' element count overflows int64");
    }
    numel *= extent;
  }
  const int64_t row_elements = shape.back();
  if (row_elements % dtype_block_elements(dtype) != 0) {
    fail(path_, ": tensor '", name, "' rows of ", row_elements, " elements are not whole ", dtype_name(dtype),
         " blocks of ", dtype_block_elements(dtype));
  }
  const uint64_t blocks = uint64_t(numel / dtype_block_elements(dtype));
  const size_t block_bytes = dtype_info(dtype).block_bytes;
  if (blocks > std::numeric_limits<uint64_t>::max() / 2 / block_bytes) {
    fail(path_, ": tensor '", name, "' size in bytes overflows");
  }
  const uint64_t bytes = blocks * block_bytes;
  tensors_.push_back({name, dtype, std::move(shape_outermost_first), bytes, next_offset_});
  next_offset_ += round_up(bytes, alignment_);
}

void GgufWriter::write_header() {
  if (header_written_) fail(path_, ": write_header called twice");
  if (alignment_ != 32 && !has_alignment_key_) add("general.alignment", GgufValue::uint32(alignment_));
  out_ = std::fopen(partial_path_.c_str(), "wb");
  if (out_ == nullptr) fail(partial_path_, ": cannot create: ", std::strerror(errno));
  header_written_ = true;

  std::vector<unsigned char> header;
  header.insert(header.end(), {'G', 'G', 'U', 'F'});
  append_scalar<uint32_t>(header, kVersion);
  append_scalar<uint64_t>(header, tensors_.size());
  append_scalar<uint64_t>(header, metadata_count_);
  write_bytes(header.data(), header.size());
  write_bytes(metadata_bytes_.data(), metadata_bytes_.size());
  metadata_bytes_ = {};

  std::vector<unsigned char> infos;
  for (const Declared& tensor : tensors_) {
    append_string(infos, tensor.name);
    append_scalar<uint32_t>(infos, uint32_t(tensor.shape.size()));
    for (auto it = tensor.shape.rbegin(); it != tensor.shape.rend(); ++it) append_scalar<int64_t>(infos, *it);
    append_scalar<uint32_t>(infos, dtype_info(tensor.dtype).ggml_type);
    append_scalar<uint64_t>(infos, tensor.offset);
  }
  write_bytes(infos.data(), infos.size());
  pad_to_alignment();
}

void GgufWriter::write_tensor(const std::string& name, const void* bytes, size_t n) {
  if (!header_written_) fail(path_, ": tensor '", name, "' written before write_header()");
  if (next_tensor_ >= tensors_.size()) fail(path_, ": tensor '", name, "' written but every declared tensor is done");
  const Declared& expected = tensors_[next_tensor_];
  if (name != expected.name) {
    fail(path_, ": tensor '", name, "' written where '", expected.name, "' comes next in declared order");
  }
  if (n != expected.bytes) {
    fail(path_, ": tensor '", name, "' (", dtype_name(expected.dtype), " ",
         shape_string(expected.shape.data(), expected.shape.size()), ") needs ", expected.bytes, " bytes, got ", n);
  }
  write_bytes(bytes, n);
  pad_to_alignment();
  ++next_tensor_;
}

void GgufWriter::finish() {
  if (!header_written_) write_header();
  if (next_tensor_ != tensors_.size()) {
    fail(path_, ": finish() with ", tensors_.size() - next_tensor_, " declared tensors not written (next: '",
         tensors_[next_tensor_].name, "')");
  }
  const bool flushed = std::fflush(out_) == 0;
  const int flush_errno = errno;
  const bool closed = std::fclose(out_) == 0;
  out_ = nullptr;
  if (!flushed || !closed) fail(partial_path_, ": write failed: ", std::strerror(flushed ? errno : flush_errno));
  if (std::rename(partial_path_.c_str(), path_.c_str()) != 0) {
    fail(path_, ": cannot rename ", partial_path_, " into place: ", std::strerror(errno));
  }
  finished_ = true;
}

void GgufWriter::write_bytes(const void* bytes, size_t n) {
  if (n == 0) return;
  if (std::fwrite(bytes, 1, n, out_) != n) fail(partial_path_, ": write failed: ", std::strerror(errno));
  written_ += n;
}

void GgufWriter::pad_to_alignment() {
  static const unsigned char kZeros[256] = {};
  uint64_t missing = round_up(written_, alignment_) - written_;
  while (missing > 0) {
    const size_t chunk = size_t(std::min<uint64_t>(missing, sizeof kZeros));
    write_bytes(kZeros, chunk);
    missing -= chunk;
  }
}

}  // namespace dsmoe
