#include "dsmoe/rope/position_baselines.h"

#include <cmath>

#include "core/errors.h"

namespace dsmoe {

void sinusoidal_encoding(int64_t position, int64_t d_model, float* out, double base) {
  if (d_model <= 0 || d_model % 2 != 0) fail("sinusoidal encoding: d_model must be positive and even, found ", d_model);
  for (int64_t i = 0; i < d_model / 2; ++i) {
    const double angle = double(position) / std::pow(base, double(2 * i) / double(d_model));
    out[2 * i] = float(std::sin(angle));
    out[2 * i + 1] = float(std::cos(angle));
  }
}

namespace {

std::vector<double> power_of_two_slopes(int64_t n) {
  std::vector<double> slopes(static_cast<size_t>(n), 0.0);
  const double start = std::pow(2.0, -8.0 / double(n));
  for (int64_t h = 0; h < n; ++h) slopes[size_t(h)] = std::pow(start, double(h + 1));
  return slopes;
}

}  // namespace

std::vector<double> alibi_slopes(int64_t n_heads) {
  if (n_heads <= 0 || n_heads > (int64_t(1) << 20)) fail("ALiBi: head count must be in [1, 2^20], found ", n_heads);
  int64_t p = 1;
  while (p * 2 <= n_heads) p *= 2;
  std::vector<double> slopes = power_of_two_slopes(p);
  if (p == n_heads) return slopes;
  const std::vector<double> doubled = power_of_two_slopes(2 * p);
  for (int64_t k = 0; int64_t(slopes.size()) < n_heads; k += 2) slopes.push_back(doubled[size_t(k)]);
  return slopes;
}

}  // namespace dsmoe
