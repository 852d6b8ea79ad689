// Storage types of weights and their conversions to float32, the compute type.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace dsmoe {

enum class DType { F32, F16, BF16 };

size_t dtype_size(DType type);
std::string_view dtype_name(DType type);              // "F32", "F16", "BF16" as safetensors spells them
bool parse_dtype(std::string_view name, DType* out);  // false when the name is not a supported dtype

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

// Converts n elements stored as `type` (possibly unaligned) to float32.
void convert_to_f32(DType type, const void* src, float* dst, size_t n);

}  // namespace dsmoe
