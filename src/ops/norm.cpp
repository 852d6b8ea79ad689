#include "ops/norm.h"

#include <cmath>
#include <vector>

#include "quant/quantize.h"

namespace dsmoe {

void rms_norm(const float* x, int64_t n_rows, int64_t dim, const TensorView& weight, double eps, float* out) {
  std::vector<float> gain(static_cast<size_t>(dim));
  dequantize_row(weight.dtype, weight.data, gain.data(), int64_t(gain.size()));
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* row = x + r * dim;
    double sum_sq = 0;
    for (int64_t i = 0; i < dim; ++i) sum_sq += double(row[i]) * row[i];
    // HF: variance in float32, hidden * torch.rsqrt(variance + eps), still float32.
    const float variance = float(sum_sq / double(dim));
    const float inv_rms = 1.0f / std::sqrt(variance + float(eps));
    float* dst = out + r * dim;
    for (int64_t i = 0; i < dim; ++i) dst[i] = gain[size_t(i)] * (row[i] * inv_rms);
  }
}

}  // namespace dsmoe
