#include "quant/quantize.h"

#include "core/errors.h"

namespace dsmoe {

void dequantize_row(DType type, const void* src, float* dst, int64_t n) {
  if (!is_block_format(type)) {
    convert_to_f32(type, src, dst, size_t(n));
    return;
  }
  fail("dequantize_row: ", dtype_name(type), " is not implemented yet");
}

void quantize_row(DType type, const float* src, void* dst, int64_t n) {
  auto* out = static_cast<unsigned char*>(dst);
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
      fail("quantize_row: ", dtype_name(type), " is not implemented yet");
  }
}

}  // namespace dsmoe
