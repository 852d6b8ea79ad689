// The rotation itself: each pair (a, b) of a head turns by its angle, a' = a cos - b sin, b' = a sin + b cos.
#pragma once

#include <cstdint>
#include <vector>

#include "dsmoe/rope/rope.h"

namespace dsmoe {

// Rotates each of n_heads vectors of head_dim floats (x [n_heads, head_dim]) in place. cos/sin hold
// rotary_dim / 2 values; coordinates from rotary_dim to head_dim are left untouched (partial rotary).
void rope_apply(float* x, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin, int64_t rotary_dim,
                RopePairing pairing);

// The permutation that makes the pairings agree: rotate-half on y equals interleaved on x when
// y[i] = x[perm[i]] (perm[j] = 2j, perm[j + d/2] = 2j + 1). llama.cpp's converter applies its inverse to Q/K
// weight rows, which is why a GGUF needs the interleaved pairing where the HF file needs rotate-half.
std::vector<int64_t> rotate_half_from_interleaved(int64_t rotary_dim);

}  // namespace dsmoe
