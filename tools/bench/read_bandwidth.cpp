// read_bandwidth: how fast this machine reads memory with T threads, the denominator of the decode floor
// (weight bytes per token / bandwidth) in docs/performance.md.
//
//   read_bandwidth [--threads T] [--gib G] [--passes P] [--pages huge|small|default]
//
// A buffer of G GiB (far beyond every cache) is mapped anonymously, advised for transparent huge pages (huge),
// against them (small) or left to the system's setting (default), and written once by the thread that will read
// each slice. Then every pass has each thread sum its own contiguous slice with eight independent 64-byte
// accumulators, so that loads, not the adds' latency, bound it. A pass is timed from the barrier that starts the
// threads to the barrier they all reach at the end. One JSON object on stdout: GB/s (1e9 bytes) of every pass,
// the best and the median, and how many bytes the kernel actually backed with huge pages.
#include <sys/mman.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

// 64 bytes of unsigned 64-bit lanes: GCC lowers it to one AVX-512 register, two AVX2 ones, or scalar code.
typedef uint64_t Lanes __attribute__((vector_size(64)));
constexpr size_t kLanesBytes = sizeof(Lanes);
constexpr size_t kUnroll = 8;  // independent accumulators
constexpr size_t kStep = kLanesBytes * kUnroll;

struct Options {
  int threads = int(std::thread::hardware_concurrency());
  double gib = 2.0;
  int passes = 10;
  std::string pages = "huge";
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr,
               "read_bandwidth: %s\nusage: read_bandwidth [--threads T] [--gib G] [--passes P] "
               "[--pages huge|small|default]\n",
               message.c_str());
  std::exit(1);
}

double number(const char* flag, const char* text, double low, double high) {
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(value >= low && value <= high)) {
    std::ostringstream message;
    message << flag << " must be between " << low << " and " << high << ", found '" << text << "'";
    usage_error(message.str());
  }
  return value;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage_error(flag + " needs a value");
    const char* value = argv[++i];
    if (flag == "--threads")
      o.threads = int(number("--threads", value, 1, 1024));
    else if (flag == "--gib")
      o.gib = number("--gib", value, 0.001, 1024);
    else if (flag == "--passes")
      o.passes = int(number("--passes", value, 1, 100000));
    else if (flag == "--pages" && (std::strcmp(value, "huge") == 0 || std::strcmp(value, "small") == 0 ||
                                   std::strcmp(value, "default") == 0))
      o.pages = value;
    else
      usage_error("unknown option or value: " + flag + " " + value);
  }
  return o;
}

// Sums bytes [begin, end) of the buffer (both multiples of kStep) as 64-bit lanes.
uint64_t sum_slice(const unsigned char* begin, const unsigned char* end) {
  Lanes acc[kUnroll] = {};
  for (const unsigned char* p = begin; p < end; p += kStep) {
    for (size_t u = 0; u < kUnroll; ++u) {
      Lanes v;
      std::memcpy(&v, p + u * kLanesBytes, kLanesBytes);  // an aligned vector load once optimised
      acc[u] += v;
    }
  }
  uint64_t total = 0;
  for (size_t u = 0; u < kUnroll; ++u)
    for (size_t lane = 0; lane < kLanesBytes / sizeof(uint64_t); ++lane) total += acc[u][lane];
  return total;
}

// AnonHugePages of this process (kB in /proc/self/smaps_rollup), in bytes; -1 when unknown.
int64_t anon_huge_bytes() {
  std::ifstream rollup("/proc/self/smaps_rollup");
  std::string line;
  while (std::getline(rollup, line)) {
    if (line.rfind("AnonHugePages:", 0) == 0) return std::stoll(line.substr(14)) * 1024;
  }
  return -1;
}

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string json_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const size_t slice = size_t(o.gib * double(1 << 30) / o.threads) / kStep * kStep;
  if (slice == 0) usage_error("--gib is too small for that many threads");
  const size_t bytes = slice * size_t(o.threads);
  void* mapped = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) usage_error("mmap of " + std::to_string(bytes) + " bytes failed");
  if (o.pages != "default" && madvise(mapped, bytes, o.pages == "huge" ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) != 0)
    std::fprintf(stderr, "read_bandwidth: madvise failed (%s); pages as the system gives them\n", std::strerror(errno));
  auto* buffer = static_cast<unsigned char*>(mapped);

  std::barrier sync(o.threads + 1);
  std::vector<uint64_t> sums(size_t(o.threads), 0);
  std::vector<std::thread> workers;
  for (int t = 0; t < o.threads; ++t) {
    workers.emplace_back([&, t] {
      unsigned char* begin = buffer + size_t(t) * slice;
      // First touch by the reading thread; nonzero bytes so that the sums mean something.
      for (size_t i = 0; i < slice; i += 4096)
        std::memset(begin + i, int((i / 4096 + size_t(t)) % 251 + 1), std::min<size_t>(4096, slice - i));
      sync.arrive_and_wait();  // all touched
      for (int pass = 0; pass < o.passes; ++pass) {
        sync.arrive_and_wait();  // start
        sums[size_t(t)] += sum_slice(begin, begin + slice);
        sync.arrive_and_wait();  // done
      }
    });
  }
  sync.arrive_and_wait();
  const int64_t huge = anon_huge_bytes();
  std::vector<double> gbps;
  for (int pass = 0; pass < o.passes; ++pass) {
    sync.arrive_and_wait();
    const auto start = std::chrono::steady_clock::now();
    sync.arrive_and_wait();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    gbps.push_back(double(bytes) / seconds / 1e9);
  }
  for (std::thread& w : workers) w.join();
  uint64_t checksum = 0;
  for (const uint64_t s : sums) checksum ^= s;

  std::vector<double> sorted = gbps;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  const double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  std::printf(
      "{\"threads\": %d, \"bytes\": %zu, \"pages\": \"%s\", \"thp_enabled\": \"%s\", "
      "\"anon_huge_bytes\": %lld, \"passes\": %d, \"gbps\": [",
      o.threads, bytes, o.pages.c_str(), json_escape(first_line("/sys/kernel/mm/transparent_hugepage/enabled")).c_str(),
      static_cast<long long>(huge), o.passes);
  for (size_t i = 0; i < n; ++i) std::printf("%s%.3f", i > 0 ? ", " : "", gbps[i]);
  std::printf("], \"best_gbps\": %.3f, \"median_gbps\": %.3f, \"checksum\": %llu}\n", sorted.back(), median,
              static_cast<unsigned long long>(checksum));
  munmap(mapped, bytes);
  return 0;
}
