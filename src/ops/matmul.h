// y = x · Wᵀ for a weight W stored [out_features, in_features] (the nn.Linear layout), in any
// supported dtype; x and y are float32. Parallel over output features: each y[t][o] is one dot
// product computed the same way on any thread, so results do not depend on the thread count.
// Block-format weights (Q8_0 ... Q6_K) multiply as llama.cpp does: x is quantized per token to the paired
// 8-bit format and each output is src/quant's vec_dot_row, integer sums per block scaled in float.
#pragma once

#include <cstdint>

#include "core/tensor_view.h"

namespace dsmoe {

// x [n_tokens, in], y [n_tokens, out]; W.shape == {out, in}.
void matmul_wt(const float* x, int64_t n_tokens, const TensorView& weight, float* y);

// The scalar twin: a plain triple loop accumulating in double over the dequantized weight and the float x
// (so for block formats it differs from matmul_wt by the activation quantization). Tests compare the two.
void matmul_wt_reference(const float* x, int64_t n_tokens, const TensorView& weight, float* y);

// Sum of a[i]*b[i] with sixteen independent accumulators (a fixed order the compiler vectorises).
float dot_f32(const float* a, const float* b, int64_t n);

}  // namespace dsmoe
