// Weight rows interleaved in groups of eight, the layout the eight-row kernels read (kernels/row_dot.h,
// RowKernels::group_dot). A matrix-vector product over rows stored one after another reads one row at a time and
// must add each row's partial sums across a vector's lanes at the end; with eight rows side by side, one
// vector load holds a piece of every row, one integer dot product gives each row's partial sum in a lane of its
// own, and the eight rows' scales convert in one instruction. llama.cpp repacks Q4_0 and Q4_K the same way (its
// "q4_0_8x8" and "q4_K_8x8" CPU layouts) for the same reason; the byte orders below are ours. A group holds
// exactly the bytes of its eight rows, so a tensor is rearranged in place and its size does not change.
//
// Q4_0, eight rows of n values, n / 32 blocks each. Group block b (144 bytes, the eight rows' blocks b):
//   bytes   0..15  the eight rows' f16 scales d, row r at 2r;
//   bytes  16..143 four pieces j = 0..3 of 32 bytes: bytes 4j..4j+3 of each row's 16 quant bytes, row r at 4r.
// Quant byte i of a row holds element i in its low nibble and element i + 16 in its high nibble (BlockQ4_0), so
// piece j holds elements 4j..4j+3 (low nibbles) and 16+4j..16+4j+3 (high nibbles) of every row.
//
// Q8_0, n / 32 blocks. Group block b (272 bytes): bytes 0..15 the eight rows' f16 scales d, row r at 2r; bytes
// 16..271 eight pieces j = 0..7 of 32 bytes: quants 4j..4j+3 of each row, row r at 4r.
//
// Q4_K, n / 256 super-blocks. Group super-block b (1152 bytes), with sc[r][j], m[r][j] row r's 6-bit scale and
// minimum of sub-block j (k_scale_min):
//   bytes    0..15   the rows' f16 d;   bytes 16..31  the rows' f16 dmin;
//   bytes   32..95   for j = 0..7, for r = 0..7: (sc[r][j] & 15) | (m[r][j] & 15) << 4;
//   bytes   96..127  for r = 0..7 a little-endian uint32: bits 2j, 2j+1 = sc[r][j] >> 4, bits 16+2j, 17+2j =
//                    m[r][j] >> 4 (so eight rows' scales of one sub-block unpack with a few vector shifts);
//   bytes  128..1151 for p = 0..3, for k = 0..7: bytes 32p+4k .. 32p+4k+3 of each row's 128 quant bytes, row r
//                    at 4r (low nibbles: sub-block 2p, elements 4k..4k+3; high nibbles: sub-block 2p+1).
//
// Q6_K, n / 256 super-blocks; q[r][e] is row r's 6-bit quant (0..63) of element e (0..255). Group super-block b (1680
// bytes):
//   bytes    0..15   the rows' f16 d;   bytes 16..143  for sub-block s = 0..15, for r: the int8 scale;
//   bytes  144..1679 for s = 0..15, 96 bytes: three pieces of 32 (row r at 4r), with e = 16s + k for k = 0..3:
//                    byte k of the first  = q[e] & 15 | (q[e+4] & 15) << 4,
//                    byte k of the second = q[e+8] & 15 | (q[e+12] & 15) << 4,
//                    byte k of the third  = the top 2 bits of q[e + 4j] at bits 2j, 2j+1 (j = 0..3),
//                    so each of the sub-block's four runs of four elements comes out with two masks and a shift.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace dsmoe::quant {

inline constexpr int kGroupRows = 8;

// Whether `type` has a group layout and an eight-row kernel (Q8_0, Q4_0, Q4_K and Q6_K).
bool has_group_layout(DType type);

// Eight rows of n values of `type`, `row_bytes` apart, into one group (8 x row_bytes bytes at `group`; the two
// must not overlap).
void interleave_rows(DType type, const void* rows, size_t row_bytes, int64_t n, void* group);

// A whole matrix of `rows` rows (a multiple of eight) of n values, group after group, from `in` to `out`; `out`
// may be `in` (each group is copied out before it is overwritten).
void interleave_matrix(DType type, const void* in, int64_t rows, int64_t n, void* out);

// Row `r` of a group back as it was stored (the inverse of interleave_rows).
void deinterleave_row(DType type, const void* group, int r, int64_t n, void* row);

// The activations of the eight-row kernels: the row format quant/vec_dot.h pairs with `type` (Q8_0 for Q8_0 and
// Q4_0, Q8_K for Q4_K and Q6_K), then a trailer of per-block numbers that every column of a kernel would otherwise
// recompute for each group of eight rows it meets (a matrix has thousands of groups, a token one row):
//   Q8_0, per block: float d (the block's f16 scale, widened: exact), int32 8 x the sum of its 32 quants (the
//         part of q x a the weights' -8 offset takes off);
//   Q8_K, per super-block: eight int16, the sums of each 32 quants (bsums[2j] + bsums[2j + 1], at most
//         32 x 128 in magnitude), which meet Q4_K's eight minimums.
// The rows' bytes come first and unchanged, so the scalar twin reads a group activation row as a plain one.
size_t group_activation_row_bytes(DType type, int64_t n);
void quantize_group_activation_row(DType type, const float* x, void* dst, int64_t n);

// The scalar twins of the eight-row kernels: out[c * 8 + r] = row r of the group dotted with activation row c
// (`activation_stride` bytes apart), each bit for bit what vec_dot_row gives row r on its own.
void dot_group_scalar(DType type, const void* group, const void* activations, size_t activation_stride, int columns,
                      int64_t n, float* out);

}  // namespace dsmoe::quant
