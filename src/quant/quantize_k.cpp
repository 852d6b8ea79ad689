// The K-quants (Q4_K, Q5_K, Q6_K) and their activation format Q8_K, quantized as llama.cpp's reference
// quantizers do without an importance matrix. The K-quants search a few candidate scales per sub-block for the
// least weighted squared error, then quantize the sub-block scales themselves against one f16 super-block
// scale, and finally requantize every value against the scale it will actually be decoded with. The searches
// compare float sums, so their exact order of operations is kept: a different rounding picks other quants.
#include "quant/row_kernels.h"
// (row_kernels.h first: its pragma must precede every function of this file.)
#include <algorithm>
#include <cmath>

namespace dsmoe::quant {
namespace {

constexpr int kSub = 32;  // sub-block of Q4_K / Q5_K
constexpr int kSubBlocksK = kSuperBlock / kSub;

// An affine fit x ~ scale * q - offset with q in [0, max_q] for one sub-block (llama.cpp's make_qkx2_quants
// with MSE): the first guess spans [min(x, 0), max(x)], then `steps` + 1 stretched ranges are tried, each
// refined by weighted least squares for scale and minimum. Writes the chosen quants to q; returns the scale
// and sets *offset (>= 0, the negated minimum).
float fit_affine(const float* x, const float* weights, int max_q, float stretch_from, float stretch_step, int steps,
                 uint8_t* q, float* offset) {
  float min = x[0], max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < kSub; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += weights[i];
    sum_x += weights[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    std::fill(q, q + kSub, uint8_t(0));
    *offset = -min;
    return 0.0f;
  }
  auto quant_at = [&](float inverse_scale, int i) {
    return std::clamp(nearest_int(inverse_scale * (x[i] - min)), 0, max_q);
  };
  float inverse_scale = float(max_q) / (max - min);
  float scale = 1 / inverse_scale;
  float best_error = 0;
  for (int i = 0; i < kSub; ++i) {
    q[i] = uint8_t(quant_at(inverse_scale, i));
    const float diff = scale * float(q[i]) + min - x[i];
    best_error += weights[i] * (diff * diff);
  }
  uint8_t candidate[kSub];
  for (int step = 0; step <= steps; ++step) {
    inverse_scale = (stretch_from + stretch_step * float(step) + float(max_q)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < kSub; ++i) {
      const int l = quant_at(inverse_scale, i);
      candidate[i] = uint8_t(l);
      const float wl = weights[i] * float(l);
      sum_l += wl;
      sum_l2 += wl * float(l);
      sum_xl += wl * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0)) continue;
    float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (this_min > 0) {
      this_min = 0;
      this_scale = sum_xl / sum_l2;
    }
    float error = 0;
    for (int i = 0; i < kSub; ++i) {
      const float diff = this_scale * float(candidate[i]) + this_min - x[i];
      error += weights[i] * (diff * diff);
    }
    if (error < best_error) {
      std::copy(candidate, candidate + kSub, q);
      best_error = error;
      scale = this_scale;
      min = this_min;
    }
  }
  *offset = -min;
  return scale;
}

// Q4_K and Q5_K: the same scale search and packing of scales, with 4 or 5 bits per quant. Fills scales and
// the f16 scales and returns the quants (0..max_q) of the 256 values in q.
void quantize_k_affine(const float* x, int max_q, float stretch_from, int steps, uint16_t* d_out, uint16_t* dmin_out,
                       uint8_t* packed_scales, uint8_t* q) {
  float scales[kSubBlocksK], offsets[kSubBlocksK], weights[kSub];
  float max_scale = 0, max_offset = 0;
  for (int j = 0; j < kSubBlocksK; ++j) {
    const float* xs = x + kSub * j;
    // Weights favour large magnitudes: |x| plus the sub-block's RMS.
    float sum_x2 = 0;
    for (int l = 0; l < kSub; ++l) sum_x2 += xs[l] * xs[l];
    const float rms = std::sqrt(sum_x2 / float(kSub));
    for (int l = 0; l < kSub; ++l) weights[l] = rms + std::fabs(xs[l]);
    scales[j] = fit_affine(xs, weights, max_q, stretch_from, 0.1f, steps, q + kSub * j, &offsets[j]);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (offsets[j] > max_offset) max_offset = offsets[j];
  }
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_offset = max_offset > 0 ? 63.0f / max_offset : 0.0f;
  std::memset(packed_scales, 0, 12);
  for (int j = 0; j < kSubBlocksK; ++j) {
    // llama.cpp stores nearest_int into a uint8_t before clamping to 63; the cast below does the same.
    const uint8_t ls = std::min<uint8_t>(63, uint8_t(nearest_int(inv_scale * scales[j])));
    const uint8_t lm = std::min<uint8_t>(63, uint8_t(nearest_int(inv_offset * offsets[j])));
    if (j < 4) {
      packed_scales[j] = ls;
      packed_scales[j + 4] = lm;
    } else {
      packed_scales[j + 4] = uint8_t((ls & 0xF) | ((lm & 0xF) << 4));
      packed_scales[j - 4] = uint8_t(packed_scales[j - 4] | ((ls >> 4) << 6));
      packed_scales[j] = uint8_t(packed_scales[j] | ((lm >> 4) << 6));
    }
  }
  *d_out = f32_to_f16(max_scale / 63.0f);
  *dmin_out = f32_to_f16(max_offset / 63.0f);
  // Requantize against the scales as decoded; a sub-block whose scale rounded to 0 keeps the search's quants.
  for (int j = 0; j < kSubBlocksK; ++j) {
    const ScaleMin sm = k_scale_min(packed_scales, j);
    const float d = f16_to_f32(*d_out) * float(sm.scale);
    if (d == 0.0f) continue;
    const float dm = f16_to_f32(*dmin_out) * float(sm.min);
    for (int l = 0; l < kSub; ++l) {
      q[kSub * j + l] = uint8_t(std::clamp(nearest_int((x[kSub * j + l] + dm) / d), 0, max_q));
    }
  }
}

// A symmetric fit x ~ scale * q with q in [-32, 31] for 16 values (llama.cpp's make_qx_quants with weights
// x^2): the scale -32 / max is tried, then 18 nearby ones, keeping the one with the best weighted fit.
// Writes q + 32 to q_biased; returns the scale (negative when the largest-magnitude value is positive).
float fit_symmetric_q6(const float* x, int8_t* q_biased) {
  constexpr int kN = 16, kMaxQ = 32;
  float amax = 0, max = 0;
  for (int i = 0; i < kN; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax < 1e-15f) {
    std::fill(q_biased, q_biased + kN, int8_t(0));
    return 0.0f;
  }
  auto quant_at = [&](float inverse_scale, int i) {
    return std::clamp(nearest_int(inverse_scale * x[i]), -kMaxQ, kMaxQ - 1);
  };
  // Least-squares scale of a candidate: sum(w x l) / sum(w l^2) with w = x^2.
  auto sums = [&](float inverse_scale, float* sum_lx, float* sum_l2) {
    *sum_lx = 0;
    *sum_l2 = 0;
    for (int i = 0; i < kN; ++i) {
      const float l = float(quant_at(inverse_scale, i));
      const float w = x[i] * x[i];
      *sum_lx += w * x[i] * l;
      *sum_l2 += w * l * l;
    }
  };
  float inverse_scale = float(-kMaxQ) / max;
  for (int i = 0; i < kN; ++i) q_biased[i] = int8_t(quant_at(inverse_scale, i) + kMaxQ);
  float sum_lx, sum_l2;
  sums(inverse_scale, &sum_lx, &sum_l2);
  float scale = sum_l2 != 0 ? sum_lx / sum_l2 : 0.0f;
  float best = scale * sum_lx;
  for (int step = -9; step <= 9; ++step) {
    if (step == 0) continue;
    inverse_scale = -(float(kMaxQ) + 0.1f * float(step)) / max;
    sums(inverse_scale, &sum_lx, &sum_l2);
    if (sum_l2 > 0 && sum_lx * sum_lx > best * sum_l2) {
      for (int i = 0; i < kN; ++i) q_biased[i] = int8_t(quant_at(inverse_scale, i) + kMaxQ);
      scale = sum_lx / sum_l2;
      best = scale * sum_lx;
    }
  }
  return scale;
}

}  // namespace

