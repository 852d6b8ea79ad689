// What `dsmoe bench` measures and how it prints it: llama-bench's table (model, size, params, type, threads,
// test, t/s as mean ± sample sd) in markdown, JSON (each row with its raw samples) or CSV.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace dsmoe::cli {

// One test (ppN or tgN) at one thread count.
struct BenchRow {
  std::string model;   // the file or folder name, or "<config> (L of M layers)"
  int64_t size = 0;    // bytes of the weights the model binds
  int64_t params = 0;  // total parameters
  std::string type;    // Q4_K_M, BF16, F32, mixed ...
  int threads = 0;
  int64_t n_prompt = 0;  // ppN: N, else 0
  int64_t n_gen = 0;     // tgN: N, else 0
  int64_t n_depth = 0;   // positions already in the KV cache when the test starts (-d)
  int64_t kv_bytes = 0;  // KV cache bytes the test's last position fills: (depth + tokens) positions
  int64_t resident_bytes = 0;  // this process's resident memory (VmRSS) after the test
  double load_seconds = 0;
  std::vector<int64_t> samples_ns;  // one per repetition, the warm-up excluded

  std::string test() const;  // "pp512" / "tg128", "tg128 @ d4096" as llama-bench names a test at depth
  int64_t tokens() const { return n_prompt + n_gen; }
};

// Tokens per second of every sample, their mean and sample standard deviation (0 for one sample), as
// llama-bench computes avg_ts and stddev_ts.
struct Throughput {
  double mean = 0;
  double sd = 0;
};
Throughput throughput(const BenchRow& row);

enum class BenchFormat { kMarkdown, kJson, kCsv };

// Prints rows as they come, so that a long run shows its first results early.
class BenchPrinter {
 public:
  // memory: markdown gains the depth tests' columns "kv cache" and "resident" (JSON and CSV always have them).
  BenchPrinter(std::ostream& out, BenchFormat format, bool memory = false)
      : out_(out), format_(format), memory_(memory) {}
  void begin();
  void row(const BenchRow& row);
  void end();

 private:
  std::ostream& out_;
  BenchFormat format_;
  bool memory_;
  int64_t rows_ = 0;
};

std::string bench_size_text(int64_t bytes);  // "10.10 GiB", "34.21 MiB"
int64_t peak_resident_bytes();               // VmHWM of this process, 0 when unknown

}  // namespace dsmoe::cli
