// Instruction sets the kernels are built for, and which of them this CPU runs. The kernels of every set are in
// the binary (src/kernels/row_dot_*.cpp, each compiled for its own set); the best the CPU supports is chosen at
// run time, so one build serves machines with and without AVX-512.
#pragma once

#include <string_view>
#include <vector>

namespace dsmoe {

enum class Isa {
  kScalar,  // portable C++: the twin every SIMD kernel is tested against
  kAvx2,    // AVX2 + FMA + F16C
  kAvx512,  // AVX-512 F/BW/DQ/VL with VNNI (int8 dot products) and BF16
};

std::string_view isa_name(Isa isa);

// Whether this CPU (and OS, for the wide registers) can run the kernels of `isa`.
bool cpu_supports(Isa isa);

// Every instruction set this CPU runs, scalar first.
std::vector<Isa> supported_isas();

// The best set this CPU runs, or the one the environment variable DSMOE_ISA names (scalar, avx2, avx512); a
// name the CPU cannot run is an error.
Isa preferred_isa();

}  // namespace dsmoe
