// Rows of weights to and from llama.cpp's storage formats (src/quant/block_formats.h has the layouts).
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace dsmoe {

// n float32 values from a row stored as `type` (any DType; n a multiple of the block size). Bit for bit what
// llama.cpp's dequantize_row_* and gguf-py's dequantize give.
void dequantize_row(DType type, const void* src, float* dst, int64_t n);

// n float32 values into a row of `type` (dtype_row_bytes(type, n) bytes at dst). Block formats follow
// llama.cpp's reference quantizers (quantize_row_*_ref, what llama-quantize uses without an importance
// matrix), so the bytes equal llama.cpp's for the same input. F16/BF16 round to nearest even.
void quantize_row(DType type, const float* src, void* dst, int64_t n);

// A [rows, cols] float32 matrix into `rows` rows of `type`, spread over threads. Each row is quantized alone, so
// the bytes do not depend on the thread count. (Dequantizing whole rows needs no twin: blocks never cross a row,
// so one dequantize_row over rows * cols values does it.)
void quantize_rows(DType type, const float* src, void* dst, int64_t rows, int64_t cols);

}  // namespace dsmoe
