// The per-format row functions behind quantize_row and quantize_activation_row, and the helpers that all the
// quant/*.cpp files share. Internal to src/quant.
//
// Bit-exactness with llama.cpp needs every float expression rounded as written: GCC contracts a*b+c into one
// fused multiply-add under -march=native (C++ defaults to -ffp-contract=fast), which rounds once instead of
// twice and changes quants and dot products. llama.cpp's reference builds have no FMA, and gguf-py (NumPy)
// never fuses, so the files that include this header turn contraction off for themselves.
#pragma once

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <cstdint>
#include <cstring>

#include "core/dtype.h"
#include "quant/block_formats.h"

namespace dsmoe::quant {

// Block `index` of a row, copied out (rows are only 2-byte aligned, and memcpy keeps the aliasing rules).
template <typename Block>
inline Block load_block(const void* row, int64_t index) {
  Block block;
  std::memcpy(&block, static_cast<const unsigned char*>(row) + size_t(index) * sizeof(Block), sizeof block);
  return block;
}

template <typename Block>
inline void store_block(void* row, int64_t index, const Block& block) {
  std::memcpy(static_cast<unsigned char*>(row) + size_t(index) * sizeof(Block), &block, sizeof block);
}

// Round to nearest, ties to even, for |value| <= 2^22: adding 1.5 * 2^23 leaves the rounded integer in the low
// mantissa bits. The K-quant reference quantizers round this way (the legacy ones use roundf or truncation).
inline int nearest_int(float value) {
  const float shifted = value + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  return (bits & 0x007fffff) - 0x00400000;
}

// std::round (halves away from zero), bit for bit for |value| < 2^23, in operations a compiler vectorizes
// (std::round is a library call at the baseline instruction set): the truncation is exact there, so is the
// fraction it leaves, and a fraction of at least one half steps away from zero. (A zero's sign may differ:
// the quantizers convert the result to an integer.)
inline float round_half_away(float value) {
  const float truncated = float(int32_t(value));
  const float fraction = value - truncated;
  return truncated + (fraction >= 0.5f ? 1.0f : fraction <= -0.5f ? -1.0f : 0.0f);
}

// llama.cpp's reference quantizers, one row of `blocks` blocks each (quantize_legacy.cpp, quantize_k.cpp).
void quantize_q8_0(const float* x, void* dst, int64_t blocks);
void quantize_q8_1(const float* x, void* dst, int64_t blocks);
void quantize_q4_0(const float* x, void* dst, int64_t blocks);
void quantize_q4_1(const float* x, void* dst, int64_t blocks);
void quantize_q5_0(const float* x, void* dst, int64_t blocks);
void quantize_q5_1(const float* x, void* dst, int64_t blocks);
void quantize_q4_k(const float* x, void* dst, int64_t blocks);
void quantize_q5_k(const float* x, void* dst, int64_t blocks);
void quantize_q6_k(const float* x, void* dst, int64_t blocks);
void quantize_q8_k(const float* x, void* dst, int64_t blocks);

// Blocks in a row of n values of a block format; an Error when n is not a whole number of blocks.
int64_t row_blocks(DType type, int64_t n, const char* caller);

}  // namespace dsmoe::quant
