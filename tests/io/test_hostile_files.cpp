// Files an attacker would hand over (issue 14): nesting deep enough to overflow a recursive parser, a FIFO
// where a file is expected (opening it would wait for a writer forever), and safetensors headers that the
// format's own library refuses (a name twice, byte ranges that overlap, leave a gap or miss the end). Each must
// be an Error naming the file, at once.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "core/errors.h"
#include "dsmoe/text_file.h"
#include "dsmoe/json_file.h"
#include "io/safetensors.h"
#include "core/system_memory.h"
#include "loaders/hf_config.h"
#include "model/kv_cache.h"
#include "support/bad_input.h"
#include "dsmoe/tokenizer.h"

namespace dsmoe {
namespace {

using bad_input::expect_error_containing;
using bad_input::frame;
using bad_input::TempDir;
using bad_input::write_file;

std::string nested(int depth, const std::string& inner = "1") {
  return std::string(size_t(depth), '[') + inner + std::string(size_t(depth), ']');
}

TEST(HostileFiles, DeeplyNestedJsonIsRefusedBeforeParsing) {
  TempDir dir;
  const std::string config = dir.file("config.json");
  write_file(config, "{\"a\": " + nested(100000) + "}");
  expect_error_containing([&] { load_model_config(config); }, {config, "nested deeper than 128"});

  const std::string tokenizer = dir.file("tokenizer.json");
  write_file(tokenizer, nested(100000, "{}"));
  expect_error_containing([&] { Tokenizer::load(tokenizer); }, {tokenizer, "nested deeper than 128"});

  const std::string weights = dir.file("model.safetensors");
  write_file(weights, frame("{\"x\": " + nested(100000) + "}", ""));
  expect_error_containing([&] { SafetensorsFile file(weights); }, {weights, "nested deeper than 128"});
}

TEST(HostileFiles, NestingUpToTheLimitAndBracketsInStringsAreFine) {
  const std::string at_limit = nested(kMaxJsonDepth);
  EXPECT_EQ(parse_json_text(at_limit.data(), at_limit.data() + at_limit.size(), "t").dump(), at_limit);
  const std::string over = nested(kMaxJsonDepth + 1);
  expect_error_containing([&] { check_json_depth(over.data(), over.data() + over.size(), "t"); },
                          {"t: JSON nested deeper than 128 levels (at byte 128)"});
  // Brackets inside strings, and an escaped quote that does not end the string, are not nesting.
  const std::string strings = "[\"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"]";
  EXPECT_NO_THROW(check_json_depth(strings.data(), strings.data() + strings.size(), "t"));
}

TEST(HostileFiles, AFifoIsRefusedWithoutWaitingForAWriter) {
  TempDir dir;
  for (const char* name : {"config.json", "model.safetensors", "prompt.txt"}) {
    const std::string path = dir.file(name);
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    expect_error_containing([&] { read_text_file(path); }, {path, "not a regular file (a FIFO)"});
  }
  expect_error_containing([&] { load_model_config(dir.file("config.json")); }, {"config.json", "a FIFO"});
  expect_error_containing([&] { SafetensorsFile file(dir.file("model.safetensors")); },
                          {"model.safetensors", "a FIFO"});
  const std::string folder = dir.path().string();
  expect_error_containing([&] { read_text_file(folder); }, {folder, "not a regular file (a directory)"});
}

TEST(HostileFiles, ATextFileLargerThanItsLimitIsRefusedBeforeReading) {
  TempDir dir;
  const std::string path = dir.file("big.txt");
  write_file(path, std::string(4096, 'x'));
  expect_error_containing([&] { read_text_file(path, "prompt ", 1000); },
                          {"prompt ", path, "4096 bytes is more than the 1000"});
  EXPECT_EQ(read_text_file(path, "", 4096).size(), 4096u);
}

std::string tensor(const std::string& name, int begin, int end) {
  return "\"" + name + "\": {\"dtype\": \"F32\", \"shape\": [" + std::to_string((end - begin) / 4) +
         "], \"data_offsets\": [" + std::to_string(begin) + ", " + std::to_string(end) + "]}";
}

void expect_safetensors_error(const std::string& header, size_t data_bytes, std::initializer_list<std::string> parts) {
  TempDir dir;
  const std::string path = dir.file("model.safetensors");
  write_file(path, frame(header, std::string(data_bytes, '\0')));
  expect_error_containing([&] { SafetensorsFile file(path); }, parts);
  expect_error_containing([&] { SafetensorsFile file(path); }, {path});
}

TEST(HostileFiles, SafetensorsHeadersAreValidatedAsTheFormatsLibraryDoes) {
  expect_safetensors_error("{" + tensor("a", 0, 8) + ", " + tensor("a", 8, 16) + "}", 16,
                           {"the key \"a\" appears twice"});
  expect_safetensors_error("{" + tensor("a", 0, 8) + ", " + tensor("b", 4, 12) + "}", 12,
                           {"tensor 'b' at bytes [4, 12) overlaps tensor 'a' ending at 8"});
  expect_safetensors_error("{" + tensor("a", 0, 8) + ", " + tensor("b", 12, 16) + "}", 16,
                           {"bytes [8, 12) of the data belong to no tensor (before tensor 'b')"});
  expect_safetensors_error("{" + tensor("a", 4, 8) + "}", 8, {"bytes [0, 4) of the data belong to no tensor"});
  expect_safetensors_error("{" + tensor("a", 0, 8) + "}", 12,
                           {"the tensors cover 8 of the 12 data bytes (the rest belongs to no tensor)"});
  // The same tensors tiling the data exactly, in any order in the header, are fine.
  TempDir dir;
  const std::string path = dir.file("ok.safetensors");
  write_file(path, frame("{" + tensor("b", 8, 16) + ", " + tensor("a", 0, 8) + "}", std::string(16, '\0')));
  EXPECT_NO_THROW(SafetensorsFile file(path));
}

TEST(HostileFiles, AKvCacheLargerThanTheMachineIsRefusedBeforeAllocating) {
  const ModelConfig config = load_model_config(std::string(DSMOE_SOURCE_DIR) + "/models/dsmoe-kjv-9m/config.json");
  const int64_t available = available_memory_bytes();
  ASSERT_GT(available, 0);
  const KvCache one(config, 1, 1, DType::F32);
  const auto per_position = int64_t(one.bytes());
  const int64_t too_many = available / per_position + 1000;
  expect_error_containing([&] { KvCache cache(config, 1, too_many, DType::F32); },
                          {"KV cache: batch 1 x context " + std::to_string(too_many), "MiB of memory available"});
}

TEST(HostileFiles, SpecialTokenIdsOutsideTheVocabularyAreRefused) {
  TempDir dir;
  nlohmann::json config = read_json_file(std::string(DSMOE_SOURCE_DIR) + "/models/dsmoe-kjv-9m/config.json");
  const int64_t vocab = config["vocab_size"].get<int64_t>();
  for (const char* key : {"bos_token_id", "eos_token_id"}) {
    nlohmann::json bad = config;
    bad[key] = vocab;
    const std::string path = dir.file(std::string(key) + ".json");
    write_file(path, bad.dump());
    expect_error_containing([&] { load_model_config(path); },
                            {path, key, "must be a token id in [0, " + std::to_string(vocab) + ")"});
  }
}

}  // namespace
}  // namespace dsmoe
