// Conversions between float32 and the 16-bit storage types, checked against their definitions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/dtype.h"

namespace dsmoe {
namespace {

float from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

TEST(DType, Bf16IsTheUpperHalfOfFloat32) {
  std::mt19937 rng(std::random_device{}());
  for (int i = 0; i < 10000; ++i) {
    const auto bits = uint16_t(rng());
    const float value = bf16_to_f32(bits);
    const uint32_t shifted = uint32_t(bits) << 16;
    EXPECT_EQ(0, std::memcmp(&value, &shifted, 4));
    if (!std::isnan(value)) {
      EXPECT_EQ(f32_to_bf16(value), bits);  // exact values round-trip
    }
  }
}

TEST(DType, Bf16RoundsToNearestEven) {
  // 1 + 2^-8 lies halfway between bf16 1.0 (0x3f80) and 1 + 2^-7 (0x3f81): ties go to even.
  EXPECT_EQ(f32_to_bf16(from_bits(0x3f808000u)), 0x3f80);
  EXPECT_EQ(f32_to_bf16(from_bits(0x3f818000u)), 0x3f82);  // odd below: rounds up to even
  EXPECT_EQ(f32_to_bf16(from_bits(0x3f808001u)), 0x3f81);  // just above halfway
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::nanf("")))));
}

TEST(DType, F16DecodesEveryBitPatternByDefinition) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const int sign = (bits >> 15) ? -1 : 1;
    const int exponent = int((bits >> 10) & 0x1f);
    const int mantissa = int(bits & 0x3ff);
    const float got = f16_to_f32(uint16_t(bits));
    if (exponent == 31) {
      EXPECT_TRUE(mantissa ? std::isnan(got) : std::isinf(got)) << bits;
      continue;
    }
    const double want =
        exponent == 0 ? sign * std::ldexp(mantissa, -24) : sign * std::ldexp(1024 + mantissa, exponent - 25);
    ASSERT_EQ(double(got), want) << bits;
    EXPECT_EQ(f32_to_f16(got), uint16_t(bits)) << bits;  // every finite f16 round-trips
  }
}

TEST(DType, F16RoundsToNearest) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<float> pick(-60000.0f, 60000.0f);
  for (int i = 0; i < 10000; ++i) {
    const float x = pick(rng) / float(1 << (i % 20));
    const float rounded = f16_to_f32(f32_to_f16(x));
    // Neighbours one f16 step either side are not closer.
    const uint16_t bits = f32_to_f16(x);
    for (int step : {-1, 1}) {
      const float neighbour = f16_to_f32(uint16_t(bits + step));
      if (!std::isfinite(neighbour) || (std::signbit(neighbour) != std::signbit(rounded))) continue;
      EXPECT_LE(std::fabs(rounded - x), std::fabs(neighbour - x)) << x;
    }
  }
}

}  // namespace
}  // namespace dsmoe