void quantize_q4_k(const float* x, void* dst, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, x += kSuperBlock) {
    BlockQ4_K block;
    uint8_t q[kSuperBlock];
    quantize_k_affine(x, 15, -1.0f, 20, &block.d, &block.dmin, block.scales, q);
    for (int pair = 0; pair < 4; ++pair) {
      for (int l = 0; l < kSub; ++l) {
        block.qs[kSub * pair + l] = uint8_t(q[64 * pair + l] | (q[64 * pair + kSub + l] << 4));
      }
    }
    store_block(dst, b, block);
  }
}

void quantize_q5_k(const float* x, void* dst, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, x += kSuperBlock) {
    BlockQ5_K block;
    uint8_t q[kSuperBlock];
    quantize_k_affine(x, 31, -0.5f, 15, &block.d, &block.dmin, block.scales, q);
    std::memset(block.qh, 0, sizeof block.qh);
    for (int pair = 0; pair < 4; ++pair) {
      for (int l = 0; l < kSub; ++l) {
        const int low = q[64 * pair + l], high = q[64 * pair + kSub + l];
        block.qs[kSub * pair + l] = uint8_t((low & 0xF) | ((high & 0xF) << 4));
        block.qh[l] = uint8_t(block.qh[l] | ((low >> 4) << (2 * pair)) | ((high >> 4) << (2 * pair + 1)));
      }
    }
    store_block(dst, b, block);
  }
}

