// The x86 kernels for AVX-512 F/BW/DQ/VL + VNNI + BF16 (CMakeLists.txt compiles this file with those flags).
#define DSMOE_KERNEL_NS avx512
#define DSMOE_KERNEL_ISA Isa::kAvx512
#define DSMOE_KERNEL_FILL fill_avx512
#include "kernels/attention_tile.inl"
#include "kernels/row_dot_x86.inl"
