#include "io/tensor_store.h"

#include <filesystem>
#include <set>

#include "core/errors.h"
#include "dsmoe/json_file.h"

namespace dsmoe {
namespace fs = std::filesystem;

SafetensorsStore::SafetensorsStore(const std::string& model_dir, FileAccess access)
    : directory_(model_dir), access_(access) {
  const fs::path dir(model_dir);
  const fs::path index_path = dir / "model.safetensors.index.json";
  const fs::path single_path = dir / "model.safetensors";
  if (fs::exists(index_path)) {
    const nlohmann::json index = read_json_file(index_path.string());
    if (!index.contains("weight_map") || !index["weight_map"].is_object()) {
      fail(index_path.string(), ": missing object 'weight_map'");
    }
    std::set<std::string> shard_names;
    for (const auto& [tensor, shard] : index["weight_map"].items()) {
      if (!shard.is_string()) fail(index_path.string(), ": weight_map['", tensor, "'] is not a file name");
      const std::string shard_name = shard.get<std::string>();
      if (shard_name.find('/') != std::string::npos) {
        fail(index_path.string(), ": weight_map['", tensor, "'] names '", shard_name, "', outside the directory");
      }
      shard_names.insert(shard_name);
    }
    for (const auto& shard : shard_names) add_file((dir / shard).string());
    for (const auto& [tensor, shard] : index["weight_map"].items()) {
      auto it = owner_.find(tensor);
      const std::string shard_name = shard.get<std::string>();
      if (it == owner_.end() || fs::path(it->second->path()).filename() != shard_name) {
        fail(index_path.string(), ": tensor '", tensor, "' is listed in ", shard_name, " but not found there");
      }
    }
  } else if (fs::exists(single_path)) {
    add_file(single_path.string());
  } else {
    fail(model_dir, ": no model.safetensors or model.safetensors.index.json");
  }
}

void SafetensorsStore::add_file(const std::string& path) {
  files_.push_back(std::make_unique<SafetensorsFile>(path, access_));
  const SafetensorsFile* file = files_.back().get();
  for (const auto& [name, view] : file->tensors()) {
    auto [it, inserted] = owner_.emplace(name, file);
    if (!inserted) fail("tensor '", name, "' appears in both ", it->second->path(), " and ", path);
  }
}

const TensorView* SafetensorsStore::find(const std::string& name) const {
  auto it = owner_.find(name);
  return it == owner_.end() ? nullptr : &it->second->tensors().at(name);
}

std::vector<std::string> SafetensorsStore::names() const {
  std::vector<std::string> out;
  for (const auto& entry : owner_) out.push_back(entry.first);
  return out;
}

std::string SafetensorsStore::origin(const std::string& name) const {
  auto it = owner_.find(name);
  return it == owner_.end() ? std::string("<no file>") : it->second->path();
}

const TensorView* MemoryStore::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::vector<std::string> MemoryStore::names() const {
  std::vector<std::string> out;
  for (const auto& entry : tensors_) out.push_back(entry.first);
  return out;
}

}  // namespace dsmoe
