// quantize_row: float32 rows into any storage format. Element formats round to nearest even; block formats
// go to llama.cpp's reference quantizers (quantize_legacy.cpp, quantize_k.cpp).
#include "quant/quantize.h"

#include "core/errors.h"
#include "core/parallel.h"
#include "quant/row_kernels.h"

namespace dsmoe {

void quantize_row(DType type, const float* src, void* dst, int64_t n) {
  auto* out = static_cast<unsigned char*>(dst);
  if (is_block_format(type)) {
    const int64_t blocks = quant::row_blocks(type, n, "quantize_row");
    switch (type) {
      case DType::Q8_0:
        return quant::quantize_q8_0(src, dst, blocks);
      case DType::Q4_0:
        return quant::quantize_q4_0(src, dst, blocks);
      case DType::Q4_1:
        return quant::quantize_q4_1(src, dst, blocks);
      case DType::Q5_0:
        return quant::quantize_q5_0(src, dst, blocks);
      case DType::Q5_1:
        return quant::quantize_q5_1(src, dst, blocks);
      case DType::Q4_K:
        return quant::quantize_q4_k(src, dst, blocks);
      case DType::Q5_K:
        return quant::quantize_q5_k(src, dst, blocks);
      case DType::Q6_K:
        return quant::quantize_q6_k(src, dst, blocks);
      default:
        fail("quantize_row: no block layout for ", dtype_name(type));
    }
  }
  switch (type) {
    case DType::F32:
      std::memcpy(out, src, size_t(n) * sizeof(float));
      return;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t bits = f32_to_f16(src[i]);
        std::memcpy(out + 2 * i, &bits, 2);
      }
      return;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t bits = f32_to_bf16(src[i]);
        std::memcpy(out + 2 * i, &bits, 2);
      }
      return;
    default:
      fail("quantize_row: unknown type ", dtype_name(type));
  }
}

void quantize_rows(DType type, const float* src, void* dst, int64_t rows, int64_t cols) {
  const size_t row_bytes = dtype_row_bytes(type, cols);
  auto* out = static_cast<unsigned char*>(dst);
  parallel_for(rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) quantize_row(type, src + r * cols, out + size_t(r) * row_bytes, cols);
  });
}

}  // namespace dsmoe
