// What the machine can hold: the kernel's estimate of memory available to a new allocation without swapping.
#pragma once

#include <cstdint>
#include <string>

namespace dsmoe {

// MemAvailable from /proc/meminfo in bytes, or -1 where the system does not say.
int64_t available_memory_bytes();

// An Error "WHAT needs N MiB, more than the M MiB of memory available (HINT)" when `bytes` exceed what the
// system reports; nothing where it does not say. For buffers whose pages would only be touched later, so that the
// allocation would succeed and the process die mid-run instead.
void require_available_memory(uint64_t bytes, const std::string& what, const std::string& hint);

}  // namespace dsmoe
