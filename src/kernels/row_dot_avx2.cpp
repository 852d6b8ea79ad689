// The x86 kernels for AVX2 + FMA + F16C (CMakeLists.txt compiles this file with those flags and no AVX-512).
#define DSMOE_KERNEL_NS avx2
#define DSMOE_KERNEL_ISA Isa::kAvx2
#define DSMOE_KERNEL_FILL fill_avx2
#include "kernels/attention_tile.inl"
#include "kernels/row_dot_x86.inl"
