// SafetensorsFile and SafetensorsStore against hand-written files, good and bad: every bad file
// must give a dsmoe::Error naming the file, the tensor and the expected and found values.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "io/safetensors.h"
#include "io/tensor_store.h"
#include "support/bad_input.h"

namespace dsmoe {
namespace {

using bad_input::expect_error_containing;
using bad_input::frame;
using bad_input::raw_bytes;
using bad_input::RawTensor;
using bad_input::safetensors_file;
using bad_input::TempDir;
using bad_input::write_file;

std::string write_in(const TempDir& dir, const std::string& bytes, const std::string& name = "model.safetensors") {
  const std::string path = dir.file(name);
  write_file(path, bytes);
  return path;
}

void open_file(const std::string& path) {
  SafetensorsFile file(path);
  (void)file;
}

// The header is taken verbatim; `data` holds the tensor bytes.
void expect_header_error(const std::string& header, const std::string& data, std::initializer_list<std::string> parts) {
  TempDir dir;
  const std::string path = write_in(dir, frame(header, data));
  expect_error_containing([&] { open_file(path); }, parts);
  expect_error_containing([&] { open_file(path); }, {path});
}

std::vector<float> read_f32(const TensorView& view) {
  std::vector<float> out(size_t(view.numel()));
  convert_to_f32(view.dtype, view.data, out.data(), out.size());
  return out;
}

// The assertion every test below relies on must itself be able to fail.
TEST(BadInputHelper, FailsWhenNothingIsThrownOrTheMessageLacksAPart) {
  EXPECT_NONFATAL_FAILURE(expect_error_containing([] {}, {"x"}), "nothing was thrown");
  EXPECT_NONFATAL_FAILURE(expect_error_containing([] { throw Error("file.bin: tensor 'w'"); }, {"file.bin", "'v'"}),
                          "lacks \"'v'\"");
  EXPECT_NONFATAL_FAILURE(expect_error_containing([] { throw std::runtime_error("other"); }, {"other"}),
                          "another exception");
  expect_error_containing([] { throw Error("file.bin: tensor 'w'"); }, {"file.bin", "'w'"});
}

TEST(Safetensors, ValidFileOfEachDtypeParses) {
  TempDir dir;
  const std::vector<float> f32 = {1.0f, -2.5f, 0.125f, 3.0f, 1e-3f, -7.0f};
  const std::vector<uint16_t> bf16 = {0x3F80, 0xC000, 0x3F00, 0x4040};  // 1, -2, 0.5, 3
  const std::vector<uint16_t> f16 = {0x3C00, 0xC000, 0x3800};           // 1, -2, 0.5
  const std::string path = write_in(dir, safetensors_file({{"a.f32", "F32", {2, 3}, raw_bytes(f32)},
                                                           {"b.bf16", "BF16", {4}, raw_bytes(bf16)},
                                                           {"c.f16", "F16", {1, 3}, raw_bytes(f16)}}));
  SafetensorsFile file(path);
  EXPECT_EQ(file.path(), path);
  ASSERT_EQ(file.tensors().size(), 3u);

  const TensorView& a = file.tensors().at("a.f32");
  EXPECT_EQ(a.dtype, DType::F32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  ASSERT_NE(a.data, nullptr);
  EXPECT_EQ(std::memcmp(a.data, f32.data(), f32.size() * 4), 0);
  EXPECT_EQ(read_f32(a), f32);

  const TensorView& b = file.tensors().at("b.bf16");
  EXPECT_EQ(b.dtype, DType::BF16);
  EXPECT_EQ(b.shape, (std::vector<int64_t>{4}));
  ASSERT_NE(b.data, nullptr);
  EXPECT_EQ(std::memcmp(b.data, bf16.data(), bf16.size() * 2), 0);
  EXPECT_EQ(read_f32(b), (std::vector<float>{1.0f, -2.0f, 0.5f, 3.0f}));

  const TensorView& c = file.tensors().at("c.f16");
  EXPECT_EQ(c.dtype, DType::F16);
  EXPECT_EQ(c.shape, (std::vector<int64_t>{1, 3}));
  ASSERT_NE(c.data, nullptr);
  EXPECT_EQ(std::memcmp(c.data, f16.data(), f16.size() * 2), 0);
  EXPECT_EQ(read_f32(c), (std::vector<float>{1.0f, -2.0f, 0.5f}));
}

TEST(Safetensors, MetadataIsIgnored) {
  TempDir dir;
  const std::vector<float> values = {4.0f, 5.0f};
  const std::string path =
      write_in(dir, safetensors_file({{"w", "F32", {2}, raw_bytes(values)}}, 0, {{"format", "pt"}, {"note", "x"}}));
  SafetensorsFile file(path);
  ASSERT_EQ(file.tensors().size(), 1u);
  EXPECT_EQ(file.tensors().count("__metadata__"), 0u);
  EXPECT_EQ(read_f32(file.tensors().at("w")), values);
}

TEST(Safetensors, ZeroSizeTensorIsFine) {
  TempDir dir;
  const std::vector<float> values = {9.0f};
  const std::string path = write_in(
      dir, safetensors_file(
               {{"empty", "F32", {0}, ""}, {"also_empty", "BF16", {3, 0}, ""}, {"w", "F32", {1}, raw_bytes(values)}}));
  SafetensorsFile file(path);
  ASSERT_EQ(file.tensors().size(), 3u);
  EXPECT_EQ(file.tensors().at("empty").numel(), 0);
  EXPECT_EQ(file.tensors().at("also_empty").shape, (std::vector<int64_t>{3, 0}));
  EXPECT_EQ(read_f32(file.tensors().at("w")), values);

  // A file whose only tensor is empty has no data bytes at all.
  TempDir dir2;
  SafetensorsFile only_empty(write_in(dir2, safetensors_file({{"empty", "F32", {0}, ""}})));
  EXPECT_EQ(only_empty.tensors().at("empty").numel(), 0);
}

TEST(Safetensors, UnalignedDataIsCopiedAndReadsRightValues) {
  const std::vector<float> f32 = {1.5f, -2.25f, 3.75f, 100.0f};
  const std::vector<uint16_t> bf16 = {0x3F80, 0x4040, 0xC000};  // 1, 3, -2
  for (size_t remainder : {1u, 2u, 3u, 5u}) {
    SCOPED_TRACE(remainder);
    TempDir dir;
    // Header length = remainder (mod 8), so the data starts off 4-alignment (and off 2 when odd).
    SafetensorsFile file(write_in(
        dir, safetensors_file({{"f", "F32", {2, 2}, raw_bytes(f32)}, {"g", "BF16", {3}, raw_bytes(bf16)}}, remainder)));
    const TensorView& f = file.tensors().at("f");
    EXPECT_EQ(reinterpret_cast<uintptr_t>(f.data) % 4, 0u);
    EXPECT_EQ(read_f32(f), f32);
    const TensorView& g = file.tensors().at("g");
    EXPECT_EQ(reinterpret_cast<uintptr_t>(g.data) % 2, 0u);
    EXPECT_EQ(read_f32(g), (std::vector<float>{1.0f, 3.0f, -2.0f}));
  }
  // A tensor at an odd offset in an otherwise aligned data section (after a 2-byte tensor).
  TempDir dir;
  const std::string header =
      R"({"p":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"a":{"dtype":"F32","shape":[2],"data_offsets":[2,10]}})";
  std::string padded = header;
  while (padded.size() % 8 != 0) padded += ' ';
  SafetensorsFile file(write_in(dir, frame(padded, std::string(2, 'x') + raw_bytes(std::vector<float>{6.0f, -1.0f}))));
  EXPECT_EQ(read_f32(file.tensors().at("a")), (std::vector<float>{6.0f, -1.0f}));
}

TEST(Safetensors, FileShorterThanLengthField) {
  for (const std::string& bytes : {std::string(), std::string("\x05\x00\x00", 3), std::string(7, '\0')}) {
    TempDir dir;
    const std::string path = write_in(dir, bytes);
    expect_error_containing([&] { open_file(path); },
                            {path, "truncated", std::to_string(bytes.size()) + " bytes", "needs 8"});
  }
}

TEST(Safetensors, HeaderLengthLargerThanFile) {
  TempDir dir;
  const std::string header = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  const std::string bytes = bad_input::le64(1000) + header + std::string(4, '\0');
  const std::string path = write_in(dir, bytes);
  expect_error_containing([&] { open_file(path); },
                          {path, "header length 1000", std::to_string(bytes.size()) + " bytes"});

  // A length field of all ones must not wrap around into a "valid" size.
  const std::string huge_path = write_in(dir, bad_input::le64(~uint64_t(0)) + header, "huge.safetensors");
  expect_error_containing([&] { open_file(huge_path); }, {huge_path, "header length 18446744073709551615"});
}

TEST(Safetensors, HeaderIsNotJson) {
  expect_header_error("this is not json", "", {"safetensors header", "invalid JSON"});
  expect_header_error(std::string("\xff\xfe\x00\x01", 4), "", {"invalid JSON"});
}

TEST(Safetensors, HeaderIsTruncatedJson) {
  expect_header_error(R"({"w":{"dtype":"F32","shape":[1],"data_off)", "", {"safetensors header", "invalid JSON"});
}

TEST(Safetensors, HeaderIsJsonButNotObject) {
  expect_header_error("[1, 2, 3]", "", {"header is not a JSON object"});
  expect_header_error("\"text\"", "", {"header is not a JSON object"});
}

TEST(Safetensors, EntryIsNotAnObject) { expect_header_error(R"({"w": [1, 2]})", "", {"tensor 'w'", "not an object"}); }

TEST(Safetensors, EntryMissingDtype) {
  expect_header_error(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0'), {"tensor 'w'", "'dtype'"});
  expect_header_error(R"({"w":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0'),
                      {"tensor 'w'", "'dtype'"});
}

TEST(Safetensors, EntryMissingShape) {
  expect_header_error(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", std::string(4, '\0'), {"tensor 'w'", "'shape'"});
  expect_header_error(R"({"w":{"dtype":"F32","shape":4,"data_offsets":[0,4]}})", std::string(4, '\0'),
                      {"tensor 'w'", "'shape'"});
}

TEST(Safetensors, EntryMissingOrBadDataOffsets) {
  const std::string data(4, '\0');
  for (const std::string& offsets :
       {std::string(""), std::string(R"(,"data_offsets":[0])"), std::string(R"(,"data_offsets":[0,4,8])"),
        std::string(R"(,"data_offsets":[-4,4])"), std::string(R"(,"data_offsets":[0,4.0])"),
        std::string(R"(,"data_offsets":"0,4")")}) {
    SCOPED_TRACE(offsets);
    expect_header_error(R"({"w":{"dtype":"F32","shape":[1])" + offsets + "}}", data, {"tensor 'w'", "'data_offsets'"});
  }
}

TEST(Safetensors, UnsupportedDtypeNamesTensorAndDtype) {
  expect_header_error(R"({"ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", std::string(8, '\0'),
                      {"tensor 'ids'", "dtype I64", "not supported"});
  expect_header_error(R"({"fp8":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", std::string(4, '\0'),
                      {"tensor 'fp8'", "dtype F8_E4M3", "not supported"});
}

TEST(Safetensors, NegativeOrNonIntegerShapeEntries) {
  const std::string data(8, '\0');
  expect_header_error(R"({"w":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,8]}})", data,
                      {"tensor 'w'", "non-negative integers", "found -1"});
  expect_header_error(R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", data,
                      {"tensor 'w'", "non-negative integers", "found 2.5"});
  expect_header_error(R"({"w":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", data,
                      {"tensor 'w'", "non-negative integers", "found \"2\""});
  expect_header_error(R"({"w":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,8]}})", data,
                      {"tensor 'w'", "non-negative integers"});
}

TEST(Safetensors, HugeShapeIsAnErrorNotACrash) {
  expect_header_error(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})",
                      std::string(4, '\0'), {"tensor 'w'", "overflow"});
  expect_header_error(R"({"w":{"dtype":"BF16","shape":[4611686018427387904],"data_offsets":[0,4]}})",
                      std::string(4, '\0'), {"tensor 'w'", "overflow"});
  // Fits in 64 bits, but is far more than the file holds.
  expect_header_error(R"({"w":{"dtype":"F32","shape":[1073741824,1024],"data_offsets":[0,4]}})", std::string(4, '\0'),
                      {"tensor 'w'", "span 4 bytes", "needs 4398046511104"});
}

TEST(Safetensors, DataPastEndOfFileNamesTensor) {
  // The header promises 16 bytes; the file was cut after 8.
  expect_header_error(R"({"ok":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                      R"("cut":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}})",
                      std::string(8, '\0'), {"tensor 'cut'", "[4, 16]", "8 data bytes", "truncated"});
}

TEST(Safetensors, BeginAfterEnd) {
  expect_header_error(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", std::string(8, '\0'),
                      {"tensor 'w'", "[8, 4]"});
}

TEST(Safetensors, SpanNotMatchingShapeNamesBothByteCounts) {
  expect_header_error(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", std::string(24, '\0'),
                      {"tensor 'w'", "span 20 bytes", "F32 [2, 3]", "needs 24"});
  expect_header_error(R"({"h":{"dtype":"BF16","shape":[4],"data_offsets":[0,16]}})", std::string(16, '\0'),
                      {"tensor 'h'", "span 16 bytes", "BF16 [4]", "needs 8"});
}

// ---- Directories: one file, or shards listed by model.safetensors.index.json ----

std::string one_tensor_file(const std::string& name, float value) {
  return safetensors_file({{name, "F32", {1}, raw_bytes(std::vector<float>{value})}});
}

void write_index(const TempDir& dir, const nlohmann::json& weight_map) {
  write_file(dir.file("model.safetensors.index.json"),
             nlohmann::json{{"metadata", {{"total_size", 8}}}, {"weight_map", weight_map}}.dump());
}

void open_store(const TempDir& dir) {
  SafetensorsStore store(dir.str());
  (void)store;
}

TEST(SafetensorsStore, SingleFile) {
  TempDir dir;
  write_in(dir, safetensors_file({{"a", "F32", {1}, raw_bytes(std::vector<float>{2.0f})},
                                  {"b", "F32", {1}, raw_bytes(std::vector<float>{3.0f})}}));
  SafetensorsStore store(dir.str());
  EXPECT_EQ(store.file_count(), 1u);
  EXPECT_EQ(store.names(), (std::vector<std::string>{"a", "b"}));
  ASSERT_NE(store.find("b"), nullptr);
  EXPECT_EQ(read_f32(*store.find("b")), std::vector<float>{3.0f});
  EXPECT_EQ(store.find("c"), nullptr);
  EXPECT_EQ(store.origin("a"), dir.file("model.safetensors"));
}

TEST(SafetensorsStore, ShardsFromIndex) {
  TempDir dir;
  write_in(dir, one_tensor_file("a", 1.0f), "model-00001-of-00002.safetensors");
  write_in(dir, one_tensor_file("b", 2.0f), "model-00002-of-00002.safetensors");
  write_index(dir, {{"a", "model-00001-of-00002.safetensors"}, {"b", "model-00002-of-00002.safetensors"}});
  SafetensorsStore store(dir.str());
  EXPECT_EQ(store.file_count(), 2u);
  ASSERT_NE(store.find("a"), nullptr);
  ASSERT_NE(store.find("b"), nullptr);
  EXPECT_EQ(read_f32(*store.find("a")), std::vector<float>{1.0f});
  EXPECT_EQ(read_f32(*store.find("b")), std::vector<float>{2.0f});
  EXPECT_EQ(store.origin("b"), dir.file("model-00002-of-00002.safetensors"));
}

TEST(SafetensorsStore, IndexNamesMissingShard) {
  TempDir dir;
  write_in(dir, one_tensor_file("a", 1.0f), "shard-1.safetensors");
  write_index(dir, {{"a", "shard-1.safetensors"}, {"b", "shard-2.safetensors"}});
  expect_error_containing([&] { open_store(dir); }, {dir.file("shard-2.safetensors"), "cannot open"});
}

TEST(SafetensorsStore, TensorListedButAbsentFromShard) {
  TempDir dir;
  write_in(dir, one_tensor_file("a", 1.0f), "shard-1.safetensors");
  write_index(dir, {{"a", "shard-1.safetensors"}, {"ghost", "shard-1.safetensors"}});
  expect_error_containing([&] { open_store(dir); },
                          {dir.file("model.safetensors.index.json"), "tensor 'ghost'", "shard-1.safetensors"});
}

TEST(SafetensorsStore, TensorListedInTheWrongShard) {
  TempDir dir;
  write_in(dir, one_tensor_file("a", 1.0f), "shard-1.safetensors");
  write_in(dir, one_tensor_file("b", 2.0f), "shard-2.safetensors");
  write_index(dir, {{"a", "shard-2.safetensors"}, {"b", "shard-2.safetensors"}, {"x", "shard-1.safetensors"}});
  expect_error_containing([&] { open_store(dir); }, {"tensor 'a'", "listed in shard-2.safetensors", "not found there"});
}

TEST(SafetensorsStore, SameTensorInTwoShards) {
  TempDir dir;
  write_in(dir,
           safetensors_file({{"a", "F32", {1}, raw_bytes(std::vector<float>{1.0f})},
                             {"dup", "F32", {1}, raw_bytes(std::vector<float>{1.0f})}}),
           "shard-1.safetensors");
  write_in(dir,
           safetensors_file({{"b", "F32", {1}, raw_bytes(std::vector<float>{1.0f})},
                             {"dup", "F32", {1}, raw_bytes(std::vector<float>{2.0f})}}),
           "shard-2.safetensors");
  write_index(dir, {{"a", "shard-1.safetensors"}, {"b", "shard-2.safetensors"}, {"dup", "shard-1.safetensors"}});
  expect_error_containing([&] { open_store(dir); },
                          {"tensor 'dup'", dir.file("shard-1.safetensors"), dir.file("shard-2.safetensors")});
}

TEST(SafetensorsStore, WeightMapEntryWithPath) {
  TempDir dir;
  write_in(dir, one_tensor_file("a", 1.0f), "shard-1.safetensors");
  write_index(dir, {{"a", "shard-1.safetensors"}, {"b", "../elsewhere/shard.safetensors"}});
  expect_error_containing([&] { open_store(dir); },
                          {dir.file("model.safetensors.index.json"), "'b'", "../elsewhere/shard.safetensors"});
}

TEST(SafetensorsStore, WeightMapEntryNotAString) {
  TempDir dir;
  write_index(dir, {{"a", 3}});
  expect_error_containing([&] { open_store(dir); }, {dir.file("model.safetensors.index.json"), "'a'"});
}

TEST(SafetensorsStore, WeightMapNamesADirectory) {
  TempDir dir;
  write_index(dir, {{"a", ".."}});
  expect_error_containing([&] { open_store(dir); }, {"not a regular file"});
}

TEST(SafetensorsStore, InvalidIndexJson) {
  TempDir dir;
  write_in(dir, one_tensor_file("a", 1.0f));  // ignored: the index takes precedence
  write_file(dir.file("model.safetensors.index.json"), R"({"weight_map": {"a": "model.safetensors")");
  expect_error_containing([&] { open_store(dir); }, {dir.file("model.safetensors.index.json"), "invalid JSON"});
}

TEST(SafetensorsStore, IndexWithoutWeightMap) {
  TempDir dir;
  write_file(dir.file("model.safetensors.index.json"), R"({"metadata": {}})");
  expect_error_containing([&] { open_store(dir); }, {dir.file("model.safetensors.index.json"), "'weight_map'"});
  write_file(dir.file("model.safetensors.index.json"), R"({"weight_map": ["a"]})");
  expect_error_containing([&] { open_store(dir); }, {dir.file("model.safetensors.index.json"), "'weight_map'"});
}

TEST(SafetensorsStore, DirectoryWithoutWeights) {
  TempDir dir;
  write_file(dir.file("config.json"), "{}");
  expect_error_containing([&] { open_store(dir); }, {dir.str(), "model.safetensors", "model.safetensors.index.json"});
}

TEST(SafetensorsStore, BadShardNamesTheShard) {
  TempDir dir;
  write_in(dir, one_tensor_file("a", 1.0f), "shard-1.safetensors");
  write_in(dir, frame(R"({"b":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}})", std::string(1, '\0')),
           "shard-2.safetensors");
  write_index(dir, {{"a", "shard-1.safetensors"}, {"b", "shard-2.safetensors"}});
  expect_error_containing([&] { open_store(dir); }, {dir.file("shard-2.safetensors"), "tensor 'b'", "dtype I8"});
}

}  // namespace
}  // namespace dsmoe
