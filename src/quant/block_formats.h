// Byte layouts of llama.cpp's block formats (ggml-common.h), as stored in GGUF files and as the quantized
// activations of the matrix product. A row of n values is n / kElements blocks laid end to end; every
// multi-byte field is little-endian. Scales marked "f16" are IEEE binary16 bit patterns (core/dtype.h converts).
//
// Blocks are read and written with memcpy into these structs (rows are only 2-byte aligned and are bytes to
// the C++ object model), so the structs are packed and their sizes are checked against DTypeInfo::block_bytes.
#pragma once

#include <cstdint>

namespace dsmoe::quant {

inline constexpr int kLegacyBlock = 32;  // elements per block of Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q8_1
inline constexpr int kLegacyHalf = kLegacyBlock / 2;  // the 4-bit formats pair element i with element i + 16
inline constexpr int kSuperBlock = 256;  // elements per super-block of the K-quants and Q8_K

#pragma pack(push, 1)

// 8.5 bits per weight: value = d * q.
struct BlockQ8_0 {
  uint16_t d;               // f16 scale: max |x| / 127
  int8_t qs[kLegacyBlock];  // signed quants, element i at qs[i]
};

// 4.5 bits per weight: value = d * (q - 8).
struct BlockQ4_0 {
  uint16_t d;                    // f16 scale: the signed value of largest magnitude / -8
  uint8_t qs[kLegacyBlock / 2];  // element i in the low nibble of qs[i], element i + 16 in the high nibble
};

// 5 bits per weight: value = d * q + m.
struct BlockQ4_1 {
  uint16_t d;                    // f16 scale: (max - min) / 15
  uint16_t m;                    // f16 offset: the block's minimum
  uint8_t qs[kLegacyBlock / 2];  // nibbles, laid out as in BlockQ4_0
};

// 5.5 bits per weight: value = d * (q - 16), q of 5 bits.
struct BlockQ5_0 {
  uint16_t d;                    // f16 scale: the signed value of largest magnitude / -16
  uint8_t qh[4];                 // bit i (a little-endian uint32) is bit 4 of element i's quant
  uint8_t qs[kLegacyBlock / 2];  // the low 4 bits, laid out as in BlockQ4_0
};

// 6 bits per weight: value = d * q + m, q of 5 bits.
struct BlockQ5_1 {
  uint16_t d;                    // f16 scale: (max - min) / 31
  uint16_t m;                    // f16 offset: the block's minimum
  uint8_t qh[4];                 // as in BlockQ5_0
  uint8_t qs[kLegacyBlock / 2];  // as in BlockQ5_0
};

// The activation format paired with Q4_1 and Q5_1: Q8_0 plus the scaled sum of its quants, which lets the
// dot product add the weight's offset m times the activation sum with one multiplication per block.
struct BlockQ8_1 {
  uint16_t d;               // f16 scale: max |x| / 127
  uint16_t s;               // f16 of d * sum(qs)
  int8_t qs[kLegacyBlock];  // signed quants
};

// 4.5 bits per weight. Eight sub-blocks of 32; sub-block j: value = d * sc[j] * q - dmin * m[j], q of 4 bits,
// sc[j] and m[j] of 6 bits (unpacked by k_scale_min below).
struct BlockQ4_K {
  uint16_t d;                   // f16 scale of the sub-block scales
  uint16_t dmin;                // f16 scale of the sub-block minimums
  uint8_t scales[12];           // eight 6-bit scales and eight 6-bit minimums, packed
  uint8_t qs[kSuperBlock / 2];  // sub-blocks 2p and 2p+1 share qs[32p .. 32p+31]: low nibble, high nibble
};

// 5.5 bits per weight: BlockQ4_K with a fifth quant bit; q of 5 bits.
struct BlockQ5_K {
  uint16_t d;                   // f16 scale of the sub-block scales
  uint16_t dmin;                // f16 scale of the sub-block minimums
  uint8_t scales[12];           // as in BlockQ4_K
  uint8_t qh[kSuperBlock / 8];  // bit j of qh[l] is bit 4 of element l of sub-block j
  uint8_t qs[kSuperBlock / 2];  // the low 4 bits, laid out as in BlockQ4_K
};

// 6.5625 bits per weight. Sixteen sub-blocks of 16; element e: value = d * scales[e / 16] * (q - 32), q of 6
// bits. Each half of 128 elements has 64 bytes of ql and 32 of qh; its quarter k (32 elements, index l) takes
// the low 4 bits from ql[l + 32 * (k % 2)] (nibble k / 2) and the high 2 bits from bits 2k, 2k+1 of qh[l].
struct BlockQ6_K {
  uint8_t ql[kSuperBlock / 2];      // low 4 bits of the quants
  uint8_t qh[kSuperBlock / 4];      // high 2 bits of the quants
  int8_t scales[kSuperBlock / 16];  // signed 8-bit sub-block scales
  uint16_t d;                       // f16 scale of the sub-block scales
};

// The activation format paired with the K-quants: 8-bit quants under one float32 scale per 256 values, plus
// the sums of each 16 quants (the K-quant dot products use them to apply the sub-block minimums).
struct BlockQ8_K {
  float d;                          // scale: the signed value of largest magnitude / -127
  int8_t qs[kSuperBlock];           // signed quants
  int16_t bsums[kSuperBlock / 16];  // bsums[g] = sum of qs[16g .. 16g+15]
};

#pragma pack(pop)

static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// The 6-bit scale and minimum of sub-block j (0..7) of a Q4_K/Q5_K block. Bytes 0-3 hold the scales of
// sub-blocks 0-3 in their low 6 bits, bytes 4-7 their minimums; sub-blocks 4-7 keep their low 4 bits in the
// nibbles of bytes 8-11 (scale low, minimum high) and their top 2 bits in the spare top bits of bytes 0-7.
struct ScaleMin {
  uint8_t scale;
  uint8_t min;
};
inline ScaleMin k_scale_min(const uint8_t* scales, int j) {
  if (j < 4) return {uint8_t(scales[j] & 63), uint8_t(scales[j + 4] & 63)};
  return {uint8_t((scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4)),
          uint8_t((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4))};
}

}  // namespace dsmoe::quant
