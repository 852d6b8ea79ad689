// Exposes src/io's GGUF reader and writer to tests/gguf/check_gguf.py, which compares them with gguf-py.
//
//   gguf_probe dump [--no-mmap] FILE.gguf   prints the file as JSON on stdout
//   gguf_probe write SPEC.json OUT.gguf     writes SPEC with GgufWriter
//
// Values are JSON objects {"type": "UINT32", "value": 7}; arrays add "element_type" and list their items, plain
// JSON for scalars and strings, {"element_type", "value"} objects for arrays of arrays. Floats that JSON cannot
// hold are the strings "nan", "inf" and "-inf". Tensors in a dump carry a 64-bit FNV-1a of their bytes; in a
// spec, their bytes as "hex". An Error (a refused file) exits 1 with its message on stderr; any other exception
// exits 3, because it means validation let something through.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/errors.h"
#include "io/gguf_file.h"
#include "io/gguf_writer.h"

namespace {

using dsmoe::GgufValue;
using dsmoe::GgufValueType;
using nlohmann::json;

json float_json(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return value;
}

double float_from_json(const json& item) {
  if (item.is_string()) {
    const std::string text = item.get<std::string>();
    if (text == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (text == "inf") return std::numeric_limits<double>::infinity();
    if (text == "-inf") return -std::numeric_limits<double>::infinity();
    dsmoe::fail("spec: bad float '", text, "'");
  }
  return item.get<double>();
}

// A scalar or string as plain JSON (the element form inside arrays).
json plain_json(const GgufValue& value) {
  switch (value.type()) {
    case GgufValueType::kString:
      return value.as_string();
    case GgufValueType::kBool:
      return value.as_bool();
    case GgufValueType::kFloat32:
    case GgufValueType::kFloat64:
      return float_json(value.as_double());
    case GgufValueType::kUint64:
      return value.as_uint64();
    default:
      return value.as_int64();
  }
}

json array_json(const GgufValue& value) {
  json items = json::array();
  if (value.array_type() == GgufValueType::kArray) {
    for (const GgufValue& inner : value.as_array_array()) items.push_back(array_json(inner));
  } else {
    for (size_t i = 0; i < value.size(); ++i) items.push_back(plain_json(value.at(i)));
  }
  return {{"element_type", dsmoe::gguf_value_type_name(value.array_type())}, {"value", items}};
}

json value_json(const GgufValue& value) {
  if (!value.is_array()) return {{"type", dsmoe::gguf_value_type_name(value.type())}, {"value", plain_json(value)}};
  json out = array_json(value);
  out["type"] = "ARRAY";
  return out;
}

GgufValueType type_from_json(const json& name) {
  GgufValueType type;
  if (!dsmoe::parse_gguf_value_type(name.get<std::string>(), &type)) dsmoe::fail("spec: unknown type ", name.dump());
  return type;
}

GgufValue plain_value(GgufValueType type, const json& item) {
  switch (type) {
    case GgufValueType::kUint8:
      return GgufValue::uint8(item.get<uint8_t>());
    case GgufValueType::kInt8:
      return GgufValue::int8(item.get<int8_t>());
    case GgufValueType::kUint16:
      return GgufValue::uint16(item.get<uint16_t>());
    case GgufValueType::kInt16:
      return GgufValue::int16(item.get<int16_t>());
    case GgufValueType::kUint32:
      return GgufValue::uint32(item.get<uint32_t>());
    case GgufValueType::kInt32:
      return GgufValue::int32(item.get<int32_t>());
    case GgufValueType::kUint64:
      return GgufValue::uint64(item.get<uint64_t>());
    case GgufValueType::kInt64:
      return GgufValue::int64(item.get<int64_t>());
    case GgufValueType::kFloat32:
      return GgufValue::float32(float(float_from_json(item)));
    case GgufValueType::kFloat64:
      return GgufValue::float64(float_from_json(item));
    case GgufValueType::kBool:
      return GgufValue::bool_(item.get<bool>());
    case GgufValueType::kString:
      return GgufValue::string(item.get<std::string>());
    default:
      dsmoe::fail("spec: ", dsmoe::gguf_value_type_name(type), " is not a plain value");
  }
}

// {"element_type", "value"}: an array whose items are plain values or, for ARRAY, objects of the same form.
GgufValue array_value(const json& spec) {
  const GgufValueType element_type = type_from_json(spec.at("element_type"));
  std::vector<GgufValue> items;
  for (const json& item : spec.at("value")) {
    items.push_back(element_type == GgufValueType::kArray ? array_value(item) : plain_value(element_type, item));
  }
  return GgufValue::array(element_type, std::move(items));
}

GgufValue value_from_json(const json& spec) {
  const GgufValueType type = type_from_json(spec.at("type"));
  return type == GgufValueType::kArray ? array_value(spec) : plain_value(type, spec.at("value"));
}

std::string fnv1a64_hex(const void* data, size_t n) {
  uint64_t hash = 0xcbf29ce484222325ull;
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) hash = (hash ^ bytes[i]) * 0x100000001b3ull;
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

std::vector<unsigned char> bytes_from_hex(const std::string& hex) {
  if (hex.size() % 2 != 0) dsmoe::fail("spec: hex string of odd length");
  std::vector<unsigned char> bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) bytes.push_back(uint8_t(std::stoul(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

int dump(const std::string& path, dsmoe::FileAccess access) {
  const dsmoe::GgufFile file(path, access);
  json metadata = json::array();
  for (const auto& [key, value] : file.metadata()) {
    json entry = value_json(value);
    entry["key"] = key;
    metadata.push_back(entry);
  }
  json tensors = json::array();
  for (const dsmoe::GgufTensorInfo& info : file.tensors()) {
    tensors.push_back({{"name", info.name},
                       {"ggml_type", info.ggml_type},
                       {"type_name", dsmoe::dtype_name(info.dtype)},
                       {"ne", info.ne},
                       {"shape", info.view.shape},
                       {"offset", info.offset},
                       {"nbytes", info.view.bytes()},
                       {"fnv1a64", fnv1a64_hex(info.view.data, info.view.bytes())}});
  }
  const json out = {{"version", file.version()},
                    {"alignment", file.alignment()},
                    {"data_offset", file.data_offset()},
                    {"metadata", metadata},
                    {"tensors", tensors}};
  std::cout << out.dump(1, ' ', false, json::error_handler_t::replace) << "\n";
  return 0;
}

int write(const std::string& spec_path, const std::string& out_path) {
  std::ifstream in(spec_path);
  if (!in) dsmoe::fail(spec_path, ": cannot open");
  const json spec = json::parse(in);
  dsmoe::GgufWriter writer(out_path, spec.value("alignment", uint32_t(32)));
  for (const json& entry : spec.value("metadata", json::array())) {
    writer.add(entry.at("key").get<std::string>(), value_from_json(entry));
  }
  std::vector<std::vector<unsigned char>> data;
  for (const json& tensor : spec.value("tensors", json::array())) {
    dsmoe::DType dtype;
    const std::string type = tensor.at("type").get<std::string>();
    if (!dsmoe::parse_dtype(type, &dtype)) dsmoe::fail("spec: unknown tensor type ", type);
    writer.add_tensor(tensor.at("name").get<std::string>(), dtype, tensor.at("shape").get<std::vector<int64_t>>());
    data.push_back(bytes_from_hex(tensor.at("hex").get<std::string>()));
  }
  writer.write_header();
  size_t index = 0;
  for (const json& tensor : spec.value("tensors", json::array())) {
    const std::vector<unsigned char>& bytes = data[index++];
    writer.write_tensor(tensor.at("name").get<std::string>(), bytes.data(), bytes.size());
  }
  writer.finish();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 2 && args[0] == "dump") return dump(args[1], dsmoe::FileAccess::kMap);
    if (args.size() == 3 && args[0] == "dump" && args[1] == "--no-mmap") {
      return dump(args[2], dsmoe::FileAccess::kReadIntoMemory);
    }
    if (args.size() == 3 && args[0] == "write") return write(args[1], args[2]);
    std::cerr << "usage: gguf_probe dump [--no-mmap] FILE.gguf | gguf_probe write SPEC.json OUT.gguf\n";
    return 2;
  } catch (const dsmoe::Error& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  } catch (const std::exception& error) {
    std::cerr << "unexpected exception (a validation gap): " << error.what() << "\n";
    return 3;
  }
}
