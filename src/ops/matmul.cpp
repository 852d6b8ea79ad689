#include "ops/matmul.h"

#include <vector>

#include "core/parallel.h"
#include "quant/quantize.h"
#include "quant/vec_dot.h"

namespace dsmoe {

namespace {

// Rows per task: enough work to amortise scheduling, small enough to balance.
constexpr int64_t kRowsPerTask = 16;

// Block-format weights: each token's activations are quantized once to the weight's paired format, then every
// output is one vec_dot_row (integer sums per block, as llama.cpp computes it).
void matmul_wt_blocks(const float* x, int64_t n_tokens, const TensorView& weight, float* y) {
  const int64_t out_features = weight.shape[0];
  const int64_t in_features = weight.shape[1];
  const size_t w_row_bytes = weight.row_bytes();
  const size_t x_row_bytes = activation_row_bytes(weight.dtype, in_features);
  std::vector<unsigned char> activations(size_t(n_tokens) * x_row_bytes);
  parallel_for(n_tokens, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      quantize_activation_row(weight.dtype, x + t * in_features, activations.data() + size_t(t) * x_row_bytes,
                              in_features);
    }
  });
  const auto* w_bytes = static_cast<const unsigned char*>(weight.data);
  const int64_t tasks = (out_features + kRowsPerTask - 1) / kRowsPerTask;
  parallel_for(tasks, [&](int64_t task_begin, int64_t task_end) {
    for (int64_t o = task_begin * kRowsPerTask; o < std::min(out_features, task_end * kRowsPerTask); ++o) {
      const unsigned char* w_row = w_bytes + size_t(o) * w_row_bytes;
      for (int64_t t = 0; t < n_tokens; ++t) {
        y[t * out_features + o] =
            vec_dot_row(weight.dtype, w_row, activations.data() + size_t(t) * x_row_bytes, in_features);
      }
    }
  });
}

}  // namespace

float dot_f32(const float* a, const float* b, int64_t n) {
  constexpr int kLanes = 16;
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) acc[l] += a[i + l] * b[i + l];
  }
  for (; i < n; ++i) acc[i % kLanes] += a[i] * b[i];
  // Pairwise reduction keeps the rounding error independent of the tail position.
  for (int width = kLanes / 2; width > 0; width /= 2) {
    for (int l = 0; l < width; ++l) acc[l] += acc[l + width];
  }
  return acc[0];
}

void matmul_wt(const float* x, int64_t n_tokens, const TensorView& weight, float* y) {
  if (is_block_format(weight.dtype)) {
    matmul_wt_blocks(x, n_tokens, weight, y);
    return;
  }
  const int64_t out_features = weight.shape[0];
  const int64_t in_features = weight.shape[1];
  const size_t element = dtype_size(weight.dtype);
  const auto* w_bytes = static_cast<const unsigned char*>(weight.data);
  const int64_t tasks = (out_features + kRowsPerTask - 1) / kRowsPerTask;
  parallel_for(tasks, [&](int64_t task_begin, int64_t task_end) {
    std::vector<float> row(weight.dtype == DType::F32 ? 0 : size_t(in_features));
    for (int64_t o = task_begin * kRowsPerTask; o < std::min(out_features, task_end * kRowsPerTask); ++o) {
      const unsigned char* w_row = w_bytes + size_t(o) * size_t(in_features) * element;
      const float* w = reinterpret_cast<const float*>(w_row);
      if (weight.dtype != DType::F32) {
        convert_to_f32(weight.dtype, w_row, row.data(), size_t(in_features));
        w = row.data();
      }
      for (int64_t t = 0; t < n_tokens; ++t) {
        y[t * out_features + o] = dot_f32(x + t * in_features, w, in_features);
      }
    }
  });
}

void matmul_wt_reference(const float* x, int64_t n_tokens, const TensorView& weight, float* y) {
  const int64_t out_features = weight.shape[0];
  const int64_t in_features = weight.shape[1];
  // Rows hold whole blocks and lie end to end, so the whole weight dequantizes as one row.
  std::vector<float> w(size_t(out_features * in_features));
  dequantize_row(weight.dtype, weight.data, w.data(), out_features * in_features);
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t o = 0; o < out_features; ++o) {
      double sum = 0;
      for (int64_t i = 0; i < in_features; ++i) sum += double(x[t * in_features + i]) * w[o * in_features + i];
      y[t * out_features + o] = float(sum);
    }
  }
}

}  // namespace dsmoe
