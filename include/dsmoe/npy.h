// Writing NumPy .npy files (format 1.0, little-endian, C order): how logits, hidden states and
// routing leave dsmoe for comparison with other implementations.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dsmoe {

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape);
void write_npy(const std::string& path, const int32_t* data, const std::vector<int64_t>& shape);

}  // namespace dsmoe
