// Fuzz target: model.safetensors.index.json in a folder beside one valid shard, as SafetensorsStore reads it
// (weight_map, shard names, tensors listed against the shards).
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/errors.h"
#include "fuzz_input.h"
#include "io/tensor_store.h"

namespace {

// A folder holding a.safetensors with one F32 tensor "w" of 2 elements; made once per process.
std::string make_folder() {
  char pattern[] = "/tmp/dsmoe-fuzz-index-XXXXXX";
  if (mkdtemp(pattern) == nullptr) std::abort();
  const std::string dir = pattern;
  const std::string header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::ofstream shard(dir + "/a.safetensors", std::ios::binary);
  const uint64_t length = header.size();
  shard.write(reinterpret_cast<const char*>(&length), 8);
  shard << header;
  const float values[2] = {1.0f, 2.0f};
  shard.write(reinterpret_cast<const char*>(values), sizeof values);
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = make_folder();
  {
    std::ofstream index(dir + "/model.safetensors.index.json", std::ios::binary | std::ios::trunc);
    index.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  }
  try {
    const dsmoe::SafetensorsStore store(dir);
    for (const std::string& name : store.names()) (void)store.find(name);
  } catch (const dsmoe::Error&) {
  }
  return 0;
}
