// What the machine can hold: the kernel's estimate of memory available to a new allocation without swapping.
#pragma once

#include <cstdint>

namespace dsmoe {

// MemAvailable from /proc/meminfo in bytes, or -1 where the system does not say.
int64_t available_memory_bytes();

}  // namespace dsmoe
