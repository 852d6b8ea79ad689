#include "bench_report.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "dsmoe/number_format.h"

namespace dsmoe::cli {

std::string BenchRow::test() const {
  std::ostringstream name;
  if (n_prompt > 0) name << "pp" << n_prompt;
  if (n_gen > 0) name << (n_prompt > 0 ? "+" : "") << "tg" << n_gen;
  if (n_depth > 0) name << " @ d" << n_depth;
  return name.str();
}

Throughput throughput(const BenchRow& row) {
  Throughput t;
  const auto n = double(row.samples_ns.size());
  if (row.samples_ns.empty()) return t;
  std::vector<double> ts;
  for (const int64_t ns : row.samples_ns) ts.push_back(double(row.tokens()) * 1e9 / double(ns));
  for (const double v : ts) t.mean += v / n;
  if (ts.size() > 1) {
    double squares = 0;
    for (const double v : ts) squares += (v - t.mean) * (v - t.mean);
    t.sd = std::sqrt(squares / (n - 1));
  }
  return t;
}

std::string bench_size_text(int64_t bytes) {
  const double gib = double(bytes) / double(int64_t(1) << 30);
  char text[32];
  if (gib >= 1.0)
    std::snprintf(text, sizeof text, "%.2f GiB", gib);
  else
    std::snprintf(text, sizeof text, "%.2f MiB", double(bytes) / double(1 << 20));
  return text;
}

int64_t peak_resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // "VmHWM:  1234 kB"
  }
  return 0;
}

namespace {

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// A CSV field: quoted, with quotes doubled (RFC 4180), so names with commas survive.
std::string csv_field(const std::string& text) {
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

nlohmann::ordered_json row_json(const BenchRow& row) {
  const Throughput t = throughput(row);
  nlohmann::ordered_json j;
  j["engine"] = "dsmoe";
  j["model"] = row.model;
  j["size"] = row.size;
  j["params"] = row.params;
  j["type"] = row.type;
  j["threads"] = row.threads;
  j["test"] = row.test();
  j["n_prompt"] = row.n_prompt;
  j["n_gen"] = row.n_gen;
  j["n_depth"] = row.n_depth;
  j["kv_bytes"] = row.kv_bytes;
  j["resident_bytes"] = row.resident_bytes;
  j["load_s"] = row.load_seconds;
  j["samples_ns"] = row.samples_ns;
  j["avg_ts"] = t.mean;
  j["stddev_ts"] = t.sd;
  return j;
}

}  // namespace

void BenchPrinter::begin() {
  switch (format_) {
    case BenchFormat::kMarkdown:
      out_ << "| model | size | params | type | threads | test | t/s |" << (memory_ ? " kv cache | resident |" : "")
           << "\n| --- | ---: | ---: | --- | ---: | ---: | ---: |" << (memory_ ? " ---: | ---: |" : "") << "\n";
      break;
    case BenchFormat::kJson:
      out_ << "[";
      break;
    case BenchFormat::kCsv:
      out_ << "model,size,params,type,threads,test,n_prompt,n_gen,load_s,avg_ts,stddev_ts,samples_ns,n_depth,kv_bytes,"
              "resident_bytes\n";
      break;
  }
  out_.flush();
}

void BenchPrinter::row(const BenchRow& row) {
  const Throughput t = throughput(row);
  switch (format_) {
    case BenchFormat::kMarkdown:
      out_ << "| " << row.model << " | " << bench_size_text(row.size) << " | " << human_count(row.params) << " | "
           << row.type << " | " << row.threads << " | " << row.test() << " | " << fixed(t.mean, 2) << " ± "
           << fixed(t.sd, 2) << " |";
      if (memory_) out_ << " " << bench_size_text(row.kv_bytes) << " | " << bench_size_text(row.resident_bytes) << " |";
      out_ << "\n";
      break;
    case BenchFormat::kJson:
      out_ << (rows_ > 0 ? ",\n  " : "\n  ") << row_json(row).dump();
      break;
    case BenchFormat::kCsv: {
      std::ostringstream samples;
      for (size_t i = 0; i < row.samples_ns.size(); ++i) samples << (i > 0 ? ";" : "") << row.samples_ns[i];
      out_ << csv_field(row.model) << "," << row.size << "," << row.params << "," << csv_field(row.type) << ","
           << row.threads << "," << row.test() << "," << row.n_prompt << "," << row.n_gen << ","
           << fixed(row.load_seconds, 3) << "," << fixed(t.mean, 3) << "," << fixed(t.sd, 3) << ","
           << csv_field(samples.str()) << "," << row.n_depth << "," << row.kv_bytes << "," << row.resident_bytes
           << "\n";
      break;
    }
  }
  ++rows_;
  out_.flush();
}

void BenchPrinter::end() {
  if (format_ == BenchFormat::kJson) out_ << (rows_ > 0 ? "\n]\n" : "]\n");
  out_.flush();
}

}  // namespace dsmoe::cli
