#include "core/dtype.h"

#include <cmath>

namespace dsmoe {

size_t dtype_size(DType type) {
  switch (type) {
    case DType::F32:
      return 4;
    case DType::F16:
      return 2;
    case DType::BF16:
      return 2;
  }
  return 0;
}

std::string_view dtype_name(DType type) {
  switch (type) {
    case DType::F32:
      return "F32";
    case DType::F16:
      return "F16";
    case DType::BF16:
      return "BF16";
  }
  return "?";
}

bool parse_dtype(std::string_view name, DType* out) {
  if (name == "F32")
    *out = DType::F32;
  else if (name == "F16")
    *out = DType::F16;
  else if (name == "BF16")
    *out = DType::BF16;
  else
    return false;
  return true;
}

// IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
float f16_to_f32(uint16_t bits) {
  const uint32_t sign = uint32_t(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  uint32_t out;
  if (exponent == 0x1f) {
    out = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    out = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    out = sign;
  } else {
    // Subnormal: value = mantissa * 2^-24, exact in float32.
    const float magnitude = std::ldexp(float(mantissa), -24);
    std::memcpy(&out, &magnitude, sizeof out);
    out |= sign;
  }
  float value;
  std::memcpy(&value, &out, sizeof value);
  return value;
}

uint16_t f32_to_f16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const uint16_t sign = uint16_t((bits >> 16) & 0x8000u);
  const float magnitude = std::fabs(value);
  if (std::isnan(value)) return uint16_t(sign | 0x7e00u);
  if (magnitude >= 65520.0f) return uint16_t(sign | 0x7c00u);  // rounds to infinity
  if (magnitude < 6.103515625e-05f) {
    // Subnormal range: quantise to multiples of 2^-24 with round-to-nearest-even.
    const float scaled = magnitude * 16777216.0f;
    return uint16_t(sign | uint16_t(std::nearbyint(scaled)));
  }
  const uint32_t abs_bits = bits & 0x7fffffffu;
  const uint32_t rounding = 0xfffu + ((abs_bits >> 13) & 1u);
  const uint32_t rounded = abs_bits + rounding;
  return uint16_t(sign | uint16_t((rounded - (112u << 23)) >> 13));
}

void convert_to_f32(DType type, const void* src, float* dst, size_t n) {
  const auto* bytes = static_cast<const unsigned char*>(src);
  switch (type) {
    case DType::F32:
      std::memcpy(dst, bytes, n * sizeof(float));
      return;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t bits;
        std::memcpy(&bits, bytes + 2 * i, 2);
        dst[i] = bf16_to_f32(bits);
      }
      return;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t bits;
        std::memcpy(&bits, bytes + 2 * i, 2);
        dst[i] = f16_to_f32(bits);
      }
      return;
  }
}

}  // namespace dsmoe
