// The scalar twin: the block formats through src/quant's vec_dot_row (ggml's generic order, bit-equal to it),
// the element formats widened to float32 and summed in sixteen lanes, the attention tile step from the same
// vector-extension source every instruction set compiles (attention_tile.inl). Portable C++ with no intrinsics.
#include <cstring>

#include "kernels/row_dot.h"
#include "quant/interleave.h"
#include "quant/quantize.h"
#include "quant/vec_dot.h"

#define DSMOE_KERNEL_NS scalar
#include "kernels/attention_tile.inl"

namespace dsmoe::kernels_detail {
namespace {

float element(DType type, const void* row, int64_t i) {
  switch (type) {
    case DType::F16:
      return f16_to_f32(static_cast<const uint16_t*>(row)[i]);
    case DType::BF16:
      return bf16_to_f32(static_cast<const uint16_t*>(row)[i]);
    default:
      return static_cast<const float*>(row)[i];
  }
}

template <DType kType>
void dot_elements(const void* w, const void* activations, size_t stride, int columns, int64_t n, float* out) {
  constexpr int kLanes = 16;
  for (int c = 0; c < columns; ++c) {
    const auto* x = reinterpret_cast<const float*>(static_cast<const unsigned char*>(activations) + size_t(c) * stride);
    float acc[kLanes] = {};
    for (int64_t i = 0; i < n; ++i) acc[i % kLanes] += element(kType, w, i) * x[i];
    for (int width = kLanes / 2; width > 0; width /= 2) {
      for (int l = 0; l < width; ++l) acc[l] += acc[l + width];
    }
    out[c] = acc[0];
  }
}

// Eight consecutive rows (the element formats' groups), each by the row kernel.
template <DType kType>
void dot_element_rows(const void* rows, const void* activations, size_t stride, int columns, int64_t n, float* out) {
  const size_t row_bytes = dtype_row_bytes(kType, n);
  for (int r = 0; r < quant::kGroupRows; ++r) {
    float row_out[kMaxColumns];
    dot_elements<kType>(static_cast<const unsigned char*>(rows) + size_t(r) * row_bytes, activations, stride, columns,
                        n, row_out);
    for (int c = 0; c < columns; ++c) out[c * quant::kGroupRows + r] = row_out[c];
  }
}

template <DType kType>
void dot_blocks(const void* w, const void* activations, size_t stride, int columns, int64_t n, float* out) {
  for (int c = 0; c < columns; ++c) {
    out[c] = vec_dot_row(kType, w, static_cast<const unsigned char*>(activations) + size_t(c) * stride, n);
  }
}

template <DType kType>
void dot_group(const void* group, const void* activations, size_t stride, int columns, int64_t n, float* out) {
  quant::dot_group_scalar(kType, group, activations, stride, columns, n, out);
}

template <DType kType>
void axpy(float a, const void* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * element(kType, x, i);
}

// Q8_0 rows (the KV cache's 8-bit type): y += a * d * q, block by block.
void axpy_q8_0(float a, const void* x, float* y, int64_t n) {
  const auto* bytes = static_cast<const unsigned char*>(x);
  for (int64_t b = 0; b < n / 32; ++b, bytes += 34) {
    uint16_t d;
    std::memcpy(&d, bytes, sizeof d);
    const float scale = a * f16_to_f32(d);
    const auto* q = reinterpret_cast<const int8_t*>(bytes + 2);
    for (int i = 0; i < 32; ++i) y[32 * b + i] += scale * float(q[i]);
  }
}

template <DType T>
void widen(const void* x, float* y, int64_t n) {
  dequantize_row(T, x, y, n);
}

}  // namespace

void fill_scalar(RowKernels& k) {
  k.isa = Isa::kScalar;
  k.row_dot[int(DType::F32)] = dot_elements<DType::F32>;
  k.row_dot[int(DType::F16)] = dot_elements<DType::F16>;
  k.row_dot[int(DType::BF16)] = dot_elements<DType::BF16>;
  k.row_dot[int(DType::Q8_0)] = dot_blocks<DType::Q8_0>;
  k.row_dot[int(DType::Q4_0)] = dot_blocks<DType::Q4_0>;
  k.row_dot[int(DType::Q4_1)] = dot_blocks<DType::Q4_1>;
  k.row_dot[int(DType::Q5_0)] = dot_blocks<DType::Q5_0>;
  k.row_dot[int(DType::Q5_1)] = dot_blocks<DType::Q5_1>;
  k.row_dot[int(DType::Q4_K)] = dot_blocks<DType::Q4_K>;
  k.row_dot[int(DType::Q5_K)] = dot_blocks<DType::Q5_K>;
  k.row_dot[int(DType::Q6_K)] = dot_blocks<DType::Q6_K>;
  k.group_dot[int(DType::F32)] = dot_element_rows<DType::F32>;
  k.group_dot[int(DType::F16)] = dot_element_rows<DType::F16>;
  k.group_dot[int(DType::BF16)] = dot_element_rows<DType::BF16>;
  k.group_dot[int(DType::Q8_0)] = dot_group<DType::Q8_0>;
  k.group_dot[int(DType::Q4_0)] = dot_group<DType::Q4_0>;
  k.group_dot[int(DType::Q4_K)] = dot_group<DType::Q4_K>;
  k.group_dot[int(DType::Q6_K)] = dot_group<DType::Q6_K>;
  k.row_axpy[int(DType::F32)] = axpy<DType::F32>;
  k.row_axpy[int(DType::F16)] = axpy<DType::F16>;
  k.row_axpy[int(DType::BF16)] = axpy<DType::BF16>;
  k.row_axpy[int(DType::Q8_0)] = axpy_q8_0;
  k.row_widen[int(DType::F32)] = widen<DType::F32>;
  k.row_widen[int(DType::F16)] = widen<DType::F16>;
  k.row_widen[int(DType::BF16)] = widen<DType::BF16>;
  k.row_widen[int(DType::Q8_0)] = widen<DType::Q8_0>;
  k.attend_tile = scalar::attention::attend_tile;
  k.attend_row = scalar::attention::attend_row;
}

}  // namespace dsmoe::kernels_detail
