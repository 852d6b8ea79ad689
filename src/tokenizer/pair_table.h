// An open-addressing hash table keyed by a pair of 32-bit values (token ids, code points). BPE asks "is (a, b) a
// merge?" a few times per symbol; std::unordered_map's node per entry made that the bottleneck on long words.
#pragma once

#include <cstdint>
#include <vector>

namespace dsmoe {

template <typename Value>
class PairTable {
 public:
  static uint64_t key(uint32_t left, uint32_t right) { return (uint64_t(left) << 32) | right; }

  void reserve(size_t count) {
    size_t capacity = 16;
    while (capacity < count * 2) capacity *= 2;  // load factor at most 1/2: probes stay short
    if (capacity > slots_.size()) rehash(capacity);
  }

  // Inserts or overwrites.
  void set(uint32_t left, uint32_t right, const Value& value) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.empty() ? 16 : slots_.size() * 2);
    const uint64_t k = key(left, right);
    Slot& slot = probe(k);
    if (slot.key == kEmpty) {
      slot.key = k;
      ++size_;
    }
    slot.value = value;
  }

  const Value* find(uint32_t left, uint32_t right) const {
    if (slots_.empty()) return nullptr;
    const uint64_t k = key(left, right);
    for (size_t i = index(k);; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.key == k) return &slot.value;
      if (slot.key == kEmpty) return nullptr;
    }
  }

  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t(0);  // not a key: it would need both halves to be 0xFFFFFFFF
  struct Slot {
    uint64_t key = kEmpty;
    Value value{};
  };

  size_t index(uint64_t k) const { return size_t((k * 0x9E3779B97F4A7C15ull) >> shift_); }

  Slot& probe(uint64_t k) {
    size_t i = index(k);
    while (slots_[i].key != kEmpty && slots_[i].key != k) i = (i + 1) & mask_;
    return slots_[i];
  }

  void rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    shift_ = 64;
    for (size_t c = capacity; c > 1; c >>= 1) --shift_;
    size_ = 0;
    for (const Slot& slot : old) {
      if (slot.key == kEmpty) continue;
      probe(slot.key) = slot;
      ++size_;
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t mask_ = 0;
  int shift_ = 64;
};

}  // namespace dsmoe
