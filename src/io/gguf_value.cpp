#include "io/gguf_value.h"

#include <bit>
#include <cstring>
#include <limits>

#include "core/errors.h"

namespace dsmoe {
namespace {

static_assert(std::endian::native == std::endian::little,
              "packed GGUF arrays are read in place; a big-endian host would need byte swapping");

constexpr std::string_view kTypeNames[] = {"UINT8", "INT8",   "UINT16", "INT16",  "UINT32", "INT32",  "FLOAT32",
                                           "BOOL",  "STRING", "ARRAY",  "UINT64", "INT64",  "FLOAT64"};

bool is_signed_integer(GgufValueType type) {
  return type == GgufValueType::kInt8 || type == GgufValueType::kInt16 || type == GgufValueType::kInt32 ||
         type == GgufValueType::kInt64;
}

// The bits of a signed element, stored zero-extended, read back with their sign.
int64_t sign_extend(GgufValueType type, uint64_t bits) {
  switch (type) {
    case GgufValueType::kInt8:
      return int8_t(uint8_t(bits));
    case GgufValueType::kInt16:
      return int16_t(uint16_t(bits));
    case GgufValueType::kInt32:
      return int32_t(uint32_t(bits));
    default:
      return int64_t(bits);
  }
}

std::string where_text(std::string_view where) {
  return where.empty() ? std::string("GGUF metadata value") : std::string(where);
}

uint64_t load_bits(const unsigned char* bytes, size_t width) {
  uint64_t bits = 0;
  std::memcpy(&bits, bytes, width);  // little-endian host: the low bytes
  return bits;
}

GgufValue scalar(GgufValueType type, uint64_t bits) { return GgufValue::packed_array(type, &bits, 1).at(0); }

template <typename T>
GgufValue packed_from(GgufValueType type, const std::vector<T>& items) {
  return GgufValue::packed_array(type, items.data(), items.size());
}

}  // namespace

bool is_gguf_value_type(uint32_t tag) { return tag <= uint32_t(GgufValueType::kFloat64); }

std::string_view gguf_value_type_name(GgufValueType type) {
  const auto tag = uint32_t(type);
  return is_gguf_value_type(tag) ? kTypeNames[tag] : std::string_view("INVALID");
}

bool parse_gguf_value_type(std::string_view name, GgufValueType* out) {
  for (uint32_t tag = 0; tag < std::size(kTypeNames); ++tag) {
    if (kTypeNames[tag] == name) {
      *out = GgufValueType(tag);
      return true;
    }
  }
  return false;
}

size_t gguf_scalar_bytes(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32:
      return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
      return 8;
    default:
      return 0;
  }
}

bool is_gguf_integer(GgufValueType type) {
  return gguf_scalar_bytes(type) != 0 && type != GgufValueType::kBool && type != GgufValueType::kFloat32 &&
         type != GgufValueType::kFloat64;
}

GgufValue GgufValue::uint8(uint8_t v) { return scalar(GgufValueType::kUint8, v); }
GgufValue GgufValue::int8(int8_t v) { return scalar(GgufValueType::kInt8, uint8_t(v)); }
GgufValue GgufValue::uint16(uint16_t v) { return scalar(GgufValueType::kUint16, v); }
GgufValue GgufValue::int16(int16_t v) { return scalar(GgufValueType::kInt16, uint16_t(v)); }
GgufValue GgufValue::uint32(uint32_t v) { return scalar(GgufValueType::kUint32, v); }
GgufValue GgufValue::int32(int32_t v) { return scalar(GgufValueType::kInt32, uint32_t(v)); }
GgufValue GgufValue::uint64(uint64_t v) { return scalar(GgufValueType::kUint64, v); }
GgufValue GgufValue::int64(int64_t v) { return scalar(GgufValueType::kInt64, uint64_t(v)); }
GgufValue GgufValue::float32(float v) { return scalar(GgufValueType::kFloat32, std::bit_cast<uint32_t>(v)); }
GgufValue GgufValue::float64(double v) { return scalar(GgufValueType::kFloat64, std::bit_cast<uint64_t>(v)); }
GgufValue GgufValue::bool_(bool v) { return scalar(GgufValueType::kBool, v ? 1u : 0u); }

