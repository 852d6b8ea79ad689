// All tensors of a checkpoint directory: model.safetensors, or the shards listed by
// model.safetensors.index.json. Tensors are looked up by their HF names.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor_view.h"
#include "io/safetensors.h"

namespace dsmoe {

// Where weights come from, by name. Tests supply tensors from memory through the same interface.
class TensorSource {
 public:
  virtual ~TensorSource() = default;
  virtual const TensorView* find(const std::string& name) const = 0;
  virtual std::vector<std::string> names() const = 0;
  virtual std::string origin(const std::string& name) const = 0;  // the file, for error messages
  virtual std::string location() const = 0;                       // the directory, for missing tensors
};

class SafetensorsStore : public TensorSource {
 public:
  explicit SafetensorsStore(const std::string& model_dir, FileAccess access = FileAccess::kMap);

  const TensorView* find(const std::string& name) const override;
  std::vector<std::string> names() const override;
  std::string origin(const std::string& name) const override;
  std::string location() const override { return directory_; }
  size_t file_count() const { return files_.size(); }

 private:
  std::string directory_;
  FileAccess access_;
  void add_file(const std::string& path);

  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*> owner_;
};

// Tensors held in memory (tests, converters).
class MemoryStore : public TensorSource {
 public:
  void add(const std::string& name, TensorView view) { tensors_[name] = std::move(view); }
  const TensorView* find(const std::string& name) const override;
  std::vector<std::string> names() const override;
  std::string origin(const std::string&) const override { return "<memory>"; }
  std::string location() const override { return "<memory>"; }

 private:
  std::map<std::string, TensorView> tensors_;
};

}  // namespace dsmoe
