// Number formatting for people: 16,375,728,128 and 16.4B and 1.07 GB.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace dsmoe::cli {

inline std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  for (int i = int(digits.size()) - 3; i > 0; i -= 3) digits.insert(size_t(i), ",");
  return n < 0 ? "-" + digits : digits;
}

inline std::string scaled(double value, const char* const* units, double step) {
  int unit = 0;
  while (value >= step && units[unit + 1] != nullptr) {
    value /= step;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f%s" : "%.1f%s", value, units[unit]);
  return text;
}

inline std::string human_count(double n) {
  static const char* const units[] = {"", "K", "M", "B", "T", nullptr};
  return scaled(n, units, 1000.0);
}

inline std::string human_bytes(double n) {
  static const char* const units[] = {" B", " KiB", " MiB", " GiB", " TiB", nullptr};
  return scaled(n, units, 1024.0);
}

inline std::string human_count(int64_t n) { return human_count(double(n)); }
inline std::string human_bytes(int64_t n) { return human_bytes(double(n)); }

}  // namespace dsmoe::cli
