// Every instruction set's row kernels against the scalar twin (src/kernels/row_dot_scalar.cpp, whose block
// formats are bit-equal to ggml's generic code: tests/quant checks that against llama.cpp itself), on fresh
// random rows of every format, for 1 to 4 columns. The sets sum in different orders, so they agree to
// rounding: |simd - scalar| <= 1e-5 * sum of |term| (float32 sums of n terms err by about n * 2^-24 of that).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "kernels/row_dot.h"
#include "quant/interleave.h"
#include "quant/quantize.h"
#include "quant/vec_dot.h"
#include "support/random_model.h"

namespace dsmoe {
namespace {

struct Case {
  std::vector<unsigned char> weight;       // one row of `n` values in the format
  std::vector<float> weight_values;        // the same row dequantized
  std::vector<unsigned char> activations;  // kMaxColumns rows, `stride` bytes apart
  std::vector<float> x;                    // the float activations [kMaxColumns, n]
  size_t stride = 0;
  std::vector<unsigned char> group_activations;  // the same rows for the eight-row kernels (quant/interleave.h)
  size_t group_stride = 0;
};

Case make_case(DType type, int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> spread(0.1f, 4.0f);  // rows of different magnitudes
  Case c;
  std::vector<float> w(static_cast<size_t>(n));
  const float row_scale = spread(rng);
  for (float& v : w) v = normal(rng) * row_scale;
  c.weight.resize(dtype_row_bytes(type, n));
  quantize_row(type, w.data(), c.weight.data(), n);
  c.weight_values.resize(size_t(n));
  dequantize_row(type, c.weight.data(), c.weight_values.data(), n);
  c.x.resize(size_t(kMaxColumns * n));
  for (float& v : c.x) v = normal(rng) * spread(rng);
  if (is_block_format(type)) {
    c.stride = activation_row_bytes(type, n);
    c.activations.resize(c.stride * kMaxColumns);
    for (int col = 0; col < kMaxColumns; ++col) {
      quantize_activation_row(type, c.x.data() + col * n, c.activations.data() + size_t(col) * c.stride, n);
    }
    if (quant::has_group_layout(type)) {
      c.group_stride = quant::group_activation_row_bytes(type, n);
      c.group_activations.resize(c.group_stride * kMaxColumns);
      for (int col = 0; col < kMaxColumns; ++col) {
        quant::quantize_group_activation_row(type, c.x.data() + col * n,
                                             c.group_activations.data() + size_t(col) * c.group_stride, n);
      }
    }
  } else {
    c.stride = size_t(n) * sizeof(float);
    c.activations.resize(c.stride * kMaxColumns);
    std::memcpy(c.activations.data(), c.x.data(), c.activations.size());
  }
  return c;
}

// The scale of the sum's rounding error: sum of |w_i x_i| (the activation quantization changes it by < 1%).
double magnitude(const Case& c, int col, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::fabs(double(c.weight_values[size_t(i)]) * c.x[size_t(col * n + i)]);
  return sum;
}

std::vector<int64_t> lengths(DType type) {
  if (type == DType::Q4_K || type == DType::Q5_K || type == DType::Q6_K) return {256, 512, 2048, 2816};
  if (is_block_format(type)) return {32, 64, 96, 2048, 1408};
  return {1, 7, 16, 67, 128, 2048, 1408};
}

class RowKernelTest : public ::testing::TestWithParam<Isa> {};

TEST_P(RowKernelTest, DotMatchesScalarTwinForEveryFormat) {
  const Isa isa = GetParam();
  if (!cpu_supports(isa)) GTEST_SKIP() << "this CPU does not run " << isa_name(isa);
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const RowKernels& simd = row_kernels(isa);
  const RowKernels& scalar = row_kernels(Isa::kScalar);
  for (int t = 0; t < kDTypeCount; ++t) {
    const auto type = DType(t);
    for (int64_t n : lengths(type)) {
      for (int trial = 0; trial < 4; ++trial) {
        const Case c = make_case(type, n, rng);
        for (int columns = 1; columns <= kMaxColumns; ++columns) {
          float got[kMaxColumns], want[kMaxColumns];
          simd.row_dot[t](c.weight.data(), c.activations.data(), c.stride, columns, n, got);
          scalar.row_dot[t](c.weight.data(), c.activations.data(), c.stride, columns, n, want);
          for (int col = 0; col < columns; ++col) {
            EXPECT_LE(std::fabs(double(got[col]) - want[col]), 1e-5 * magnitude(c, col, n) + 1e-30)
                << dtype_name(type) << " n=" << n << " columns=" << columns << " column " << col << ": "
                << got[col] << " vs " << want[col];
          }
        }
      }
    }
  }
}

// A column's result is the same whatever columns lie beside it (so a token's output does not depend on the
// batch it is in).
TEST_P(RowKernelTest, ColumnsDoNotAffectEachOther) {
  const Isa isa = GetParam();
  if (!cpu_supports(isa)) GTEST_SKIP() << "this CPU does not run " << isa_name(isa);
  std::mt19937 rng(testing::fresh_seed());
  const RowKernels& k = row_kernels(isa);
  for (int t = 0; t < kDTypeCount; ++t) {
    const auto type = DType(t);
    const int64_t n = lengths(type).back();
    const Case c = make_case(type, n, rng);
    float all[kMaxColumns];
    k.row_dot[t](c.weight.data(), c.activations.data(), c.stride, kMaxColumns, n, all);
    for (int col = 0; col < kMaxColumns; ++col) {
      float one;
      k.row_dot[t](c.weight.data(), c.activations.data() + size_t(col) * c.stride, c.stride, 1, n, &one);
      EXPECT_EQ(one, all[col]) << dtype_name(type) << " column " << col;
    }
  }
}

// The eight-row kernels of the formats with a group layout (quant/interleave.h): eight fresh rows interleaved,
// dotted with 1 to 4 activation rows. The scalar twin must give each row bit for bit what the scalar row kernel
// gives it; the SIMD sets agree with it to rounding, as the row kernels do; and a column's results do not depend on
// the columns beside it.
TEST_P(RowKernelTest, GroupDotMatchesEachRowsScalarKernel) {
  const Isa isa = GetParam();
  if (!cpu_supports(isa)) GTEST_SKIP() << "this CPU does not run " << isa_name(isa);
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const RowKernels& k = row_kernels(isa);
  const RowKernels& scalar = row_kernels(Isa::kScalar);
  int formats = 0;
  for (int t = 0; t < kDTypeCount; ++t) {
    const auto type = DType(t);
    if (scalar.group_dot[t] == nullptr) continue;
    ASSERT_NE(k.group_dot[t], nullptr) << dtype_name(type);
    ++formats;
    for (int64_t n : lengths(type)) {
      for (int trial = 0; trial < 3; ++trial) {
        std::vector<Case> rows;
        for (int r = 0; r < quant::kGroupRows; ++r) rows.push_back(make_case(type, n, rng));
        const Case& act = rows[0];  // every row is dotted with the first case's activations
        const size_t row_bytes = dtype_row_bytes(type, n);
        std::vector<unsigned char> stacked, group(row_bytes * quant::kGroupRows);
        for (const Case& c : rows) stacked.insert(stacked.end(), c.weight.begin(), c.weight.end());
        // Block formats: interleaved, activations with their trailer; element formats: the rows as stored.
        const bool interleaved = quant::has_group_layout(type);
        const std::vector<unsigned char>& group_act = interleaved ? act.group_activations : act.activations;
        const size_t group_stride = interleaved ? act.group_stride : act.stride;
        if (interleaved) {
          quant::interleave_rows(type, stacked.data(), row_bytes, n, group.data());
          for (int r = 0; r < quant::kGroupRows; ++r) {  // the layout loses nothing
            std::vector<unsigned char> back(row_bytes);
            quant::deinterleave_row(type, group.data(), r, n, back.data());
            ASSERT_EQ(back, rows[size_t(r)].weight) << dtype_name(type) << " row " << r << " after the round trip";
          }
        } else {
          group = stacked;
        }
        float all[kMaxColumns * quant::kGroupRows];
        k.group_dot[t](group.data(), group_act.data(), group_stride, kMaxColumns, n, all);
        for (int columns = 1; columns <= kMaxColumns; ++columns) {
          float got[kMaxColumns * quant::kGroupRows];
          k.group_dot[t](group.data(), group_act.data(), group_stride, columns, n, got);
          for (int col = 0; col < columns; ++col) {
            for (int r = 0; r < quant::kGroupRows; ++r) {
              const float value = got[col * quant::kGroupRows + r];
              EXPECT_EQ(value, all[col * quant::kGroupRows + r]) << "columns beside column " << col << " changed it";
              float want;
              scalar.row_dot[t](rows[size_t(r)].weight.data(), act.activations.data() + size_t(col) * act.stride,
                                act.stride, 1, n, &want);
              double size = 0;
              for (int64_t i = 0; i < n; ++i) {
                size += std::fabs(double(rows[size_t(r)].weight_values[size_t(i)]) * act.x[size_t(col * n + i)]);
              }
              if (isa == Isa::kScalar) {
                EXPECT_EQ(value, want) << dtype_name(type) << " n=" << n << " row " << r << " column " << col;
              } else {
                EXPECT_LE(std::fabs(double(value) - want), 1e-5 * size + 1e-30)
                    << dtype_name(type) << " n=" << n << " row " << r << " column " << col << ": " << value
                    << " vs " << want;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(formats, 0);
}

TEST_P(RowKernelTest, AxpyMatchesScalarTwin) {
  const Isa isa = GetParam();
  if (!cpu_supports(isa)) GTEST_SKIP() << "this CPU does not run " << isa_name(isa);
  std::mt19937 rng(testing::fresh_seed());
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (DType type : {DType::F32, DType::F16, DType::BF16, DType::Q8_0}) {
    for (int64_t n : {1, 15, 16, 32, 128, 131}) {
      if (n % dtype_block_elements(type) != 0) continue;
      std::vector<float> values(static_cast<size_t>(n)), y(static_cast<size_t>(n));
      for (float& v : values) v = normal(rng);
      for (float& v : y) v = normal(rng);
      std::vector<unsigned char> row(dtype_row_bytes(type, n));
      quantize_row(type, values.data(), row.data(), n);
      dequantize_row(type, row.data(), values.data(), n);  // the stored values
      const float a = normal(rng);
      std::vector<float> got = y, want = y;
      row_kernels(isa).row_axpy[int(type)](a, row.data(), got.data(), n);
      row_kernels(Isa::kScalar).row_axpy[int(type)](a, row.data(), want.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        // One multiply-add each: fused (SIMD) or not (scalar) differ by a rounding or two of the product.
        EXPECT_NEAR(got[size_t(i)], want[size_t(i)], 2.5e-7 * 4 * (std::fabs(want[size_t(i)]) + std::fabs(a * values[size_t(i)])))
            << dtype_name(type) << " n=" << n << " i=" << i;
      }
    }
  }
}

TEST_P(RowKernelTest, WidenGivesTheStoredValuesExactly) {
  const Isa isa = GetParam();
  if (!cpu_supports(isa)) GTEST_SKIP() << "this CPU does not run " << isa_name(isa);
  std::mt19937 rng(testing::fresh_seed());
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (DType type : {DType::F32, DType::F16, DType::BF16, DType::Q8_0}) {
    for (int64_t n : {1, 15, 16, 32, 128, 131, 8192}) {
      if (n % dtype_block_elements(type) != 0) continue;
      std::vector<float> values(static_cast<size_t>(n)), got(static_cast<size_t>(n));
      for (float& v : values) v = normal(rng);
      std::vector<unsigned char> row(dtype_row_bytes(type, n));
      quantize_row(type, values.data(), row.data(), n);
      dequantize_row(type, row.data(), values.data(), n);  // src/quant's reading of the stored row
      row_kernels(isa).row_widen[int(type)](row.data(), got.data(), n);
      EXPECT_EQ(got, values) << dtype_name(type) << " n=" << n;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryIsa, RowKernelTest, ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512),
                         [](const ::testing::TestParamInfo<Isa>& p) { return std::string(isa_name(p.param)); });

TEST(Isa, PreferredIsTheWidestSupported) {
  if (std::getenv("DSMOE_ISA") != nullptr) GTEST_SKIP() << "DSMOE_ISA is set";
  EXPECT_EQ(preferred_isa(), supported_isas().back());
  EXPECT_EQ(row_kernels().isa, preferred_isa());
}

}  // namespace
}  // namespace dsmoe
