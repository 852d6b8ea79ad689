#include "dsmoe/rope/rope_apply.h"

namespace dsmoe {

void rope_apply(float* x, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin, int64_t rotary_dim,
                RopePairing pairing) {
  const int64_t half = rotary_dim / 2;
  // Pair j is (j, j + half) for rotate-half and (2j, 2j + 1) for interleaved.
  const int64_t step = pairing == RopePairing::kRotateHalf ? 1 : 2;
  const int64_t partner = pairing == RopePairing::kRotateHalf ? half : 1;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* head = x + h * head_dim;
    for (int64_t j = 0; j < half; ++j) {
      float& a = head[j * step];
      float& b = head[j * step + partner];
      const float a0 = a;
      const float b0 = b;
      a = a0 * cos[j] - b0 * sin[j];
      b = b0 * cos[j] + a0 * sin[j];
    }
  }
}

std::vector<int64_t> rotate_half_from_interleaved(int64_t rotary_dim) {
  const int64_t half = rotary_dim / 2;
  std::vector<int64_t> perm(static_cast<size_t>(rotary_dim));
  for (int64_t j = 0; j < half; ++j) {
    perm[size_t(j)] = 2 * j;
    perm[size_t(j + half)] = 2 * j + 1;
  }
  return perm;
}

}  // namespace dsmoe
