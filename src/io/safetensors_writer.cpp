#include "io/safetensors_writer.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/errors.h"

namespace dsmoe {

SafetensorsWriter::SafetensorsWriter(std::string path, std::vector<Entry> entries)
    : path_(std::move(path)), entries_(std::move(entries)) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const Entry& e : entries_) {
    if (is_block_format(e.dtype))
      fail(path_, ": safetensors cannot hold ", dtype_name(e.dtype), " tensor '", e.name, "'");
    uint64_t n = dtype_size(e.dtype);
    for (int64_t d : e.shape) n *= uint64_t(d);
    sizes_.push_back(size_t(n));
    header[e.name] = {
        {"dtype", std::string(dtype_name(e.dtype))}, {"shape", e.shape}, {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');  // keeps the data 8-byte aligned, as the safetensors library does
  out_.open(path_ + ".partial", std::ios::binary | std::ios::trunc);
  if (!out_) fail(path_, ".partial: cannot open for writing");
  const uint64_t length = text.size();
  unsigned char le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(length >> (8 * i));
  out_.write(reinterpret_cast<const char*>(le), 8);
  out_.write(text.data(), std::streamsize(text.size()));
}

SafetensorsWriter::~SafetensorsWriter() {
  if (!finished_) {
    out_.close();
    std::remove((path_ + ".partial").c_str());
  }
}

void SafetensorsWriter::write_tensor(const std::string& name, const void* bytes, size_t n) {
  if (next_ >= entries_.size() || entries_[next_].name != name)
    fail(path_, ": tensor '", name, "' written out of the declared order");
  if (n != sizes_[next_]) fail(path_, ": tensor '", name, "' has ", n, " bytes, declared ", sizes_[next_]);
  out_.write(static_cast<const char*>(bytes), std::streamsize(n));
  ++next_;
}

void SafetensorsWriter::finish() {
  if (next_ != entries_.size()) fail(path_, ": only ", next_, " of ", entries_.size(), " tensors were written");
  out_.close();
  if (!out_) fail(path_, ".partial: write failed (disk full?)");
  std::filesystem::rename(path_ + ".partial", path_);
  finished_ = true;
}

}  // namespace dsmoe
