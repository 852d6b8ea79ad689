// Ids of words already encoded. Text repeats its words, so most words are found here instead of being merged again
// (HF's BPE keeps such a cache too). Shared by threads under a mutex; bounded in bytes, after which it stops growing.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dsmoe {

// Hashing std::string and std::string_view alike, so that lookups by view allocate nothing.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class WordCache {
 public:
  static constexpr size_t kMaxWordBytes = 1024;  // longer words are not kept
  static constexpr size_t kMaxBytes = 64 << 20;  // words and ids together

  // Appends the word's ids and returns true when it is cached.
  bool lookup(std::string_view word, std::vector<int32_t>& ids) {
    if (word.size() > kMaxWordBytes) return false;
    std::lock_guard lock(mutex_);
    auto hit = words_.find(word);
    if (hit == words_.end()) return false;
    ids.insert(ids.end(), hit->second.begin(), hit->second.end());
    return true;
  }

  void store(std::string_view word, const int32_t* ids, size_t count) {
    if (word.size() > kMaxWordBytes) return;
    const size_t cost = word.size() + count * sizeof(int32_t) + 64;  // 64: a rough per-entry overhead
    std::lock_guard lock(mutex_);
    if (bytes_ + cost > kMaxBytes) return;
    if (words_.try_emplace(std::string(word), ids, ids + count).second) bytes_ += cost;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> words_;
  size_t bytes_ = 0;
};

}  // namespace dsmoe
