// Storage types of weights and their conversions to float32, the compute type.
//
// Element formats (F32, F16, BF16) store one value per element. Block formats (llama.cpp's Q8_0, Q4_0, Q4_1,
// Q5_0, Q5_1 with 32 elements a block, and the K-quants Q4_K, Q5_K, Q6_K with 256) store a fixed number of
// elements in a fixed number of bytes; a row holds whole blocks. Their layouts are in src/quant/block_formats.h.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace dsmoe {

enum class DType : uint8_t { F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K };
inline constexpr int kDTypeCount = 11;

struct DTypeInfo {
  std::string_view name;   // "F32", "BF16", "Q4_K": safetensors' spelling for element formats, ggml's for blocks
  int64_t block_elements;  // 1 for element formats
  size_t block_bytes;      // bytes of one block (of one element for element formats)
  uint32_t ggml_type;      // the type id in GGUF tensor infos (enum ggml_type)
};

const DTypeInfo& dtype_info(DType type);
inline std::string_view dtype_name(DType type) { return dtype_info(type).name; }
inline bool is_block_format(DType type) { return dtype_info(type).block_elements > 1; }
inline int64_t dtype_block_elements(DType type) { return dtype_info(type).block_elements; }

// Bytes per element of an element format; an Error for block formats (use dtype_row_bytes).
size_t dtype_size(DType type);
// Bytes of a row of n elements; n must be a multiple of the block size (an Error otherwise).
size_t dtype_row_bytes(DType type, int64_t n);

bool parse_dtype(std::string_view name, DType* out);  // any name above, case-insensitive; false when unknown
bool dtype_from_ggml_type(uint32_t ggml_type, DType* out);  // false for ggml types dsmoe cannot read
std::string ggml_type_name(uint32_t ggml_type);             // "IQ2_XXS", or "type 99" when unknown

inline float bf16_to_f32(uint16_t bits) {
  const uint32_t wide = uint32_t(bits) << 16;
  float value;
  std::memcpy(&value, &wide, sizeof value);
  return value;
}

// Round to nearest even, as torch's .to(torch.bfloat16) does; NaN stays NaN.
inline uint16_t f32_to_bf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40u);
  const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t((bits + rounding) >> 16);
}

float f16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);

// Converts n elements stored in an element format (possibly unaligned) to float32. Block formats go through
// dequantize_row (src/quant/quantize.h), which accepts every type.
void convert_to_f32(DType type, const void* src, float* dst, size_t n);

}  // namespace dsmoe