void quantize_q6_k(const float* x, void* dst, int64_t blocks) {
  constexpr int kGroups = kSuperBlock / 16;
  for (int64_t b = 0; b < blocks; ++b, x += kSuperBlock) {
    BlockQ6_K block;
    int8_t q[kSuperBlock];  // quant + 32, 0..63
    float scales[kGroups];
    float max_scale = 0, max_abs_scale = 0;
    for (int g = 0; g < kGroups; ++g) {
      scales[g] = fit_symmetric_q6(x + 16 * g, q + 16 * g);
      if (std::fabs(scales[g]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[g]);
        max_scale = scales[g];
      }
    }
    if (max_abs_scale < 1e-15f) {
      std::memset(&block, 0, sizeof block);
      store_block(dst, b, block);
      continue;
    }
    // The largest scale maps to -128 so that the 8-bit scales use their full range.
    const float inverse_scale = -128.0f / max_scale;
    block.d = f32_to_f16(1 / inverse_scale);
    for (int g = 0; g < kGroups; ++g) {
      block.scales[g] = int8_t(std::min(127, nearest_int(inverse_scale * scales[g])));
    }
    for (int g = 0; g < kGroups; ++g) {
      const float d = f16_to_f32(block.d) * float(block.scales[g]);
      if (d == 0.0f) continue;
      for (int i = 0; i < 16; ++i) {
        q[16 * g + i] = int8_t(std::clamp(nearest_int(x[16 * g + i] / d), -32, 31) + 32);
      }
    }
    for (int half = 0; half < 2; ++half) {
      const int8_t* qh_src = q + 128 * half;
      for (int l = 0; l < 32; ++l) {
        const int q0 = qh_src[l], q1 = qh_src[l + 32], q2 = qh_src[l + 64], q3 = qh_src[l + 96];
        block.ql[64 * half + l] = uint8_t((q0 & 0xF) | ((q2 & 0xF) << 4));
        block.ql[64 * half + l + 32] = uint8_t((q1 & 0xF) | ((q3 & 0xF) << 4));
        block.qh[32 * half + l] = uint8_t((q0 >> 4) | ((q1 >> 4) << 2) | ((q2 >> 4) << 4) | ((q3 >> 4) << 6));
      }
    }
    store_block(dst, b, block);
  }
}

void quantize_q8_k(const float* x, void* dst, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, x += kSuperBlock) {
    BlockQ8_K block;
    float amax = 0, max = 0;
    for (int i = 0; i < kSuperBlock; ++i) {
      if (std::fabs(x[i]) > amax) {
        amax = std::fabs(x[i]);
        max = x[i];
      }
    }
    if (amax == 0.0f) {
      std::memset(&block, 0, sizeof block);
      store_block(dst, b, block);
      continue;
    }
    const float inverse_scale = -127.0f / max;
    for (int i = 0; i < kSuperBlock; ++i) block.qs[i] = int8_t(std::min(127, nearest_int(inverse_scale * x[i])));
    for (int g = 0; g < kSuperBlock / 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += block.qs[16 * g + i];
      block.bsums[g] = int16_t(sum);
    }
    block.d = 1 / inverse_scale;
    store_block(dst, b, block);
  }
}

}  // namespace dsmoe::quant
