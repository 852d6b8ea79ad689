// RoPE over more than one position axis: each rotary pair takes its angle from one axis (time, row, column, ...)
// and one frequency. A layout says which, pair by pair, so that 1-D RoPE, 2-D/N-D axial RoPE, M-RoPE (Qwen2-VL
// text, and its interleaved Qwen3-VL variant), the Qwen2-VL vision encoder and Pixtral are all the same
// computation: angle_j = position[axis_of_pair[j]] * inv_freq[freq_of_pair[j]].
// Every layout here is paired rotate-half by its model code (Pixtral's reference code pairs the same angles
// interleaved); rope_apply takes the pairing separately.
#pragma once

#include <cstdint>
#include <vector>

namespace dsmoe {

struct RopeAxisLayout {
  int64_t n_axes = 1;
  std::vector<int32_t> axis_of_pair;  // [n_pairs]
  std::vector<int32_t> freq_of_pair;  // [n_pairs], index into inv_freq
  std::vector<float> inv_freq;        // the frequencies the layout draws from, float32 as HF computes them

  int64_t n_pairs() const { return int64_t(axis_of_pair.size()); }
};

// Axial RoPE: consecutive blocks of pairs_per_axis[a] pairs follow axis a. With restart_frequencies each block
// has its own frequency ladder theta^(-2k / (2 * pairs_per_axis[a])) (rows and columns of image patches,
// lucidrains' axial and ggml's VISION mode); without, one ladder over all pairs is shared out in order.
RopeAxisLayout axial_layout(const std::vector<int64_t>& pairs_per_axis, double theta, bool restart_frequencies);

// M-RoPE (Qwen2-VL text): mrope_section = {t, h, w} pairs, one ladder over all t + h + w pairs (indices not
// reset). Contiguous: pairs [0, t) time, [t, t + h) height, the rest width. Interleaved (Qwen3-VL, ggml IMROPE):
// pair k is height if k % 3 == 1 and k < 3h, width if k % 3 == 2 and k < 3w, else time.
RopeAxisLayout mrope_layout(const std::vector<int64_t>& mrope_section, double theta, bool interleaved);

// Qwen2-VL's vision encoder: a ladder over head_dim / 2 (so head_dim / 4 frequencies) used twice, first for the
// patch row, then for the column; head_dim / 2 pairs in all.
RopeAxisLayout qwen2vl_vision_layout(int64_t head_dim, double theta);

// Pixtral: one ladder over the full head_dim; rows take the even frequencies, columns the odd ones.
RopeAxisLayout pixtral_layout(int64_t head_dim, double theta);

// cos/sin [n_pairs] at one point: positions[n_axes].
void rope_cos_sin_axes(const RopeAxisLayout& layout, const int64_t* positions, float* cos, float* sin);

}  // namespace dsmoe
