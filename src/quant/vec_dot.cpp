// Dot products of a weight row in a block format with an activation row quantized to its paired format, as
// ggml's generic (scalar) kernels compute them: exact integer sums inside a block, one float scaling per block
// (or per super-block), accumulated in float32 in block order. The K-quant kernels accumulate in eight float
// lanes (element e of a super-block goes to lane e % 8) and add the lanes at the end, as ggml's generic code
// does; the association of every float product below is ggml's, so the results are bit-equal to it.
#include "quant/row_kernels.h"
// (row_kernels.h first: its pragma must precede every function of this file.)
#include "core/errors.h"
#include "quant/vec_dot.h"

namespace dsmoe {
namespace quant {
namespace {

constexpr int kHalf = kLegacyBlock / 2;

// Sum of the 4-bit weight quants (minus `bias`) times the activation quants: element i is in the low nibble
// of qs[i], element i + 16 in the high nibble.
int dot_nibbles(const uint8_t* qs, int bias, const int8_t* a) {
  int sum = 0;
  for (int i = 0; i < kHalf; ++i) {
    sum += ((qs[i] & 0xF) - bias) * a[i];
    sum += ((qs[i] >> 4) - bias) * a[i + kHalf];
  }
  return sum;
}

int dot_five_bit(const uint8_t* qs, const uint8_t* qh_bytes, int bias, const int8_t* a) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof qh);
  int sum = 0;
  for (int i = 0; i < kHalf; ++i) {
    const int q0 = (qs[i] & 0xF) | int(((qh >> i) & 1u) << 4);
    const int q1 = (qs[i] >> 4) | int(((qh >> (i + kHalf)) & 1u) << 4);
    sum += (q0 - bias) * a[i] + (q1 - bias) * a[i + kHalf];
  }
  return sum;
}

float dot_q8_0(const void* w, const void* act, int64_t blocks) {
  float sum = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    const auto x = load_block<BlockQ8_0>(w, b);
    const auto y = load_block<BlockQ8_0>(act, b);
    int sumi = 0;
    for (int i = 0; i < kLegacyBlock; ++i) sumi += x.qs[i] * y.qs[i];
    sum += float(sumi) * (f16_to_f32(x.d) * f16_to_f32(y.d));
  }
  return sum;
}

float dot_q4_0(const void* w, const void* act, int64_t blocks) {
  float sum = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    const auto x = load_block<BlockQ4_0>(w, b);
    const auto y = load_block<BlockQ8_0>(act, b);
    const int sumi = dot_nibbles(x.qs, 8, y.qs);
    sum += float(sumi) * f16_to_f32(x.d) * f16_to_f32(y.d);
  }
  return sum;
}

float dot_q5_0(const void* w, const void* act, int64_t blocks) {
  float sum = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    const auto x = load_block<BlockQ5_0>(w, b);
    const auto y = load_block<BlockQ8_0>(act, b);
    const int sumi = dot_five_bit(x.qs, x.qh, 16, y.qs);
    sum += (f16_to_f32(x.d) * f16_to_f32(y.d)) * float(sumi);
  }
  return sum;
}

// Q4_1 / Q5_1: sum(d q + m)(d_a a) = d d_a sum(q a) + m (d_a sum(a)), the last factor being Q8_1's s.
float dot_q4_1(const void* w, const void* act, int64_t blocks) {
  float sum = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    const auto x = load_block<BlockQ4_1>(w, b);
    const auto y = load_block<BlockQ8_1>(act, b);
    const int sumi = dot_nibbles(x.qs, 0, y.qs);
    sum += (f16_to_f32(x.d) * f16_to_f32(y.d)) * float(sumi) + f16_to_f32(x.m) * f16_to_f32(y.s);
  }
  return sum;
}

float dot_q5_1(const void* w, const void* act, int64_t blocks) {
  float sum = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    const auto x = load_block<BlockQ5_1>(w, b);
    const auto y = load_block<BlockQ8_1>(act, b);
    const int sumi = dot_five_bit(x.qs, x.qh, 0, y.qs);
    sum += (f16_to_f32(x.d) * f16_to_f32(y.d)) * float(sumi) + f16_to_f32(x.m) * f16_to_f32(y.s);
  }
  return sum;
}

// Q4_K / Q5_K: value = d sc q - dmin m, so the dot with d_a a is d d_a sum(sc q a) - dmin d_a sum(m a); the
// second sum comes from Q8_K's per-16 sums. qh == nullptr for Q4_K.
float dot_k_affine(uint16_t d_bits, uint16_t dmin_bits, const uint8_t* scales, const uint8_t* qs, const uint8_t* qh,
                   const BlockQ8_K& y, float lanes[8]) {
  int lane_sums[8] = {};
  int min_sum = 0;
  for (int sub = 0; sub < 8; ++sub) {
    const ScaleMin sm = k_scale_min(scales, sub);
    min_sum += (y.bsums[2 * sub] + y.bsums[2 * sub + 1]) * sm.min;
    const uint8_t* nibbles = qs + 32 * (sub / 2);
    const int shift = 4 * (sub % 2);
    for (int l = 0; l < 32; ++l) {
      int q = (nibbles[l] >> shift) & 0xF;
      if (qh != nullptr && ((qh[l] >> sub) & 1)) q += 16;
      lane_sums[l % 8] += sm.scale * (q * y.qs[32 * sub + l]);
    }
  }
  const float d = f16_to_f32(d_bits) * y.d;
  for (int l = 0; l < 8; ++l) lanes[l] += d * float(lane_sums[l]);
  const float dmin = f16_to_f32(dmin_bits) * y.d;
  return dmin * float(min_sum);
}

