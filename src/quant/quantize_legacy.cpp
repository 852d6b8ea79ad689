// The 32-element formats, quantized as llama.cpp's reference quantizers do (quantize_row_*_ref). Each choice
// below that looks arbitrary (the reciprocal taken once, truncation after adding 0.5 or 8.5, roundf's ties away
// from zero, the first element of largest magnitude winning) is there because it decides the bytes.
#include "quant/row_kernels.h"
// (row_kernels.h first: its pragma must precede every function of this file.)
#include <algorithm>
#include <cfloat>
#include <cmath>

namespace dsmoe::quant {
namespace {

// The element of largest magnitude, sign kept; the first one wins a tie.
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (amax < std::fabs(x[i])) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  return max;
}

float absmax(const float* x, int n) {
  float amax = 0.0f;
  for (int i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  return amax;
}

struct MinMax {
  float min, max;
};
MinMax min_max(const float* x, int n) {
  MinMax r{FLT_MAX, -FLT_MAX};
  for (int i = 0; i < n; ++i) {
    if (x[i] < r.min) r.min = x[i];
    if (x[i] > r.max) r.max = x[i];
  }
  return r;
}

float reciprocal_or_zero(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }

// Symmetric 8-bit quants with roundf (ties away from zero); returns the float scale d.
float quantize_symmetric_8bit(const float* x, int8_t* qs) {
  const float d = absmax(x, kLegacyBlock) / 127.0f;
  const float id = reciprocal_or_zero(d);
  // |x * id| <= 127 (plus a rounding): round_half_away is std::round there.
  for (int i = 0; i < kLegacyBlock; ++i) qs[i] = int8_t(round_half_away(x[i] * id));
  return d;
}

// The 5-bit quants q[0..31] split into low nibbles (element i and i+16 share a byte) and the bit-4 mask.
void pack_q5(const uint8_t* q, uint8_t* qs, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int i = 0; i < kLegacyHalf; ++i) {
    qs[i] = uint8_t((q[i] & 0xF) | ((q[i + kLegacyHalf] & 0xF) << 4));
    qh |= uint32_t((q[i] >> 4) & 1) << i;
    qh |= uint32_t((q[i + kLegacyHalf] >> 4) & 1) << (i + kLegacyHalf);
  }
  std::memcpy(qh_bytes, &qh, sizeof qh);
}

}  // namespace

void quantize_q8_0(const float* x, void* dst, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, x += kLegacyBlock) {
    BlockQ8_0 block;
    block.d = f32_to_f16(quantize_symmetric_8bit(x, block.qs));
    store_block(dst, b, block);
  }
}

void quantize_q8_1(const float* x, void* dst, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, x += kLegacyBlock) {
    BlockQ8_1 block;
    const float d = quantize_symmetric_8bit(x, block.qs);
    int sum = 0;
    for (int i = 0; i < kLegacyBlock; ++i) sum += block.qs[i];
    block.d = f32_to_f16(d);
    block.s = f32_to_f16(float(sum) * d);  // the float d, not its f16 rounding
    store_block(dst, b, block);
  }
}

void quantize_q4_0(const float* x, void* dst, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, x += kLegacyBlock) {
    // The extreme value maps to quant 0 (-8 * d), so the other side gets the full +7.
    const float d = signed_absmax(x, kLegacyBlock) / -8.0f;
    const float id = reciprocal_or_zero(d);
    BlockQ4_0 block;
    block.d = f32_to_f16(d);
    for (int i = 0; i < kLegacyHalf; ++i) {
      const int q0 = std::min(15, int(x[i] * id + 8.5f));  // truncation: x * id + 8.5 >= 0.5
      const int q1 = std::min(15, int(x[i + kLegacyHalf] * id + 8.5f));
      block.qs[i] = uint8_t(q0 | (q1 << 4));
    }
    store_block(dst, b, block);
  }
}

void quantize_q4_1(const float* x, void* dst, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, x += kLegacyBlock) {
    const MinMax range = min_max(x, kLegacyBlock);
    const float d = (range.max - range.min) / 15.0f;
    const float id = reciprocal_or_zero(d);
    BlockQ4_1 block;
    block.d = f32_to_f16(d);
    block.m = f32_to_f16(range.min);
    for (int i = 0; i < kLegacyHalf; ++i) {
      const int q0 = std::min(15, int((x[i] - range.min) * id + 0.5f));
      const int q1 = std::min(15, int((x[i + kLegacyHalf] - range.min) * id + 0.5f));
      block.qs[i] = uint8_t(q0 | (q1 << 4));
    }
    store_block(dst, b, block);
  }
}

void quantize_q5_0(const float* x, void* dst, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, x += kLegacyBlock) {
    const float d = signed_absmax(x, kLegacyBlock) / -16.0f;
    const float id = reciprocal_or_zero(d);
    uint8_t q[kLegacyBlock];
    for (int i = 0; i < kLegacyBlock; ++i) q[i] = uint8_t(std::min(31, int(x[i] * id + 16.5f)));
    BlockQ5_0 block;
    block.d = f32_to_f16(d);
    pack_q5(q, block.qs, block.qh);
    store_block(dst, b, block);
  }
}

void quantize_q5_1(const float* x, void* dst, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, x += kLegacyBlock) {
    const MinMax range = min_max(x, kLegacyBlock);
    const float d = (range.max - range.min) / 31.0f;
    const float id = reciprocal_or_zero(d);
    uint8_t q[kLegacyBlock];
    // No clamp to 31 here in llama.cpp either: a value rounding to 32 keeps only its low 5 bits (0).
    for (int i = 0; i < kLegacyBlock; ++i) q[i] = uint8_t(int((x[i] - range.min) * id + 0.5f));
    BlockQ5_1 block;
    block.d = f32_to_f16(d);
    block.m = f32_to_f16(range.min);
    pack_q5(q, block.qs, block.qh);
    store_block(dst, b, block);
  }
}

}  // namespace dsmoe::quant
