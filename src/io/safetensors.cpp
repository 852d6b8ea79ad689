#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <tuple>
#include <vector>

#include "core/errors.h"
#include "dsmoe/json_file.h"

namespace dsmoe {
namespace {

// A header larger than this is not a real checkpoint header but a corrupt length field.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

std::vector<int64_t> parse_shape(const nlohmann::json& entry, const std::string& where) {
  if (!entry.contains("shape") || !entry["shape"].is_array()) fail(where, ": missing or non-array 'shape'");
  std::vector<int64_t> shape;
  uint64_t numel = 1;
  for (const auto& dim : entry["shape"]) {
    if (!dim.is_number_integer() || dim.get<int64_t>() < 0) {
      fail(where, ": shape entries must be non-negative integers, found ", dim.dump());
    }
    const auto d = dim.get<uint64_t>();
    if (d != 0 && numel > std::numeric_limits<uint64_t>::max() / 4 / d) fail(where, ": shape overflows");
    numel *= d;
    shape.push_back(int64_t(d));
  }
  return shape;
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path, FileAccess access) : file_(path, access) {
  const size_t file_size = file_.size();
  if (file_size < 8) fail(path, ": truncated safetensors file (", file_size, " bytes, header length needs 8)");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | file_.data()[i];
  if (header_len > kMaxHeaderBytes || header_len > file_size - 8) {
    fail(path, ": header length ", header_len, " does not fit in the file of ", file_size, " bytes");
  }
  const char* header_begin = reinterpret_cast<const char*>(file_.data() + 8);
  const nlohmann::json header =
      parse_json_text(header_begin, header_begin + header_len, path + " (safetensors header)", true);
  if (!header.is_object()) fail(path, ": safetensors header is not a JSON object");

  const unsigned char* data_begin = file_.data() + 8 + header_len;
  const uint64_t data_size = file_size - 8 - header_len;
  std::vector<std::tuple<uint64_t, uint64_t, std::string>> ranges;  // [begin, end) of every tensor
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = cat(path, ": tensor '", name, "'");
    if (!entry.is_object()) fail(where, ": entry is not an object");
    if (!entry.contains("dtype") || !entry["dtype"].is_string()) fail(where, ": missing 'dtype'");
    TensorView view;
    const std::string dtype = entry["dtype"].get<std::string>();
    if (!parse_dtype(dtype, &view.dtype) || is_block_format(view.dtype)) {
      fail(where, ": dtype ", dtype, " is not supported (expected F32, F16 or BF16)");
    }
    view.shape = parse_shape(entry, where);
    const auto& offsets = entry.contains("data_offsets") ? entry["data_offsets"] : nlohmann::json();
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      fail(where, ": 'data_offsets' must be two non-negative integers");
    }
    const auto begin = offsets[0].get<uint64_t>();
    const auto end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_size) {
      fail(where, ": data_offsets [", begin, ", ", end, "] lie outside the ", data_size,
           " data bytes of the file (truncated or corrupt)");
    }
    const uint64_t expected = uint64_t(view.numel()) * dtype_size(view.dtype);
    if (end - begin != expected) {
      fail(where, ": data_offsets span ", end - begin, " bytes but ", dtype, " ", view.shape_text(), " needs ",
           expected);
    }
    ranges.emplace_back(begin, end, name);
    const unsigned char* bytes = data_begin + begin;
    if (reinterpret_cast<uintptr_t>(bytes) % dtype_size(view.dtype) != 0) {
      // Rare (a header padded to an odd length): copy so kernels can load elements directly.
      auto copy = std::make_unique<float[]>((expected + 3) / 4);
      std::memcpy(copy.get(), bytes, expected);
      view.data = copy.get();
      aligned_copies_.push_back(std::move(copy));
    } else {
      view.data = bytes;
    }
    tensors_.emplace(name, std::move(view));
  }
  // As the safetensors library validates: the tensors tile the data bytes in order, without a gap or an
  // overlap, from the first byte to the last.
  std::sort(ranges.begin(), ranges.end());
  uint64_t covered = 0;
  const std::string* previous = nullptr;
  for (const auto& [begin, end, name] : ranges) {
    if (begin != covered) {
      if (begin < covered) {
        fail(path, ": tensor '", name, "' at bytes [", begin, ", ", end, ") overlaps tensor '", *previous,
             "' ending at ", covered);
      }
      fail(path, ": bytes [", covered, ", ", begin, ") of the data belong to no tensor (before tensor '", name, "')");
    }
    covered = end;
    previous = &name;
  }
  if (covered != data_size) {
    fail(path, ": the tensors cover ", covered, " of the ", data_size, " data bytes (the rest belongs to no tensor)");
  }
}

}  // namespace dsmoe
