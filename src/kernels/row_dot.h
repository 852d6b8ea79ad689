// The innermost loops of the matrix products and of attention, one set per instruction set (kernels/isa.h):
// a weight row dotted with up to four activation rows at once (decoding the row's blocks once for all of
// them is what makes prefill faster than repeated decode), and the float row operations attention needs.
//
// Activations are float32 for F32/F16/BF16 weights and, for block formats, the paired 8-bit format
// (quant/vec_dot.h: quantize_activation_row). Each column's result is computed by the same sequence of
// operations whatever `columns` is, so a token's output does not depend on the tokens beside it, nor on the
// thread that computed it. Different instruction sets sum in different orders: they agree to rounding, and
// the tests compare every set against the scalar twin.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "kernels/attention_tile.h"
#include "kernels/isa.h"

namespace dsmoe {

inline constexpr int kMaxColumns = 4;

// out[c] = weight_row · activation row c, the rows lying activation_stride bytes apart; 1 <= columns <= 4.
using RowDotFn = void (*)(const void* weight_row, const void* activations, size_t activation_stride, int columns,
                          int64_t n, float* out);
// The same for eight rows at once: out[c * 8 + r] = row r of the group dotted with activation row c;
// 1 <= columns <= 4. For the block formats with a group layout (quant::has_group_layout: Q8_0, Q4_0, Q4_K,
// Q6_K) the eight rows are interleaved into one group (quant/interleave.h) and the activations carry its
// trailer; for the element formats (F32, F16, BF16) they are eight consecutive rows as stored.
using RowGroupDotFn = void (*)(const void* group, const void* activations, size_t activation_stride, int columns,
                               int64_t n, float* out);
// y[i] += a * x[i] for a row x stored as F32, F16, BF16 or Q8_0 (attention's weighted sum of values).
using RowAxpyFn = void (*)(float a, const void* x, float* y, int64_t n);
// y[i] = x[i] for a row x stored as F32, F16, BF16 or Q8_0: exact (every such value is a float32).
using RowWidenFn = void (*)(const void* x, float* y, int64_t n);

struct RowKernels {
  Isa isa = Isa::kScalar;
  RowDotFn row_dot[kDTypeCount] = {};    // by weight DType
  RowGroupDotFn group_dot[kDTypeCount] = {};  // by weight DType: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K
  RowAxpyFn row_axpy[kDTypeCount] = {};  // F32, F16, BF16 and Q8_0 only
  RowWidenFn row_widen[kDTypeCount] = {};  // F32, F16, BF16 and Q8_0 only
  AttendTileFn attend_tile = nullptr;      // kernels/attention_tile.h
  AttendRowFn attend_row = nullptr;
};

// The kernels of preferred_isa(), chosen on first use.
const RowKernels& row_kernels();

// The kernels of one instruction set (tests compare them); an error if this CPU cannot run them.
const RowKernels& row_kernels(Isa isa);

// Each instruction set's kernels, from its own translation unit (row_dot_<isa>.cpp).
namespace kernels_detail {
void fill_scalar(RowKernels& kernels);
void fill_avx2(RowKernels& kernels);
void fill_avx512(RowKernels& kernels);
}  // namespace kernels_detail

}  // namespace dsmoe
