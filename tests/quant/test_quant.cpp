// src/quant and the block-format matrix product on fresh random inputs (seed printed on failure). The
// bit-exact comparisons with llama.cpp live in check_quant.py (ctest quant.peer_*); these tests check the
// properties that hold whatever llama.cpp does: round-trip error bounds derived from each format's step,
// matmul_wt within a bound of the float reference, and results independent of the thread count.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/errors.h"
#include "core/parallel.h"
#include "ops/matmul.h"
#include "kernels/row_dot.h"
#include "quant/quantize.h"
#include "quant/row_kernels.h"
#include "quant/vec_dot.h"
#include "support/random_model.h"

namespace dsmoe {
namespace {

constexpr DType kBlockTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                                 DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K};
constexpr double kHalfUlpF16 = 1.0 / 2048;  // relative rounding of an f16 scale

std::vector<float> gaussian(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

std::vector<unsigned char> quantized(DType type, const std::vector<float>& x, int64_t rows, int64_t n) {
  const size_t row_bytes = dtype_row_bytes(type, n);
  std::vector<unsigned char> bytes(static_cast<size_t>(rows) * row_bytes);
  for (int64_t r = 0; r < rows; ++r) quantize_row(type, x.data() + r * n, bytes.data() + size_t(r) * row_bytes, n);
  return bytes;
}

std::vector<float> round_trip(DType type, const std::vector<float>& x) {
  const int64_t n = int64_t(x.size());
  const auto bytes = quantized(type, x, 1, n);
  std::vector<float> back(x.size());
  dequantize_row(type, bytes.data(), back.data(), n);
  return back;
}

// Rounding a value to f16: half an ulp, relative 2^-11 for normal values and 2^-25 absolute for subnormal ones.
double f16_error(double value) { return std::max(std::fabs(value) * kHalfUlpF16, 0x1p-25); }

// Largest error a legacy format allows in a block, from its definition: half a step for rounded quants, a
// full step on the clipped side of Q4_0/Q5_0 (the extreme maps to -8 or -16, its mirror to 7 or 15), plus the
// f16 rounding of the scale times the largest quant and of the minimum.
double legacy_block_bound(DType type, const float* x) {
  float amax = 0, min = x[0], max = x[0];
  for (int i = 0; i < 32; ++i) {
    amax = std::max(amax, std::fabs(x[i]));
    min = std::min(min, x[i]);
    max = std::max(max, x[i]);
  }
  const double range = double(max) - min;
  switch (type) {
    case DType::Q8_0:
      return amax / 127.0 * 0.5 + 127 * f16_error(amax / 127.0);
    case DType::Q4_0:
      return amax / 8.0 + 8 * f16_error(amax / 8.0);
    case DType::Q5_0:
      return amax / 16.0 + 16 * f16_error(amax / 16.0);
    case DType::Q4_1:
      return range / 15 * 0.5 + 15 * f16_error(range / 15) + f16_error(min);
    case DType::Q5_1:
      return range / 31 * 0.5 + 31 * f16_error(range / 31) + f16_error(min);
    default:
      return 0;
  }
}

TEST(QuantRoundTrip, LegacyFormatsWithinHalfAStepPerBlock) {
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for (DType type : {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1}) {
    for (float scale : {1.0f, 1e-3f, 300.0f}) {
      const auto x = gaussian(1024, rng, scale);
      const auto back = round_trip(type, x);
      double worst = 0;  // error / bound
      for (size_t b = 0; b < x.size(); b += 32) {
        const double bound = legacy_block_bound(type, x.data() + b) * (1 + 1e-6) + 1e-30;
        for (size_t i = b; i < b + 32; ++i) worst = std::max(worst, std::fabs(double(back[i]) - x[i]) / bound);
      }
      EXPECT_LE(worst, 1.0) << dtype_name(type) << " scale " << scale;
    }
  }
}

// The K-quants choose scales by a weighted least-squares search, so their bound is statistical: relative RMS
// error on Gaussian rows of 1024, about 1.25x the worst of 64 rows measured (0.076, 0.038, 0.019), the
// uniform-quantizer estimate step/sqrt(12) with step ~ sub-block max / 2^(bits-1) being 0.06, 0.03, 0.016.
TEST(QuantRoundTrip, KQuantsRelativeRmsError) {
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for (auto [type, bound] :
       {std::pair{DType::Q4_K, 0.095}, std::pair{DType::Q5_K, 0.048}, std::pair{DType::Q6_K, 0.024}}) {
    for (float scale : {1.0f, 1e-3f, 300.0f}) {
      const auto x = gaussian(1024, rng, scale);
      const auto back = round_trip(type, x);
      double err2 = 0, x2 = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        err2 += (double(back[i]) - x[i]) * (double(back[i]) - x[i]);
        x2 += double(x[i]) * x[i];
      }
      EXPECT_LE(std::sqrt(err2 / x2), bound) << dtype_name(type) << " scale " << scale;
    }
  }
}

TEST(QuantRoundTrip, ZeroRowsStayZeroAndConstantBlocksAreExactWhereRepresentable) {
  for (DType type : kBlockTypes) {
    const std::vector<float> zeros(512, 0.0f);
    for (float v : round_trip(type, zeros)) EXPECT_EQ(v, 0.0f) << dtype_name(type);
  }
  // Constant blocks whose scale is exact in f16 (127 / 127, -2 / -8, -2 / -16) land on the grid exactly.
  for (auto [type, value] :
       {std::pair{DType::Q8_0, 127.0f}, std::pair{DType::Q4_0, -2.0f}, std::pair{DType::Q5_0, -2.0f}}) {
    for (float v : round_trip(type, std::vector<float>(256, value))) EXPECT_EQ(v, value) << dtype_name(type);
  }
}

// The quantizers' vectorizable rounding against std::round: every half-way point of the 8-bit range and its
// float neighbours, then fresh random values across the range the quantizers feed it. (Equal as floats: a
// zero's sign may differ, -0.25 gives +0 where std::round gives -0, and both become the int8 quant 0.)
TEST(Quant, RoundHalfAwayIsStdRound) {
  for (int k = -260; k <= 260; ++k) {
    for (const float base : {float(k), float(k) + 0.5f, float(k) - 0.5f}) {
      for (const float v : {std::nextafter(base, -1e9f), base, std::nextafter(base, 1e9f)}) {
        ASSERT_EQ(quant::round_half_away(v), std::round(v)) << v;
      }
    }
  }
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> wide(-140.0f, 140.0f);
  for (int i = 0; i < 200000; ++i) {
    const float v = wide(rng);
    ASSERT_EQ(quant::round_half_away(v), std::round(v)) << v;
  }
}

TEST(Quant, RowsOfPartialBlocksAreRefused) {
  std::vector<float> x(300, 1.0f);
  std::vector<unsigned char> bytes(1024);
  EXPECT_THROW(quantize_row(DType::Q4_K, x.data(), bytes.data(), 300), Error);
  EXPECT_THROW(dequantize_row(DType::Q8_0, bytes.data(), x.data(), 33), Error);
  EXPECT_THROW(quantize_activation_row(DType::Q6_K, x.data(), bytes.data(), 128), Error);
  EXPECT_THROW(activation_row_bytes(DType::F16, 256), Error);
}

struct BlockWeight {
  std::vector<unsigned char> bytes;
  std::vector<float> dequantized;  // [rows, n]
  TensorView view;
};

BlockWeight make_weight(DType type, int64_t rows, int64_t n, std::mt19937& rng) {
  BlockWeight w;
  w.bytes = quantized(type, gaussian(size_t(rows * n), rng), rows, n);
  w.dequantized.resize(size_t(rows * n));
  dequantize_row(type, w.bytes.data(), w.dequantized.data(), rows * n);
  w.view.dtype = type;
  w.view.shape = {rows, n};
  w.view.data = w.bytes.data();
  return w;
}

// How far matmul_wt may be from the float reference: the activations are quantized to 8 bits per block of
// 32 (Q8_0, Q8_1, with an f16 scale) or 256 (Q8_K, float scale), so each x_i moves by at most
// step = amax / 127 / 2 + 127 f16_error(amax / 127), and the output by sum |w_i| step. Q4_1/Q5_1 split w = d q + m and
// take m times Q8_1's s = f16(d_a sum q_a) instead of m sum x: with |d q| <= |w| + |m| that adds
// |m| (2 * 32 step + f16_error(|sum x| + 32 step)) per block, |m| being at most the block's largest |w| (the
// minimum decodes to m). Float32 accumulation adds ~n 2^-24 sum|w x|, far below the rest.
double matmul_bound(DType type, const float* x, const float* w, int64_t n) {
  const int block = (type == DType::Q4_K || type == DType::Q5_K || type == DType::Q6_K) ? 256 : 32;
  const bool has_sum = type == DType::Q4_1 || type == DType::Q5_1;
  double bound = 0, magnitude = 0;
  for (int64_t b = 0; b < n; b += block) {
    double amax = 0, w_abs = 0, w_max = 0, x_sum = 0;
    for (int64_t i = b; i < b + block; ++i) {
      amax = std::max(amax, double(std::fabs(x[i])));
      w_abs += std::fabs(w[i]);
      w_max = std::max(w_max, double(std::fabs(w[i])));
      x_sum += x[i];
      magnitude += std::fabs(double(w[i]) * x[i]);
    }
    const double step = amax / 127 * 0.5 + 127 * f16_error(amax / 127);
    bound += w_abs * step;
    if (has_sum) bound += w_max * (2 * block * step + f16_error(std::fabs(x_sum) + block * step));
  }
  return bound + double(n) * magnitude * 0x1p-24;
}

TEST(QuantMatmul, BlockFormatsWithinActivationQuantizationBoundOfReference) {
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for (DType type : kBlockTypes) {
    for (auto [tokens, n, out] : {std::tuple{1, 256, 7}, std::tuple{4, 768, 37}}) {
      const BlockWeight w = make_weight(type, out, n, rng);
      const auto x = gaussian(size_t(tokens * n), rng, 2.0f);
      std::vector<float> got(size_t(tokens * out)), want(got.size());
      matmul_wt(x.data(), tokens, w.view, got.data());
      matmul_wt_reference(x.data(), tokens, w.view, want.data());
      double worst = 0;
      for (int t = 0; t < tokens; ++t) {
        for (int o = 0; o < out; ++o) {
          const double bound = matmul_bound(type, x.data() + t * n, w.dequantized.data() + o * n, n);
          worst = std::max(worst, std::fabs(double(got[t * out + o]) - want[t * out + o]) / bound);
        }
      }
      EXPECT_LE(worst, 1.0) << dtype_name(type) << " " << tokens << "x" << n << "x" << out;
    }
  }
}

// The bound above is tight enough to catch a layout slip: swapping the nibbles of a Q4_0 row's bytes (element
// i with i + 16) must move some output past it.
TEST(QuantMatmul, BoundCatchesSwappedNibbles) {
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const int64_t n = 512, out = 8;
  BlockWeight w = make_weight(DType::Q4_0, out, n, rng);
  const auto x = gaussian(size_t(n), rng);
  std::vector<float> want(static_cast<size_t>(out)), broken(static_cast<size_t>(out));
  matmul_wt_reference(x.data(), 1, w.view, want.data());
  for (size_t i = 0; i < w.bytes.size(); i += 18) {
    for (size_t j = i + 2; j < i + 18; ++j) w.bytes[j] = uint8_t((w.bytes[j] >> 4) | (w.bytes[j] << 4));
  }
  matmul_wt(x.data(), 1, w.view, broken.data());
  double worst = 0;
  for (int64_t o = 0; o < out; ++o) {
    const double bound = matmul_bound(DType::Q4_0, x.data(), w.dequantized.data() + o * n, n);
    worst = std::max(worst, std::fabs(double(broken[size_t(o)]) - want[size_t(o)]) / bound);
  }
  EXPECT_GT(worst, 1.0);
}

TEST(QuantMatmul, BitIdenticalForOneAndTwoThreads) {
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  struct RestoreThreads {
    ~RestoreThreads() { set_num_threads(0); }
  } restore;
  for (DType type : kBlockTypes) {
    const int64_t tokens = 3, n = 512, out = 53;  // 53 rows: tasks of 16 split unevenly over threads
    const BlockWeight w = make_weight(type, out, n, rng);
    const auto x = gaussian(size_t(tokens * n), rng);
    std::vector<float> one(size_t(tokens * out)), two(one.size());
    set_num_threads(1);
    matmul_wt(x.data(), tokens, w.view, one.data());
    set_num_threads(2);
    matmul_wt(x.data(), tokens, w.view, two.data());
    EXPECT_EQ(0, std::memcmp(one.data(), two.data(), one.size() * sizeof(float))) << dtype_name(type);
  }
}

// Each output is one row kernel call (the preferred instruction set's; the scalar one is vec_dot_row) on the
// weight row and the token's quantized activations.
TEST(QuantMatmul, OutputsAreVecDotsOfQuantizedActivations) {
  std::mt19937 rng(testing::fresh_seed());
  for (DType type : kBlockTypes) {
    const int64_t tokens = 2, n = 256, out = 5;
    const BlockWeight w = make_weight(type, out, n, rng);
    const auto x = gaussian(size_t(tokens * n), rng);
    std::vector<float> y(size_t(tokens * out));
    matmul_wt(x.data(), tokens, w.view, y.data());
    std::vector<unsigned char> activation(activation_row_bytes(type, n));
    for (int64_t t = 0; t < tokens; ++t) {
      quantize_activation_row(type, x.data() + t * n, activation.data(), n);
      for (int64_t o = 0; o < out; ++o) {
        float expected = 0;
        row_kernels().row_dot[int(type)](w.bytes.data() + size_t(o) * w.view.row_bytes(), activation.data(), 0, 1, n,
                                         &expected);
        EXPECT_EQ(y[size_t(t * out + o)], expected) << dtype_name(type);
      }
    }
  }
}

}  // namespace
}  // namespace dsmoe
