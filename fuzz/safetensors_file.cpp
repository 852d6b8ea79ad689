// Fuzz target: a safetensors file (header length, JSON header, data) as SafetensorsFile reads it.
#include "core/errors.h"
#include "fuzz_input.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static dsmoe::fuzz::MemoryFile file;
  try {
    const dsmoe::SafetensorsFile tensors(file.write(data, size));
    size_t bytes = 0;
    for (const auto& [name, view] : tensors.tensors()) bytes += name.size() + size_t(view.numel());
    if (bytes == size_t(-1)) return 1;  // keeps the walk over the views from being optimised away
  } catch (const dsmoe::Error&) {
  }
  return 0;
}
