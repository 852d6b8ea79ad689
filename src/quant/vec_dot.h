// The quantized dot products of the matrix product, as llama.cpp computes them: the activation row is
// quantized once to the format llama.cpp pairs with the weight format (its `vec_dot_type`: Q8_0 for Q8_0,
// Q4_0 and Q5_0; Q8_1 for Q4_1 and Q5_1; Q8_K for the K-quants), and each weight row is dotted with it in
// integer arithmetic, block by block, scaled in float32. Element formats (F32, F16, BF16) are not handled here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace dsmoe {

// Bytes of one quantized activation row of n values for weights of block format `weight`.
size_t activation_row_bytes(DType weight, int64_t n);

// Whether weights of formats a and b take the same activation format (so one quantized x serves both).
bool same_activation_format(DType a, DType b);

// Quantizes n float32 activations into the format paired with `weight` (activation_row_bytes at dst).
void quantize_activation_row(DType weight, const float* x, void* dst, int64_t n);

// The dot product of one weight row (n values in format `weight`) with one quantized activation row.
float vec_dot_row(DType weight, const void* weight_row, const void* activation_row, int64_t n);

}  // namespace dsmoe
