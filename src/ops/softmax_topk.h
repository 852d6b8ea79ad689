// Softmax over a row and top-k selection, the two halves of the MoE router.
#pragma once

#include <cstdint>

namespace dsmoe {

// In place, numerically stable (subtracts the maximum).
void softmax(float* x, int64_t n);

// The k largest values of x[0..n) in decreasing order; ties go to the lower index.
void top_k(const float* x, int64_t n, int64_t k, int32_t* indices, float* values);

}  // namespace dsmoe
