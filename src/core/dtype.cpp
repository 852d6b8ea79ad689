#include "core/dtype.h"

#include <cctype>
#include <cmath>
#include <iterator>

#include "core/errors.h"

namespace dsmoe {

namespace {

// ggml_type ids as ggml.h numbers them (and GGUF stores them).
constexpr DTypeInfo kInfo[kDTypeCount] = {
    {"F32", 1, 4, 0},      {"F16", 1, 2, 1},      {"BF16", 1, 2, 30},    {"Q8_0", 32, 34, 8},
    {"Q4_0", 32, 18, 2},   {"Q4_1", 32, 20, 3},   {"Q5_0", 32, 22, 6},   {"Q5_1", 32, 24, 7},
    {"Q4_K", 256, 144, 12}, {"Q5_K", 256, 176, 13}, {"Q6_K", 256, 210, 14},
};

// Names of the ggml types dsmoe does not read, for error messages.
constexpr std::string_view kOtherGgmlNames[] = {
    "F32",   "F16",     "Q4_0",   "Q4_1",   "Q4_2",   "Q4_3",    "Q5_0",  "Q5_1",  "Q8_0",  "Q8_1",
    "Q2_K",  "Q3_K",    "Q4_K",   "Q5_K",   "Q6_K",   "Q8_K",    "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
    "IQ4_NL", "IQ3_S",  "IQ2_S",  "IQ4_XS", "I8",     "I16",     "I32",   "I64",   "F64",   "IQ1_M",
    "BF16",  "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0", "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8",
    "MXFP4", "NVFP4", "Q1_0",  "Q2_0"};

}  // namespace

const DTypeInfo& dtype_info(DType type) { return kInfo[static_cast<int>(type)]; }

size_t dtype_size(DType type) {
  if (is_block_format(type)) fail("internal: dtype_size(", dtype_name(type), ") of a block format");
  return dtype_info(type).block_bytes;
}

size_t dtype_row_bytes(DType type, int64_t n) {
  const DTypeInfo& info = dtype_info(type);
  if (n < 0 || n % info.block_elements != 0)
    fail("a row of ", n, " elements is not a whole number of ", info.name, " blocks of ", info.block_elements);
  return size_t(n / info.block_elements) * info.block_bytes;
}

bool parse_dtype(std::string_view name, DType* out) {
  for (int i = 0; i < kDTypeCount; ++i) {
    const std::string_view known = kInfo[i].name;
    if (known.size() != name.size()) continue;
    bool same = true;
    for (size_t c = 0; c < name.size() && same; ++c) same = std::toupper(static_cast<unsigned char>(name[c])) == known[c];
    if (same) {
      *out = static_cast<DType>(i);
      return true;
    }
  }
  return false;
}

bool dtype_from_ggml_type(uint32_t ggml_type, DType* out) {
  for (int i = 0; i < kDTypeCount; ++i) {
    if (kInfo[i].ggml_type == ggml_type) {
      *out = static_cast<DType>(i);
      return true;
    }
  }
  return false;
}

std::string ggml_type_name(uint32_t ggml_type) {
  if (ggml_type < std::size(kOtherGgmlNames)) return std::string(kOtherGgmlNames[ggml_type]);
  return cat("type ", ggml_type);
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
    default:
      fail("internal: convert_to_f32 of block format ", dtype_name(type), " (use dequantize_row)");
  }
}

}  // namespace dsmoe