float sum_lanes(float sum, const float lanes[8]) {
  for (int l = 0; l < 8; ++l) sum += lanes[l];
  return sum;
}

float dot_q4_k(const void* w, const void* act, int64_t blocks) {
  float lanes[8] = {}, sum = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    const auto x = load_block<BlockQ4_K>(w, b);
    const auto y = load_block<BlockQ8_K>(act, b);
    sum -= dot_k_affine(x.d, x.dmin, x.scales, x.qs, nullptr, y, lanes);
  }
  return sum_lanes(sum, lanes);
}

float dot_q5_k(const void* w, const void* act, int64_t blocks) {
  float lanes[8] = {}, sum = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    const auto x = load_block<BlockQ5_K>(w, b);
    const auto y = load_block<BlockQ8_K>(act, b);
    sum -= dot_k_affine(x.d, x.dmin, x.scales, x.qs, x.qh, y, lanes);
  }
  return sum_lanes(sum, lanes);
}

float dot_q6_k(const void* w, const void* act, int64_t blocks) {
  float lanes[8] = {};
  for (int64_t b = 0; b < blocks; ++b) {
    const auto x = load_block<BlockQ6_K>(w, b);
    const auto y = load_block<BlockQ8_K>(act, b);
    int lane_sums[8] = {};
    // Quarter k (32 values) of each half: see BlockQ6_K for where its bits are.
    for (int half = 0; half < 2; ++half) {
      for (int quarter = 0; quarter < 4; ++quarter) {
        const uint8_t* ql = x.ql + 64 * half + 32 * (quarter % 2);
        const uint8_t* qh = x.qh + 32 * half;
        const int first = 128 * half + 32 * quarter;
        for (int l = 0; l < 32; ++l) {
          const int q = ((ql[l] >> (4 * (quarter / 2))) & 0xF) | (((qh[l] >> (2 * quarter)) & 3) << 4);
          lane_sums[l % 8] += x.scales[(first + l) / 16] * ((q - 32) * y.qs[first + l]);
        }
      }
    }
    const float d = f16_to_f32(x.d) * y.d;
    for (int l = 0; l < 8; ++l) lanes[l] += d * float(lane_sums[l]);
  }
  return sum_lanes(0.0f, lanes);
}

// ggml's vec_dot_type of each weight format (type_traits_cpu in ggml-cpu.c). Q8_1 and Q8_K are not DTypes:
// they never store weights.
enum class ActivationFormat { kQ8_0, kQ8_1, kQ8_K };

ActivationFormat activation_format(DType weight) {
  switch (weight) {
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q5_0:
      return ActivationFormat::kQ8_0;
    case DType::Q4_1:
    case DType::Q5_1:
      return ActivationFormat::kQ8_1;
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
      return ActivationFormat::kQ8_K;
    default:
      fail("quantized dot product: ", dtype_name(weight), " is not a block format");
  }
}

}  // namespace
}  // namespace quant

size_t activation_row_bytes(DType weight, int64_t n) {
  const int64_t blocks = quant::row_blocks(weight, n, "activation_row_bytes");
  switch (quant::activation_format(weight)) {
    case quant::ActivationFormat::kQ8_0:
      return size_t(blocks) * sizeof(quant::BlockQ8_0);
    case quant::ActivationFormat::kQ8_1:
      return size_t(blocks) * sizeof(quant::BlockQ8_1);
    case quant::ActivationFormat::kQ8_K:
      return size_t(blocks) * sizeof(quant::BlockQ8_K);
  }
  return 0;
}

bool same_activation_format(DType a, DType b) {
  return is_block_format(a) && is_block_format(b) && quant::activation_format(a) == quant::activation_format(b);
}

void quantize_activation_row(DType weight, const float* x, void* dst, int64_t n) {
  const int64_t blocks = quant::row_blocks(weight, n, "quantize_activation_row");
  switch (quant::activation_format(weight)) {
    case quant::ActivationFormat::kQ8_0:
      return quant::quantize_q8_0(x, dst, blocks);
    case quant::ActivationFormat::kQ8_1:
      return quant::quantize_q8_1(x, dst, blocks);
    case quant::ActivationFormat::kQ8_K:
      return quant::quantize_q8_k(x, dst, blocks);
  }
}

float vec_dot_row(DType weight, const void* weight_row, const void* activation_row, int64_t n) {
  const int64_t blocks = n / dtype_block_elements(weight);
  switch (weight) {
    case DType::Q8_0:
      return quant::dot_q8_0(weight_row, activation_row, blocks);
    case DType::Q4_0:
      return quant::dot_q4_0(weight_row, activation_row, blocks);
    case DType::Q4_1:
      return quant::dot_q4_1(weight_row, activation_row, blocks);
    case DType::Q5_0:
      return quant::dot_q5_0(weight_row, activation_row, blocks);
    case DType::Q5_1:
      return quant::dot_q5_1(weight_row, activation_row, blocks);
    case DType::Q4_K:
      return quant::dot_q4_k(weight_row, activation_row, blocks);
    case DType::Q5_K:
      return quant::dot_q5_k(weight_row, activation_row, blocks);
    case DType::Q6_K:
      return quant::dot_q6_k(weight_row, activation_row, blocks);
    default:
      fail("vec_dot_row: ", dtype_name(weight), " is not a block format");
  }
}

}  // namespace dsmoe
