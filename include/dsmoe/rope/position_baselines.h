// The position encodings RoPE is measured against.
#pragma once

#include <cstdint>
#include <vector>

namespace dsmoe {

// "Attention Is All You Need" (3.5): PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = cos(p / 10000^(2i/d)),
// added to the token embeddings. out [d_model]; d_model even. Computed in double, rounded once.
void sinusoidal_encoding(int64_t position, int64_t d_model, float* out, double base = 10000.0);

// ALiBi (Press et al. 2022): head h of n gets slope m_h; for n a power of two m_h = 2^(-8(h+1)/n); otherwise the
// slopes of the nearest lower power of two P, followed by every other slope of 2P, up to n heads.
std::vector<double> alibi_slopes(int64_t n_heads);

// The bias ALiBi adds to the score of query position i against key position j <= i: -m (i - j).
inline double alibi_bias(double slope, int64_t query_position, int64_t key_position) {
  return -slope * double(query_position - key_position);
}

}  // namespace dsmoe
