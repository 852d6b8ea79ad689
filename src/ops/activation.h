// The SwiGLU gate: gate[i] = silu(gate[i]) * up[i], silu(x) = x / (1 + e^-x).
#pragma once

#include <cstdint>

namespace dsmoe {

void silu_mul(float* gate, const float* up, int64_t n);

}  // namespace dsmoe
