// One GGUF metadata value: a scalar, a string, or an array of any of those (arrays of arrays included).
//
// Numeric arrays keep their elements packed as the file stores them (little-endian, no per-element object), so
// a 100k-entry token_type or score array is one allocation; string arrays are a vector of std::string. Reading
// accessors take `where` (the file and key, for messages) and throw Error when the stored type does not fit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dsmoe {

// The type tags of the GGUF format, numbered as the file stores them.
enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

bool is_gguf_value_type(uint32_t tag);                                  // a tag in 0..12
std::string_view gguf_value_type_name(GgufValueType type);              // "UINT32", "ARRAY", as gguf-py spells them
bool parse_gguf_value_type(std::string_view name, GgufValueType* out);  // the names above
size_t gguf_scalar_bytes(GgufValueType type);                           // bytes in the file; 0 for STRING and ARRAY
bool is_gguf_integer(GgufValueType type);                               // the eight integer types (not BOOL)

class GgufValue {
 public:
  GgufValue() = default;  // UINT8 0

  static GgufValue uint8(uint8_t v);
  static GgufValue int8(int8_t v);
  static GgufValue uint16(uint16_t v);
  static GgufValue int16(int16_t v);
  static GgufValue uint32(uint32_t v);
  static GgufValue int32(int32_t v);
  static GgufValue uint64(uint64_t v);
  static GgufValue int64(int64_t v);
  static GgufValue float32(float v);
  static GgufValue float64(double v);
  static GgufValue bool_(bool v);
  static GgufValue string(std::string v);
  // An array of `element_type`; every item must be a value of that type (arrays: any element type each).
  static GgufValue array(GgufValueType element_type, std::vector<GgufValue> items);
  static GgufValue string_array(std::vector<std::string> items);
  static GgufValue int32_array(const std::vector<int32_t>& items);
  static GgufValue uint32_array(const std::vector<uint32_t>& items);
  static GgufValue int64_array(const std::vector<int64_t>& items);
  static GgufValue float32_array(const std::vector<float>& items);
  // `count` elements of a numeric or BOOL type, laid out as in the file (little-endian, bool as one byte).
  static GgufValue packed_array(GgufValueType element_type, const void* bytes, size_t count);

  GgufValueType type() const { return type_; }
  bool is_array() const { return type_ == GgufValueType::kArray; }

  int64_t as_int64(std::string_view where = {}) const;              // any integer type whose value fits
  uint64_t as_uint64(std::string_view where = {}) const;            // any integer type whose value is >= 0
  double as_double(std::string_view where = {}) const;              // FLOAT32, FLOAT64 or any integer type
  bool as_bool(std::string_view where = {}) const;                  // BOOL only
  const std::string& as_string(std::string_view where = {}) const;  // STRING only

  GgufValueType array_type(std::string_view where = {}) const;    // arrays only
  size_t size(std::string_view where = {}) const;                 // arrays only: the element count
  GgufValue at(size_t index, std::string_view where = {}) const;  // one element, as a value of array_type()

  const std::vector<std::string>& as_string_array(std::string_view where = {}) const;  // arrays of STRING
  std::vector<int64_t> as_int64_array(std::string_view where = {}) const;              // arrays of any integer type
  std::vector<float> as_float_array(std::string_view where = {}) const;                // arrays of FLOAT32
  const std::vector<GgufValue>& as_array_array(std::string_view where = {}) const;     // arrays of ARRAY
  // Arrays of numeric types or BOOL: the element bytes as the file stores them (size() x gguf_scalar_bytes).
  const std::vector<unsigned char>& packed_elements(std::string_view where = {}) const;

  // Scalars of numeric types or BOOL: the value's bits, zero-extended (floats as their IEEE bit pattern).
  uint64_t scalar_bits() const { return bits_; }

  // Bitwise equality (a NaN equals the same NaN), used by tests and duplicate checks.
  bool operator==(const GgufValue& other) const = default;

 private:
  [[noreturn]] void type_error(std::string_view where, std::string_view expected) const;
  void expect_array(std::string_view where) const;

  GgufValueType type_ = GgufValueType::kUint8;
  GgufValueType element_type_ = GgufValueType::kUint8;  // arrays only
  uint64_t bits_ = 0;                                   // numeric and BOOL scalars
  std::string string_;                                  // STRING
  std::vector<unsigned char> packed_;                   // arrays of numeric types or BOOL
  std::vector<std::string> strings_;                    // arrays of STRING
  std::vector<GgufValue> arrays_;                       // arrays of ARRAY
};

}  // namespace dsmoe
