// GgufValue, GgufWriter and GgufFile against each other and against hand-built hostile files. The comparison
// with llama.cpp's own reader and writer is tests/gguf/check_gguf.py; these are the cases easy to state in C++.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "io/gguf_file.h"
#include "io/gguf_writer.h"
#include "support/bad_input.h"

namespace dsmoe {
namespace {

using bad_input::expect_error_containing;
using bad_input::TempDir;
using bad_input::write_file;

// Little-endian encoders for hand-built files.
template <typename T>
std::string le(T value) {
  std::string out(sizeof value, '\0');
  std::memcpy(out.data(), &value, sizeof value);
  return out;
}
std::string str(const std::string& text) { return le<uint64_t>(text.size()) + text; }
std::string header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
  return "GGUF" + le(version) + le(n_tensors) + le(n_kv);
}
std::string kv_u32(const std::string& key, uint32_t value) { return str(key) + le<uint32_t>(4) + le(value); }
std::string tensor_info(const std::string& name, std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
  std::string out = str(name) + le<uint32_t>(uint32_t(ne.size()));
  for (const int64_t d : ne) out += le(d);
  return out + le(type) + le(offset);
}
std::string padded(std::string bytes, size_t alignment = 32) {
  bytes.resize((bytes.size() + alignment - 1) / alignment * alignment, '\0');
  return bytes;
}

void expect_refused(const std::string& bytes, std::initializer_list<std::string> parts) {
  TempDir dir;
  const std::string path = dir.file("bad.gguf");
  write_file(path, bytes);
  expect_error_containing([&] { GgufFile file(path); }, parts);
  expect_error_containing([&] { GgufFile file(path); }, {path});
}

TEST(GgufValue, AccessorsConvertWhereExactAndNameTheKeyOtherwise) {
  EXPECT_EQ(GgufValue::uint8(200).as_int64(), 200);
  EXPECT_EQ(GgufValue::int8(-5).as_int64(), -5);
  EXPECT_EQ(GgufValue::int16(-300).as_double(), -300.0);
  EXPECT_EQ(GgufValue::uint64(~uint64_t(0)).as_uint64(), ~uint64_t(0));
  EXPECT_EQ(GgufValue::float32(0.1f).as_double(), double(0.1f));
  EXPECT_TRUE(GgufValue::bool_(true).as_bool());
  EXPECT_EQ(GgufValue::string("é").as_string(), "é");
  expect_error_containing([] { (void)GgufValue::uint64(~uint64_t(0)).as_int64("m.gguf: metadata 'k'"); },
                          {"m.gguf: metadata 'k'", "does not fit"});
  expect_error_containing([] { (void)GgufValue::int32(-1).as_uint64("key 'n'"); }, {"key 'n'", "non-negative"});
  expect_error_containing([] { (void)GgufValue::float32(1).as_int64("key 'f'"); },
                          {"key 'f'", "expected an integer", "FLOAT32"});
  expect_error_containing([] { (void)GgufValue::string("x").as_double("key 's'"); }, {"key 's'", "STRING"});
  expect_error_containing([] { (void)GgufValue::uint8(1).as_bool("key 'b'"); }, {"key 'b'", "BOOL"});
  expect_error_containing([] { (void)GgufValue::int32_array({1}).as_string("key 'a'"); },
                          {"key 'a'", "ARRAY of INT32"});
  expect_error_containing([] { (void)GgufValue::int32(1).size("key 'z'"); }, {"key 'z'", "expected an ARRAY"});
  expect_error_containing([] { (void)GgufValue::int32_array({1}).at(1, "key 'i'"); }, {"key 'i'", "index 1"});
}

TEST(GgufValue, ArraysKeepTheirElementTypeAndConvertInBulk) {
  const GgufValue ints = GgufValue::array(GgufValueType::kInt16, {GgufValue::int16(-2), GgufValue::int16(7)});
  EXPECT_EQ(ints.array_type(), GgufValueType::kInt16);
  EXPECT_EQ(ints.size(), 2u);
  EXPECT_EQ(ints.at(0), GgufValue::int16(-2));
  EXPECT_EQ(ints.as_int64_array(), (std::vector<int64_t>{-2, 7}));
  EXPECT_EQ(GgufValue::float32_array({1.5f, -2.0f}).as_float_array(), (std::vector<float>{1.5f, -2.0f}));
  const uint64_t huge[] = {1, ~uint64_t(0)};
  expect_error_containing(
      [&] { (void)GgufValue::packed_array(GgufValueType::kUint64, huge, 2).as_int64_array("key 'u'"); },
      {"key 'u'", "element 1"});
  expect_error_containing([] { (void)GgufValue::int32_array({1}).as_float_array("key 'g'"); },
                          {"key 'g'", "ARRAY of FLOAT32"});
  expect_error_containing([] { (void)GgufValue::array(GgufValueType::kInt32, {GgufValue::uint32(1)}); },
                          {"item 0 is UINT32"});
}

// Everything the writer can express, read back unchanged, mapped or read into memory.
TEST(GgufRoundTrip, WriterOutputReadsBackExactly) {
  TempDir dir;
  const std::string path = dir.file("model.gguf");
  std::vector<std::string> vocab;
  for (int i = 0; i < 102400; ++i) vocab.push_back("tok" + std::to_string(i));
  const GgufValue nested = GgufValue::array(
      GgufValueType::kArray, {GgufValue::string_array({"a", ""}), GgufValue::array(GgufValueType::kUint8, {}),
                              GgufValue::array(GgufValueType::kArray, {GgufValue::int32_array({-1})})});
  const std::vector<std::pair<std::string, GgufValue>> metadata = {
      {"general.architecture", GgufValue::string("deepseek2")},
      {"u8", GgufValue::uint8(255)},
      {"i8", GgufValue::int8(-128)},
      {"u16", GgufValue::uint16(65535)},
      {"i16", GgufValue::int16(-32768)},
      {"u32", GgufValue::uint32(4000000000u)},
      {"i32", GgufValue::int32(-7)},
      {"u64", GgufValue::uint64(~uint64_t(0))},
      {"i64", GgufValue::int64(std::numeric_limits<int64_t>::min())},
      {"f32", GgufValue::float32(-0.0f)},
      {"f64", GgufValue::float64(std::nan(""))},
      {"bool", GgufValue::bool_(false)},
      {"ünïcode.ключ", GgufValue::string("日本語 🦙")},
      {"tokenizer.ggml.tokens", GgufValue::string_array(vocab)},
      {"scores", GgufValue::float32_array({0.25f, -1e30f})},
      {"nested", nested},
  };
  std::mt19937 rng(12345);
  std::vector<unsigned char> q8(3 * 2 * 34), f32(5 * 4);
  for (auto& b : q8) b = static_cast<unsigned char>(rng());
  for (auto& b : f32) b = static_cast<unsigned char>(rng());
  {
    GgufWriter writer(path, 64);
    for (const auto& [key, value] : metadata) writer.add(key, value);
    writer.add_tensor("blk.0.ffn_down.weight", DType::Q8_0, {3, 64});
    writer.add_tensor("output_norm.weight", DType::F32, {5});
    writer.write_header();
    writer.write_tensor("blk.0.ffn_down.weight", q8.data(), q8.size());
    writer.write_tensor("output_norm.weight", f32.data(), f32.size());
    writer.finish();
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  for (const FileAccess access : {FileAccess::kMap, FileAccess::kReadIntoMemory}) {
    const GgufFile file(path, access);
    EXPECT_EQ(file.version(), 3u);
    EXPECT_EQ(file.alignment(), 64u);
    EXPECT_EQ(file.data_offset() % 64, 0u);
    ASSERT_EQ(file.metadata().size(), metadata.size() + 1);  // + general.alignment, added by the writer
    for (size_t i = 0; i < metadata.size(); ++i) {
      EXPECT_EQ(file.metadata()[i].first, metadata[i].first);
      EXPECT_TRUE(file.metadata()[i].second == metadata[i].second) << metadata[i].first;
    }
    EXPECT_EQ(file.require("general.alignment").as_uint64(), 64u);
    EXPECT_EQ(file.require("tokenizer.ggml.tokens").as_string_array()[102399], "tok102399");
    EXPECT_EQ(file.find("absent"), nullptr);
    expect_error_containing([&] { (void)file.require("absent"); }, {path, "'absent'"});

    ASSERT_EQ(file.tensors().size(), 2u);
    const GgufTensorInfo* q = file.find_tensor("blk.0.ffn_down.weight");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->ne, (std::vector<int64_t>{64, 3}));
    EXPECT_EQ(q->view.shape, (std::vector<int64_t>{3, 64}));
    EXPECT_EQ(q->dtype, DType::Q8_0);
    EXPECT_EQ(q->ggml_type, 8u);
    ASSERT_EQ(q->view.bytes(), q8.size());
    EXPECT_EQ(std::memcmp(q->view.data, q8.data(), q8.size()), 0);
    const GgufTensorInfo& norm = file.tensors()[1];
    EXPECT_EQ(norm.offset % 64, 0u);
    EXPECT_EQ(std::memcmp(norm.view.data, f32.data(), f32.size()), 0);
  }
}

TEST(GgufWriter, RefusesMisuseAndLeavesNoFileUnderTheFinalName) {
  TempDir dir;
  const std::string path = dir.file("out.gguf");
  expect_error_containing([&] { GgufWriter bad(path, 48); }, {path, "48 is not a power of two"});
  {
    GgufWriter writer(path);
    writer.add("k", GgufValue::uint32(1));
    expect_error_containing([&] { writer.add("k", GgufValue::uint32(2)); }, {path, "duplicate metadata key 'k'"});
    expect_error_containing([&] { writer.add("general.alignment", GgufValue::uint32(64)); },
                            {"general.alignment must be the UINT32 32"});
    writer.add_tensor("a", DType::F16, {2, 4});
    writer.add_tensor("b", DType::F32, {3});
    expect_error_containing([&] { writer.add_tensor("a", DType::F32, {1}); }, {"duplicate tensor name 'a'"});
    expect_error_containing([&] { writer.add_tensor("c", DType::Q4_K, {2, 255}); }, {"not whole Q4_K blocks"});
    expect_error_containing([&] { writer.add_tensor("d", DType::F32, {1, 1, 1, 1, 1}); }, {"5 dims"});
    writer.write_header();
    const std::vector<unsigned char> bytes(16);
    expect_error_containing([&] { writer.write_tensor("b", bytes.data(), 12); }, {"'a' comes next"});
    expect_error_containing([&] { writer.write_tensor("a", bytes.data(), 15); }, {"needs 16 bytes, got 15"});
    writer.write_tensor("a", bytes.data(), 16);
    expect_error_containing([&] { writer.finish(); }, {path, "1 declared tensors not written", "'b'"});
    EXPECT_TRUE(std::filesystem::exists(path + ".partial"));
    EXPECT_FALSE(std::filesystem::exists(path));
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));  // removed by the destructor
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(GgufFile, RefusesClaimsTheFileCannotHoldBeforeAllocating) {
  expect_refused(header(uint64_t(1) << 60, 0), {"tensor count 1152921504606846976", "cannot fit"});
  expect_refused(header(0, ~uint64_t(0)), {"metadata count 18446744073709551615"});
  expect_refused(header(0, 1) + le<uint64_t>(1000000000000ull) + "key" + std::string(8, 0),
                 {"metadata entry 0 key", "claims 1000000000000 bytes"});
  expect_refused(header(0, 1) + str("s") + le<uint32_t>(8) + le<uint64_t>(1000000000000ull),
                 {"metadata 's'", "claims 1000000000000 bytes"});
  expect_refused(header(0, 1) + str("a") + le<uint32_t>(9) + le<uint32_t>(8) + le<uint64_t>(1000000000000000ull),
                 {"metadata 'a'", "claims 1000000000000000 elements of STRING"});
  std::string deep = header(0, 1) + str("deep") + le<uint32_t>(9);
  for (int i = 0; i < 9; ++i) deep += le<uint32_t>(9) + le<uint64_t>(1);
  expect_refused(deep + le<uint32_t>(4) + le<uint64_t>(0), {"nests arrays more than 8 deep"});
}

TEST(GgufFile, RefusesBadHeadersKeysAndTensors) {
  expect_refused("GGUF" + le<uint32_t>(1) + le<uint32_t>(0) + le<uint64_t>(0), {"version 1 is obsolete"});
  expect_refused("GGUF" + le<uint32_t>(0x03000000u) + le<uint64_t>(0) + le<uint64_t>(0), {"big-endian"});
  expect_refused("GGML" + le<uint32_t>(3), {"not a GGUF file"});
  expect_refused(header(0, 2) + kv_u32("k", 1) + kv_u32("k", 2), {"duplicate metadata key 'k'"});
  expect_refused(header(0, 1) + kv_u32("", 1), {"empty key"});
  expect_refused(header(0, 1) + kv_u32("general.alignment", 24), {"general.alignment 24 is not a power of two"});

  const std::string data(64, '');
  const auto one_tensor = [&](const std::string& info) { return padded(header(1, 0) + info) + data; };
  expect_refused(one_tensor(tensor_info("blk.0.attn_q.weight", {256}, 16, 0)),
                 {"tensor 'blk.0.attn_q.weight' has type IQ2_XXS, which dsmoe does not read; supported: F32, F16, "
                  "BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K"});
  expect_refused(one_tensor(tensor_info("t", {16}, 26, 0)), {"has type I32"});
  expect_refused(one_tensor(tensor_info("t", {}, 0, 0)), {"tensor 't'", "n_dims is 0"});
  expect_refused(one_tensor(tensor_info("t", {1, 1, 1, 1, 1}, 0, 0)), {"n_dims is 5"});
  expect_refused(one_tensor(tensor_info("t", {4, -2}, 0, 0)), {"negative extent"});
  expect_refused(one_tensor(tensor_info("t", {int64_t(1) << 40, int64_t(1) << 40}, 0, 0)), {"overflows int64"});
  expect_refused(one_tensor(tensor_info("t", {16}, 8, 0)), {"not whole Q8_0 blocks of 32"});
  expect_refused(one_tensor(tensor_info("t", {4}, 0, 8)), {"offset 8 is not a multiple of the alignment 32"});
  expect_refused(one_tensor(tensor_info("t", {32}, 0, 0)), {"outside its 64 bytes"});
  expect_refused(one_tensor(tensor_info("", {4}, 0, 0)), {"empty name"});
  expect_refused(padded(header(2, 0) + tensor_info("a", {16}, 0, 0) + tensor_info("b", {4}, 0, 32)) + data,
                 {"tensors 'a'", "'b'", "overlap"});
  expect_refused(padded(header(2, 0) + tensor_info("a", {4}, 0, 0) + tensor_info("a", {4}, 0, 32)) + data,
                 {"duplicate tensor name 'a'"});
}

TEST(GgufFile, ReadsVersion2AndMisalignedTensorsThroughAnAlignedCopy) {
  TempDir dir;
  const std::string path = dir.file("v2.gguf");
  // general.alignment 1 puts the F32 tensor at an odd address; the reader must hand out an aligned copy.
  const std::string head = header(1, 1, 2) + kv_u32("general.alignment", 1) + tensor_info("w", {2}, 0, 1);
  const float values[2] = {1.5f, -3.0f};
  std::string bytes = head + "x" + std::string(reinterpret_cast<const char*>(values), sizeof values);
  write_file(path, bytes);
  const GgufFile file(path);
  EXPECT_EQ(file.version(), 2u);
  EXPECT_EQ(file.alignment(), 1u);
  const TensorView& view = file.tensors()[0].view;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(view.data) % alignof(float), 0u);
  EXPECT_EQ(std::memcmp(view.data, values, sizeof values), 0);
}

}  // namespace
}  // namespace dsmoe
