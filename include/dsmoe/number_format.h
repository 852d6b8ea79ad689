// Number formatting for people: 16,375,728,128 and 16.4B and 1.07 GB (the reports of the library and its
// interfaces).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace dsmoe {

inline std::string with_commas(int64_t n) {
  const std::string digits = std::to_string(n);  // appended, not inserted: GCC 12 warns falsely on insert here
  std::string out;
  const size_t first = n < 0 ? 1 : 0;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > first && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
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

}  // namespace dsmoe
