#include "dsmoe/rope/rope_axes.h"

#include <cmath>
#include <numeric>

#include "core/errors.h"
#include "dsmoe/rope/rope_frequencies.h"

namespace dsmoe {

namespace {

void check_sections(const std::vector<int64_t>& sections, const char* what) {
  if (sections.empty()) fail(what, ": needs at least one axis");
  for (int64_t s : sections) {
    if (s <= 0) fail(what, ": every axis needs a positive number of pairs, found ", s);
  }
}

}  // namespace

RopeAxisLayout axial_layout(const std::vector<int64_t>& pairs_per_axis, double theta, bool restart_frequencies) {
  check_sections(pairs_per_axis, "axial RoPE");
  RopeAxisLayout layout;
  layout.n_axes = int64_t(pairs_per_axis.size());
  const int64_t total = std::accumulate(pairs_per_axis.begin(), pairs_per_axis.end(), int64_t(0));
  if (!restart_frequencies) layout.inv_freq = default_inv_freq(theta, 2 * total);
  int64_t pair = 0;
  for (size_t a = 0; a < pairs_per_axis.size(); ++a) {
    const int64_t n = pairs_per_axis[a];
    const int32_t offset = restart_frequencies ? int32_t(layout.inv_freq.size()) : int32_t(pair);
    if (restart_frequencies) {
      const std::vector<float> ladder = default_inv_freq(theta, 2 * n);
      layout.inv_freq.insert(layout.inv_freq.end(), ladder.begin(), ladder.end());
    }
    for (int64_t k = 0; k < n; ++k, ++pair) {
      layout.axis_of_pair.push_back(int32_t(a));
      layout.freq_of_pair.push_back(offset + int32_t(k));
    }
  }
  return layout;
}

RopeAxisLayout mrope_layout(const std::vector<int64_t>& section, double theta, bool interleaved) {
  if (section.size() != 3) fail("M-RoPE: mrope_section needs 3 values (time, height, width), found ", section.size());
  check_sections(section, "M-RoPE");
  RopeAxisLayout layout;
  layout.n_axes = 3;
  const int64_t total = section[0] + section[1] + section[2];
  layout.inv_freq = default_inv_freq(theta, 2 * total);
  for (int64_t k = 0; k < total; ++k) {
    int32_t axis = 0;
    if (interleaved) {
      if (k % 3 == 1 && k < 3 * section[1]) axis = 1;
      else if (k % 3 == 2 && k < 3 * section[2]) axis = 2;
    } else {
      axis = k < section[0] ? 0 : (k < section[0] + section[1] ? 1 : 2);
    }
    layout.axis_of_pair.push_back(axis);
    layout.freq_of_pair.push_back(int32_t(k));
  }
  return layout;
}

namespace {

// Rows then columns, head_dim / 4 pairs each, drawing from one ladder over ladder_dim; frequency(k, axis) says
// which rung pair k of an axis takes.
template <typename Frequency>
RopeAxisLayout row_column_layout(const char* what, int64_t head_dim, double theta, int64_t ladder_dim,
                                 Frequency frequency) {
  if (head_dim <= 0 || head_dim % 4 != 0) fail(what, ": head_dim must be a multiple of 4, found ", head_dim);
  RopeAxisLayout layout;
  layout.n_axes = 2;
  layout.inv_freq = default_inv_freq(theta, ladder_dim);
  for (int32_t axis = 0; axis < 2; ++axis) {
    for (int64_t k = 0; k < head_dim / 4; ++k) {
      layout.axis_of_pair.push_back(axis);
      layout.freq_of_pair.push_back(frequency(k, axis));
    }
  }
  return layout;
}

}  // namespace

RopeAxisLayout qwen2vl_vision_layout(int64_t head_dim, double theta) {
  // VisionRotaryEmbedding(head_dim / 2): head_dim / 4 frequencies, used again from the start for the columns.
  return row_column_layout("Qwen2-VL vision RoPE", head_dim, theta, head_dim / 2,
                           [](int64_t k, int32_t) { return int32_t(k); });
}

RopeAxisLayout pixtral_layout(int64_t head_dim, double theta) {
  // freqs[0::2] for rows, freqs[1::2] for columns of one ladder over the full head.
  return row_column_layout("Pixtral RoPE", head_dim, theta, head_dim,
                           [](int64_t k, int32_t axis) { return int32_t(2 * k + axis); });
}

void rope_cos_sin_axes(const RopeAxisLayout& layout, const int64_t* positions, float* cos, float* sin) {
  for (int64_t j = 0; j < layout.n_pairs(); ++j) {
    const double angle = double(positions[layout.axis_of_pair[size_t(j)]]) *
                         double(layout.inv_freq[size_t(layout.freq_of_pair[size_t(j)])]);
    cos[j] = float(std::cos(angle));
    sin[j] = float(std::sin(angle));
  }
}

}  // namespace dsmoe
