// y = x · Wᵀ for a weight W stored [out_features, in_features] (the nn.Linear layout), in any supported dtype;
// x and y are float32. Block-format weights (Q8_0 ... Q6_K) multiply as llama.cpp does: each token's x is
// quantized once to the paired 8-bit format, and each output is an integer dot product per block scaled in float.
//
// The work is split over threads by output rows only, and each output is computed by the same kernel call
// whatever thread runs it and whatever tokens lie beside it, so results are bit-identical for any thread count.
// Several products can run in one parallel step (matmul_wt_batch): the rows of all of them are shared out
// together, which is what keeps two cores busy on the small products of one decoded token.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/tensor_view.h"

namespace dsmoe {

// One product: y [n_tokens, out] = x [n_tokens, in] · Wᵀ; W.shape == {out, in}.
struct MatmulJob {
  const float* x = nullptr;
  int64_t n_tokens = 0;
  const TensorView* weight = nullptr;
  float* y = nullptr;
};

// Buffers the products reuse from call to call (the quantized activations): after the first calls of a given
// size, a matmul allocates nothing.
struct MatmulScratch {
  std::vector<unsigned char> activations;
  std::vector<size_t> offsets;  // per job: where its quantized activations start
  std::vector<size_t> owners;   // the jobs whose x is quantized (the others share one of theirs)
};

// Runs every job; jobs may share an x (it is quantized once). Outputs must not overlap any input.
void matmul_wt_batch(std::span<const MatmulJob> jobs, MatmulScratch& scratch);
inline void matmul_wt(const MatmulJob& job, MatmulScratch& scratch) {
  matmul_wt_batch(std::span<const MatmulJob>(&job, 1), scratch);
}

// One product with the calling thread's scratch.
void matmul_wt(const float* x, int64_t n_tokens, const TensorView& weight, float* y);

// The scalar twin: a plain triple loop accumulating in double over the dequantized weight and the float x
// (so for block formats it differs from matmul_wt by the activation quantization). Tests compare the two.
void matmul_wt_reference(const float* x, int64_t n_tokens, const TensorView& weight, float* y);

// Sum of a[i]*b[i] (the preferred instruction set's F32 row kernel).
float dot_f32(const float* a, const float* b, int64_t n);

}  // namespace dsmoe