GgufValue GgufValue::string(std::string v) {
  GgufValue value;
  value.type_ = GgufValueType::kString;
  value.string_ = std::move(v);
  return value;
}

GgufValue GgufValue::array(GgufValueType element_type, std::vector<GgufValue> items) {
  if (!is_gguf_value_type(uint32_t(element_type))) fail("GGUF array: invalid element type ", uint32_t(element_type));
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].type_ != element_type) {
      fail("GGUF array of ", gguf_value_type_name(element_type), ": item ", i, " is ",
           gguf_value_type_name(items[i].type_));
    }
  }
  if (element_type == GgufValueType::kArray) {
    GgufValue value;
    value.type_ = GgufValueType::kArray;
    value.element_type_ = element_type;
    value.arrays_ = std::move(items);
    return value;
  }
  if (element_type == GgufValueType::kString) {
    std::vector<std::string> strings;
    strings.reserve(items.size());
    for (GgufValue& item : items) strings.push_back(std::move(item.string_));
    return string_array(std::move(strings));
  }
  const size_t width = gguf_scalar_bytes(element_type);
  std::vector<unsigned char> packed(items.size() * width);
  for (size_t i = 0; i < items.size(); ++i) std::memcpy(packed.data() + i * width, &items[i].bits_, width);
  return packed_array(element_type, packed.data(), items.size());
}

GgufValue GgufValue::string_array(std::vector<std::string> items) {
  GgufValue value;
  value.type_ = GgufValueType::kArray;
  value.element_type_ = GgufValueType::kString;
  value.strings_ = std::move(items);
  return value;
}

GgufValue GgufValue::int32_array(const std::vector<int32_t>& items) {
  return packed_from(GgufValueType::kInt32, items);
}
GgufValue GgufValue::uint32_array(const std::vector<uint32_t>& items) {
  return packed_from(GgufValueType::kUint32, items);
}
GgufValue GgufValue::int64_array(const std::vector<int64_t>& items) {
  return packed_from(GgufValueType::kInt64, items);
}
GgufValue GgufValue::float32_array(const std::vector<float>& items) {
  return packed_from(GgufValueType::kFloat32, items);
}

GgufValue GgufValue::packed_array(GgufValueType element_type, const void* bytes, size_t count) {
  const size_t width = gguf_scalar_bytes(element_type);
  if (width == 0) fail("GGUF packed array: element type ", gguf_value_type_name(element_type), " is not numeric");
  GgufValue value;
  value.type_ = GgufValueType::kArray;
  value.element_type_ = element_type;
  const auto* begin = static_cast<const unsigned char*>(bytes);
  value.packed_.assign(begin, begin + count * width);
  return value;
}

void GgufValue::type_error(std::string_view where, std::string_view expected) const {
  std::string found(gguf_value_type_name(type_));
  if (is_array()) found = cat("ARRAY of ", gguf_value_type_name(element_type_));
  fail(where_text(where), ": expected ", expected, ", found ", found);
}

void GgufValue::expect_array(std::string_view where) const {
  if (!is_array()) type_error(where, "an ARRAY");
}

int64_t GgufValue::as_int64(std::string_view where) const {
  if (!is_gguf_integer(type_)) type_error(where, "an integer");
  if (!is_signed_integer(type_) && bits_ > uint64_t(std::numeric_limits<int64_t>::max())) {
    fail(where_text(where), ": ", bits_, " does not fit in a signed 64-bit integer");
  }
  return sign_extend(type_, bits_);
}

