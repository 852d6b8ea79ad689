// Helpers for tests of bad input: a scratch directory per test, hand-built safetensors files,
// and an assertion that a dsmoe::Error names everything it should.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/errors.h"

namespace dsmoe::bad_input {

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "dsmoe_test_";
    if (info != nullptr) name += std::string(info->test_suite_name()) + "_" + info->name() + "_";
    name += std::to_string(::getpid()) + "_" + std::to_string(counter++);
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  ASSERT_TRUE(out) << "cannot write " << path;
  out.write(bytes.data(), std::streamsize(bytes.size()));
  ASSERT_TRUE(out) << "short write to " << path;
}

// The 8-byte little-endian length field of a safetensors file.
inline std::string le64(uint64_t value) {
  std::string out(8, '\0');
  for (size_t i = 0; i < 8; ++i) out[i] = char((value >> (8 * i)) & 0xffu);
  return out;
}

// A safetensors file from a header text taken verbatim and the data bytes after it.
inline std::string frame(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

template <typename T>
std::string raw_bytes(const std::vector<T>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

struct RawTensor {
  std::string name;
  std::string dtype;  // as safetensors spells it
  std::vector<int64_t> shape;
  std::string bytes;
};

// A well-formed safetensors file holding `tensors` back to back. The header is padded with
// spaces so that its length is `header_remainder` modulo 8 (0: the data starts 8-aligned).
inline std::string safetensors_file(const std::vector<RawTensor>& tensors, size_t header_remainder = 0,
                                    const nlohmann::json& metadata = nullptr) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.is_null()) header["__metadata__"] = metadata;
  std::string data;
  for (const auto& t : tensors) {
    const size_t begin = data.size();
    data += t.bytes;
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  std::string text = header.dump();
  while (text.size() % 8 != header_remainder % 8) text += ' ';
  return frame(text, data);
}

// Runs `fn`, which must throw dsmoe::Error whose message contains every one of `parts`.
inline void expect_error_containing(const std::function<void()>& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
  } catch (const dsmoe::Error& e) {
    const std::string message = e.what();
    for (const auto& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos) << "error message lacks \"" << part << "\":\n  " << message;
    }
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected dsmoe::Error, got another exception: " << e.what();
    return;
  } catch (...) {
    ADD_FAILURE() << "expected dsmoe::Error, got a non-standard exception";
    return;
  }
  ADD_FAILURE() << "expected dsmoe::Error, nothing was thrown";
}

}  // namespace dsmoe::bad_input
