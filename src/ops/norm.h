// RMSNorm as HF's DeepseekRMSNorm / LlamaRMSNorm: x * rsqrt(mean(x²) + eps), then * weight.
#pragma once

#include <cstdint>

#include "core/tensor_view.h"

namespace dsmoe {

// x, out [n_rows, dim] (may alias); weight [dim].
void rms_norm(const float* x, int64_t n_rows, int64_t dim, const TensorView& weight, double eps, float* out);

}  // namespace dsmoe