uint64_t GgufValue::as_uint64(std::string_view where) const {
  if (!is_gguf_integer(type_)) type_error(where, "an integer");
  if (!is_signed_integer(type_)) return bits_;
  const int64_t value = sign_extend(type_, bits_);
  if (value < 0) fail(where_text(where), ": expected a non-negative integer, found ", value);
  return uint64_t(value);
}

double GgufValue::as_double(std::string_view where) const {
  if (type_ == GgufValueType::kFloat32) return std::bit_cast<float>(uint32_t(bits_));
  if (type_ == GgufValueType::kFloat64) return std::bit_cast<double>(bits_);
  if (!is_gguf_integer(type_)) type_error(where, "a number");
  return is_signed_integer(type_) ? double(sign_extend(type_, bits_)) : double(bits_);
}

bool GgufValue::as_bool(std::string_view where) const {
  if (type_ != GgufValueType::kBool) type_error(where, "a BOOL");
  return bits_ != 0;
}

const std::string& GgufValue::as_string(std::string_view where) const {
  if (type_ != GgufValueType::kString) type_error(where, "a STRING");
  return string_;
}

GgufValueType GgufValue::array_type(std::string_view where) const {
  expect_array(where);
  return element_type_;
}

size_t GgufValue::size(std::string_view where) const {
  expect_array(where);
  if (element_type_ == GgufValueType::kString) return strings_.size();
  if (element_type_ == GgufValueType::kArray) return arrays_.size();
  return packed_.size() / gguf_scalar_bytes(element_type_);
}

GgufValue GgufValue::at(size_t index, std::string_view where) const {
  const size_t count = size(where);
  if (index >= count) fail(where_text(where), ": index ", index, " is outside the array of ", count);
  if (element_type_ == GgufValueType::kString) return string(strings_[index]);
  if (element_type_ == GgufValueType::kArray) return arrays_[index];
  GgufValue value;
  value.type_ = element_type_;
  const size_t width = gguf_scalar_bytes(element_type_);
  value.bits_ = load_bits(packed_.data() + index * width, width);
  return value;
}

const std::vector<std::string>& GgufValue::as_string_array(std::string_view where) const {
  if (!is_array() || element_type_ != GgufValueType::kString) type_error(where, "an ARRAY of STRING");
  return strings_;
}

std::vector<int64_t> GgufValue::as_int64_array(std::string_view where) const {
  if (!is_array() || !is_gguf_integer(element_type_)) type_error(where, "an ARRAY of integers");
  const size_t width = gguf_scalar_bytes(element_type_);
  std::vector<int64_t> out;
  out.reserve(packed_.size() / width);
  for (size_t offset = 0; offset < packed_.size(); offset += width) {
    const uint64_t bits = load_bits(packed_.data() + offset, width);
    if (!is_signed_integer(element_type_) && bits > uint64_t(std::numeric_limits<int64_t>::max())) {
      fail(where_text(where), ": element ", offset / width, " (", bits, ") does not fit in a signed 64-bit integer");
    }
    out.push_back(sign_extend(element_type_, bits));
  }
  return out;
}

std::vector<float> GgufValue::as_float_array(std::string_view where) const {
  if (!is_array() || element_type_ != GgufValueType::kFloat32) type_error(where, "an ARRAY of FLOAT32");
  std::vector<float> out(packed_.size() / sizeof(float));
  if (!out.empty()) std::memcpy(out.data(), packed_.data(), packed_.size());
  return out;
}

const std::vector<GgufValue>& GgufValue::as_array_array(std::string_view where) const {
  if (!is_array() || element_type_ != GgufValueType::kArray) type_error(where, "an ARRAY of ARRAY");
  return arrays_;
}

const std::vector<unsigned char>& GgufValue::packed_elements(std::string_view where) const {
  if (!is_array() || gguf_scalar_bytes(element_type_) == 0) type_error(where, "an ARRAY of numbers or BOOL");
  return packed_;
}

}  // namespace dsmoe
