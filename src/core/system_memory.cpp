#include "core/system_memory.h"

#include <fstream>
#include <string>

#include "core/errors.h"

namespace dsmoe {

int64_t available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key, unit;
  int64_t kib = 0;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024;
  }
  return -1;
}

void require_available_memory(uint64_t bytes, const std::string& what, const std::string& hint) {
  const int64_t available = available_memory_bytes();
  if (available >= 0 && bytes > uint64_t(available)) {
    fail(what, " needs ", bytes >> 20, " MiB, more than the ", available >> 20, " MiB of memory available (", hint,
         ")");
  }
}

}  // namespace dsmoe
