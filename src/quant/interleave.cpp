#include "quant/row_kernels.h"
// (row_kernels.h first: its pragma must precede every function of this file.)
#include "quant/interleave.h"

#include <vector>

#include "core/errors.h"
#include "quant/vec_dot.h"

namespace dsmoe::quant {

namespace {

constexpr int kPieceBytes = 4;  // a row's bytes per piece: four elements (or eight nibbles)
constexpr size_t kQ8_0Trailer = 8;   // group activations (interleave.h): float d, int32 offset per block
constexpr size_t kQ8_KTrailer = 16;  // eight int16 sums per super-block

// ---- Q4_0 and Q8_0 ---------------------------------------------------------------------------------------------
// One f16 scale and 16 (Q4_0) or 32 (Q8_0) quant bytes a block: the eight scales, then the quant bytes in pieces
// of four, each piece holding the eight rows' bytes side by side.
template <typename Block>
constexpr int kLegacyPieces = int(sizeof(Block::qs)) / kPieceBytes;
constexpr size_t kLegacyQuants = 2 * kGroupRows;  // after the eight scales

template <typename Block>
void interleave_legacy(const unsigned char* rows, size_t row_bytes, int64_t n, unsigned char* out) {
  for (int64_t b = 0; b < n / kLegacyBlock; ++b, out += kGroupRows * sizeof(Block)) {
    for (int r = 0; r < kGroupRows; ++r) {
      const auto block = load_block<Block>(rows + size_t(r) * row_bytes, b);
      std::memcpy(out + 2 * r, &block.d, sizeof block.d);
      for (int j = 0; j < kLegacyPieces<Block>; ++j) {
        std::memcpy(out + kLegacyQuants + size_t(j * kGroupRows + r) * kPieceBytes, block.qs + j * kPieceBytes,
                    kPieceBytes);
      }
    }
  }
}

template <typename Block>
void deinterleave_legacy(const unsigned char* group, int r, int64_t n, unsigned char* row) {
  for (int64_t b = 0; b < n / kLegacyBlock; ++b, group += kGroupRows * sizeof(Block)) {
    Block block;
    std::memcpy(&block.d, group + 2 * r, sizeof block.d);
    for (int j = 0; j < kLegacyPieces<Block>; ++j) {
      std::memcpy(block.qs + j * kPieceBytes, group + kLegacyQuants + size_t(j * kGroupRows + r) * kPieceBytes,
                  kPieceBytes);
    }
    std::memcpy(row + size_t(b) * sizeof block, &block, sizeof block);
  }
}

// ---- Q4_K ------------------------------------------------------------------------------------------------------
constexpr size_t kQ4_KGroup = 8 * sizeof(BlockQ4_K);
constexpr size_t kQ4_KDmin = 16, kQ4_KLowBits = 32, kQ4_KHighBits = 96, kQ4_KQuants = 128;

void interleave_q4_k(const unsigned char* rows, size_t row_bytes, int64_t n, unsigned char* out) {
  for (int64_t b = 0; b < n / kSuperBlock; ++b, out += kQ4_KGroup) {
    for (int r = 0; r < kGroupRows; ++r) {
      const auto block = load_block<BlockQ4_K>(rows + size_t(r) * row_bytes, b);
      std::memcpy(out + 2 * r, &block.d, sizeof block.d);
      std::memcpy(out + kQ4_KDmin + 2 * r, &block.dmin, sizeof block.dmin);
      uint32_t high = 0;
      for (int j = 0; j < 8; ++j) {
        const ScaleMin sm = k_scale_min(block.scales, j);
        out[kQ4_KLowBits + size_t(j * kGroupRows + r)] = uint8_t((sm.scale & 15) | (sm.min & 15) << 4);
        high |= uint32_t(sm.scale >> 4) << (2 * j) | uint32_t(sm.min >> 4) << (16 + 2 * j);
      }
      const unsigned char bytes[4] = {uint8_t(high), uint8_t(high >> 8), uint8_t(high >> 16), uint8_t(high >> 24)};
      std::memcpy(out + kQ4_KHighBits + 4 * size_t(r), bytes, sizeof bytes);
      for (int piece = 0; piece < kSuperBlock / 2 / kPieceBytes; ++piece) {
        std::memcpy(out + kQ4_KQuants + size_t(piece * kGroupRows + r) * kPieceBytes, block.qs + piece * kPieceBytes,
                    kPieceBytes);
      }
    }
  }
}

void deinterleave_q4_k(const unsigned char* group, int r, int64_t n, unsigned char* row) {
  for (int64_t b = 0; b < n / kSuperBlock; ++b, group += kQ4_KGroup) {
    BlockQ4_K block;
    std::memcpy(&block.d, group + 2 * r, sizeof block.d);
    std::memcpy(&block.dmin, group + kQ4_KDmin + 2 * r, sizeof block.dmin);
    const unsigned char* h = group + kQ4_KHighBits + 4 * size_t(r);
    const uint32_t high = uint32_t(h[0]) | uint32_t(h[1]) << 8 | uint32_t(h[2]) << 16 | uint32_t(h[3]) << 24;
    uint8_t sc[8], mn[8];
    for (int j = 0; j < 8; ++j) {
      const uint8_t low = group[kQ4_KLowBits + size_t(j * kGroupRows + r)];
      sc[j] = uint8_t((low & 15) | ((high >> (2 * j)) & 3) << 4);
      mn[j] = uint8_t((low >> 4) | ((high >> (16 + 2 * j)) & 3) << 4);
    }
    // BlockQ4_K's packing (k_scale_min read backwards): sub-blocks 0-3 whole in the low 6 bits of bytes 0-7,
    // sub-blocks 4-7 with their low 4 bits in bytes 8-11 and their top 2 bits over bytes 0-7.
    for (int j = 0; j < 4; ++j) {
      block.scales[j] = uint8_t(sc[j] | (sc[j + 4] >> 4) << 6);
      block.scales[j + 4] = uint8_t(mn[j] | (mn[j + 4] >> 4) << 6);
      block.scales[j + 8] = uint8_t((sc[j + 4] & 15) | (mn[j + 4] & 15) << 4);
    }
    for (int piece = 0; piece < kSuperBlock / 2 / kPieceBytes; ++piece) {
      std::memcpy(block.qs + piece * kPieceBytes, group + kQ4_KQuants + size_t(piece * kGroupRows + r) * kPieceBytes,
                  kPieceBytes);
    }
    std::memcpy(row + size_t(b) * sizeof block, &block, sizeof block);
  }
}

// ---- Q6_K ------------------------------------------------------------------------------------------------------
constexpr size_t kQ6_KGroup = 8 * sizeof(BlockQ6_K);
constexpr size_t kQ6_KScales = 16, kQ6_KQuants = 144, kQ6_KSubBlock = 96;

// Element e's 6-bit quant (0..63), read and written where BlockQ6_K keeps its bits.
int q6_k_get(const BlockQ6_K& block, int e) {
  const int half = e / 128, quarter = (e % 128) / 32, l = e % 32;
  const int low = (block.ql[64 * half + 32 * (quarter % 2) + l] >> (4 * (quarter / 2))) & 15;
  return low | ((block.qh[32 * half + l] >> (2 * quarter)) & 3) << 4;
}
void q6_k_set(BlockQ6_K& block, int e, int q) {
  const int half = e / 128, quarter = (e % 128) / 32, l = e % 32;
  uint8_t& low = block.ql[64 * half + 32 * (quarter % 2) + l];
  const int shift = 4 * (quarter / 2);
  low = uint8_t((low & ~(15 << shift)) | (q & 15) << shift);
  uint8_t& high = block.qh[32 * half + l];
  high = uint8_t((high & ~(3 << (2 * quarter))) | (q >> 4) << (2 * quarter));
}

void interleave_q6_k(const unsigned char* rows, size_t row_bytes, int64_t n, unsigned char* out) {
  for (int64_t b = 0; b < n / kSuperBlock; ++b, out += kQ6_KGroup) {
    for (int r = 0; r < kGroupRows; ++r) {
      const auto block = load_block<BlockQ6_K>(rows + size_t(r) * row_bytes, b);
      std::memcpy(out + 2 * r, &block.d, sizeof block.d);
      for (int sub = 0; sub < 16; ++sub) {
        out[kQ6_KScales + size_t(sub * kGroupRows + r)] = uint8_t(block.scales[sub]);
        unsigned char* piece = out + kQ6_KQuants + size_t(sub) * kQ6_KSubBlock + 4 * size_t(r);
        for (int k = 0; k < 4; ++k) {
          const int e = 16 * sub + k;
          piece[k] = uint8_t((q6_k_get(block, e) & 15) | (q6_k_get(block, e + 4) & 15) << 4);
          piece[32 + k] = uint8_t((q6_k_get(block, e + 8) & 15) | (q6_k_get(block, e + 12) & 15) << 4);
          int high = 0;
          for (int j = 0; j < 4; ++j) high |= (q6_k_get(block, e + 4 * j) >> 4) << (2 * j);
          piece[64 + k] = uint8_t(high);
        }
      }
    }
  }
}

void deinterleave_q6_k(const unsigned char* group, int r, int64_t n, unsigned char* row) {
  for (int64_t b = 0; b < n / kSuperBlock; ++b, group += kQ6_KGroup) {
    BlockQ6_K block{};
    std::memcpy(&block.d, group + 2 * r, sizeof block.d);
    for (int sub = 0; sub < 16; ++sub) {
      block.scales[sub] = int8_t(group[kQ6_KScales + size_t(sub * kGroupRows + r)]);
      const unsigned char* piece = group + kQ6_KQuants + size_t(sub) * kQ6_KSubBlock + 4 * size_t(r);
      for (int k = 0; k < 4; ++k) {
        const int e = 16 * sub + k;
        const int lows[4] = {piece[k] & 15, piece[k] >> 4, piece[32 + k] & 15, piece[32 + k] >> 4};
        for (int j = 0; j < 4; ++j) q6_k_set(block, e + 4 * j, lows[j] | ((piece[64 + k] >> (2 * j)) & 3) << 4);
      }
    }
    std::memcpy(row + size_t(b) * sizeof block, &block, sizeof block);
  }
}

void check_group_type(DType type) {
  if (!has_group_layout(type)) fail("row groups: ", dtype_name(type), " has no group layout");
}

}  // namespace

bool has_group_layout(DType type) {
  return type == DType::Q8_0 || type == DType::Q4_0 || type == DType::Q4_K || type == DType::Q6_K;
}

size_t group_activation_row_bytes(DType type, int64_t n) {
  check_group_type(type);
  const size_t row = activation_row_bytes(type, n);
  if (type == DType::Q8_0 || type == DType::Q4_0) return row + size_t(n / kLegacyBlock) * kQ8_0Trailer;
  return row + size_t(n / kSuperBlock) * kQ8_KTrailer;
}

void quantize_group_activation_row(DType type, const float* x, void* dst, int64_t n) {
  check_group_type(type);
  quantize_activation_row(type, x, dst, n);
  auto* bytes = static_cast<unsigned char*>(dst);
  unsigned char* trailer = bytes + activation_row_bytes(type, n);
  if (type == DType::Q8_0 || type == DType::Q4_0) {
    for (int64_t b = 0; b < n / kLegacyBlock; ++b, trailer += kQ8_0Trailer) {
      const auto block = load_block<BlockQ8_0>(bytes, b);
      const float d = f16_to_f32(block.d);
      int32_t offset = 0;
      for (int8_t q : block.qs) offset += 8 * int32_t(q);
      std::memcpy(trailer, &d, sizeof d);
      std::memcpy(trailer + sizeof d, &offset, sizeof offset);
    }
    return;
  }
  for (int64_t b = 0; b < n / kSuperBlock; ++b, trailer += kQ8_KTrailer) {
    const auto block = load_block<BlockQ8_K>(bytes, b);
    for (int j = 0; j < 8; ++j) {
      const auto sum = int16_t(block.bsums[2 * j] + block.bsums[2 * j + 1]);
      std::memcpy(trailer + 2 * j, &sum, sizeof sum);
    }
  }
}

void interleave_rows(DType type, const void* rows, size_t row_bytes, int64_t n, void* group) {
  check_group_type(type);
  const auto* in = static_cast<const unsigned char*>(rows);
  auto* out = static_cast<unsigned char*>(group);
  if (type == DType::Q8_0) {
    interleave_legacy<BlockQ8_0>(in, row_bytes, n, out);
  } else if (type == DType::Q4_0) {
    interleave_legacy<BlockQ4_0>(in, row_bytes, n, out);
  } else if (type == DType::Q4_K) {
    interleave_q4_k(in, row_bytes, n, out);
  } else {
    interleave_q6_k(in, row_bytes, n, out);
  }
}

void interleave_matrix(DType type, const void* in, int64_t rows, int64_t n, void* out) {
  if (rows % kGroupRows != 0) fail("row groups: ", rows, " rows are not whole groups of ", kGroupRows);
  const size_t row_bytes = dtype_row_bytes(type, n), group_bytes = row_bytes * kGroupRows;
  thread_local std::vector<unsigned char> group;  // one group's rows, copied out before the group is written
  group.resize(group_bytes);
  for (int64_t g = 0; g < rows / kGroupRows; ++g) {
    std::memcpy(group.data(), static_cast<const unsigned char*>(in) + size_t(g) * group_bytes, group_bytes);
    interleave_rows(type, group.data(), row_bytes, n, static_cast<unsigned char*>(out) + size_t(g) * group_bytes);
  }
}

void deinterleave_row(DType type, const void* group, int r, int64_t n, void* row) {
  check_group_type(type);
  const auto* in = static_cast<const unsigned char*>(group);
  auto* out = static_cast<unsigned char*>(row);
  if (type == DType::Q8_0) {
    deinterleave_legacy<BlockQ8_0>(in, r, n, out);
  } else if (type == DType::Q4_0) {
    deinterleave_legacy<BlockQ4_0>(in, r, n, out);
  } else if (type == DType::Q4_K) {
    deinterleave_q4_k(in, r, n, out);
  } else {
    deinterleave_q6_k(in, r, n, out);
  }
}

// Each row taken back out of the group and dotted by the row code: the twin is the row kernel itself, and the
// layout is tested by the round trip. (The portable path, not a fast one: it copies each row out first.)
void dot_group_scalar(DType type, const void* group, const void* activations, size_t activation_stride, int columns,
                      int64_t n, float* out) {
  thread_local std::vector<unsigned char> row;  // grows to the widest row once per thread
  row.resize(dtype_row_bytes(type, n));
  for (int r = 0; r < kGroupRows; ++r) {
    deinterleave_row(type, group, r, n, row.data());
    for (int c = 0; c < columns; ++c) {
      out[c * kGroupRows + r] = vec_dot_row(
          type, row.data(), static_cast<const unsigned char*>(activations) + size_t(c) * activation_stride, n);
    }
  }
}

}  // namespace dsmoe::quant
