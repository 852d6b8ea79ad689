#include "kernels/row_dot.h"

#include "core/errors.h"

namespace dsmoe {
namespace {

RowKernels make(void (*fill)(RowKernels&)) {
  RowKernels kernels;
  fill(kernels);
  return kernels;
}

}  // namespace

const RowKernels& row_kernels(Isa isa) {
  if (!cpu_supports(isa)) fail("kernels: this CPU cannot run the ", isa_name(isa), " kernels");
  // Built on first use, after the check above.
  static const RowKernels scalar = make(kernels_detail::fill_scalar);
  switch (isa) {
    case Isa::kScalar:
      return scalar;
#if defined(__x86_64__)
    case Isa::kAvx2: {
      static const RowKernels avx2 = make(kernels_detail::fill_avx2);
      return avx2;
    }
    case Isa::kAvx512: {
      static const RowKernels avx512 = make(kernels_detail::fill_avx512);
      return avx512;
    }
#else
    default:
      break;
#endif
  }
  return scalar;
}

const RowKernels& row_kernels() {
  static const RowKernels& chosen = row_kernels(preferred_isa());
  return chosen;
}

}  // namespace dsmoe
