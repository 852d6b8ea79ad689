// dequantize_row: block formats to float32. The expressions keep llama.cpp's association (scale times quant,
// then the offset; d * sc computed first for the K-quants), since that is what makes the floats bit-equal.
#include "quant/row_kernels.h"
// (row_kernels.h first: its pragma must precede every function of this file.)
#include "core/errors.h"
#include "quant/quantize.h"

namespace dsmoe {
namespace quant {
namespace {

void dequantize_q8_0(const void* src, float* y, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, y += kLegacyBlock) {
    const auto block = load_block<BlockQ8_0>(src, b);
    const float d = f16_to_f32(block.d);
    for (int i = 0; i < kLegacyBlock; ++i) y[i] = float(block.qs[i]) * d;
  }
}

void dequantize_q4_0(const void* src, float* y, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, y += kLegacyBlock) {
    const auto block = load_block<BlockQ4_0>(src, b);
    const float d = f16_to_f32(block.d);
    for (int i = 0; i < kLegacyHalf; ++i) {
      y[i] = float((block.qs[i] & 0xF) - 8) * d;
      y[i + kLegacyHalf] = float((block.qs[i] >> 4) - 8) * d;
    }
  }
}

void dequantize_q4_1(const void* src, float* y, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, y += kLegacyBlock) {
    const auto block = load_block<BlockQ4_1>(src, b);
    const float d = f16_to_f32(block.d);
    const float m = f16_to_f32(block.m);
    for (int i = 0; i < kLegacyHalf; ++i) {
      y[i] = float(block.qs[i] & 0xF) * d + m;
      y[i + kLegacyHalf] = float(block.qs[i] >> 4) * d + m;
    }
  }
}

// The 5-bit quants of a Q5_0/Q5_1 block (0..31), element order.
void unpack_q5(const uint8_t* qh_bytes, const uint8_t* qs, int* q) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof qh);
  for (int i = 0; i < kLegacyHalf; ++i) {
    q[i] = (qs[i] & 0xF) | int(((qh >> i) & 1u) << 4);
    q[i + kLegacyHalf] = (qs[i] >> 4) | int(((qh >> (i + kLegacyHalf)) & 1u) << 4);
  }
}

void dequantize_q5_0(const void* src, float* y, int64_t blocks) {
  int q[kLegacyBlock];
  for (int64_t b = 0; b < blocks; ++b, y += kLegacyBlock) {
    const auto block = load_block<BlockQ5_0>(src, b);
    const float d = f16_to_f32(block.d);
    unpack_q5(block.qh, block.qs, q);
    for (int i = 0; i < kLegacyBlock; ++i) y[i] = float(q[i] - 16) * d;
  }
}

void dequantize_q5_1(const void* src, float* y, int64_t blocks) {
  int q[kLegacyBlock];
  for (int64_t b = 0; b < blocks; ++b, y += kLegacyBlock) {
    const auto block = load_block<BlockQ5_1>(src, b);
    const float d = f16_to_f32(block.d);
    const float m = f16_to_f32(block.m);
    unpack_q5(block.qh, block.qs, q);
    for (int i = 0; i < kLegacyBlock; ++i) y[i] = float(q[i]) * d + m;
  }
}

// Q4_K and Q5_K share everything but the fifth bit (qh == nullptr for Q4_K).
void dequantize_k_affine(uint16_t d_bits, uint16_t dmin_bits, const uint8_t* scales, const uint8_t* qs,
                         const uint8_t* qh, float* y) {
  const float d = f16_to_f32(d_bits);
  const float dmin = f16_to_f32(dmin_bits);
  for (int sub = 0; sub < 8; ++sub, y += 32) {
    const ScaleMin sm = k_scale_min(scales, sub);
    const float scale = d * float(sm.scale);
    const float offset = dmin * float(sm.min);
    const uint8_t* nibbles = qs + 32 * (sub / 2);
    const int shift = 4 * (sub % 2);
    for (int l = 0; l < 32; ++l) {
      int q = (nibbles[l] >> shift) & 0xF;
      if (qh != nullptr && ((qh[l] >> sub) & 1)) q += 16;
      y[l] = scale * float(q) - offset;
    }
  }
}

void dequantize_q4_k(const void* src, float* y, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, y += kSuperBlock) {
    const auto block = load_block<BlockQ4_K>(src, b);
    dequantize_k_affine(block.d, block.dmin, block.scales, block.qs, nullptr, y);
  }
}

void dequantize_q5_k(const void* src, float* y, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, y += kSuperBlock) {
    const auto block = load_block<BlockQ5_K>(src, b);
    dequantize_k_affine(block.d, block.dmin, block.scales, block.qs, block.qh, y);
  }
}

void dequantize_q6_k(const void* src, float* y, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, y += kSuperBlock) {
    const auto block = load_block<BlockQ6_K>(src, b);
    const float d = f16_to_f32(block.d);
    // Quarter k (32 values) of each half: see BlockQ6_K for where its bits are.
    for (int half = 0; half < 2; ++half) {
      for (int quarter = 0; quarter < 4; ++quarter) {
        const uint8_t* ql = block.ql + 64 * half + 32 * (quarter % 2);
        const uint8_t* qh = block.qh + 32 * half;
        float* out = y + 128 * half + 32 * quarter;
        for (int l = 0; l < 32; ++l) {
          const int q = ((ql[l] >> (4 * (quarter / 2))) & 0xF) | (((qh[l] >> (2 * quarter)) & 3) << 4);
          out[l] = d * float(block.scales[(128 * half + 32 * quarter + l) / 16]) * float(q - 32);
        }
      }
    }
  }
}

}  // namespace

int64_t row_blocks(DType type, int64_t n, const char* caller) {
  const int64_t block = dtype_block_elements(type);
  if (n < 0 || n % block != 0) {
    fail(caller, ": a ", dtype_name(type), " row holds whole blocks of ", block, " values, not ", n);
  }
  return n / block;
}

}  // namespace quant

void dequantize_row(DType type, const void* src, float* dst, int64_t n) {
  if (!is_block_format(type)) {
    convert_to_f32(type, src, dst, size_t(n));
    return;
  }
  const int64_t blocks = quant::row_blocks(type, n, "dequantize_row");
  switch (type) {
    case DType::Q8_0:
      return quant::dequantize_q8_0(src, dst, blocks);
    case DType::Q4_0:
      return quant::dequantize_q4_0(src, dst, blocks);
    case DType::Q4_1:
      return quant::dequantize_q4_1(src, dst, blocks);
    case DType::Q5_0:
      return quant::dequantize_q5_0(src, dst, blocks);
    case DType::Q5_1:
      return quant::dequantize_q5_1(src, dst, blocks);
    case DType::Q4_K:
      return quant::dequantize_q4_k(src, dst, blocks);
    case DType::Q5_K:
      return quant::dequantize_q5_k(src, dst, blocks);
    case DType::Q6_K:
      return quant::dequantize_q6_k(src, dst, blocks);
    default:
      fail("dequantize_row: no block layout for ", dtype_name(type));
  }
}

}  // namespace dsmoe
