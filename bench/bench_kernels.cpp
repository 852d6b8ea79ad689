// Kernel throughput at the real deepseek-moe-16b shapes (random weights). Numbers, not tests:
//   build/bench/dsmoe_bench_kernels --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/parallel.h"
#include "kernels/row_dot.h"
#include "ops/attention.h"
#include "ops/matmul.h"
#include "quant/interleave.h"
#include "quant/quantize.h"
#include "quant/vec_dot.h"

namespace dsmoe {
namespace {

struct Weight {
  std::vector<uint16_t> bf16;
  std::vector<float> f32;
  TensorView view;
};

Weight make_weight(int64_t out, int64_t in, DType dtype) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  Weight w;
  w.view.dtype = dtype;
  w.view.shape = {out, in};
  const auto n = static_cast<size_t>(out * in);
  if (dtype == DType::F32) {
    w.f32.resize(n);
    for (auto& v : w.f32) v = normal(rng);
    w.view.data = w.f32.data();
  } else {
    w.bf16.resize(n);
    for (auto& v : w.bf16) v = f32_to_bf16(normal(rng));
    w.view.data = w.bf16.data();
  }
  return w;
}

// Args: tokens, out_features, in_features, dtype (0 F32, 1 BF16), threads.
void BM_Matmul(benchmark::State& state) {
  const int64_t tokens = state.range(0), out = state.range(1), in = state.range(2);
  const Weight w = make_weight(out, in, state.range(3) ? DType::BF16 : DType::F32);
  set_num_threads(int(state.range(4)));
  std::vector<float> x(static_cast<size_t>(tokens * in), 0.5f), y(static_cast<size_t>(tokens * out));
  for (auto _ : state) {
    matmul_wt(x.data(), tokens, w.view, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      double(2 * tokens * out * in), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.counters["weight GB/s"] = benchmark::Counter(
      double(w.view.bytes()), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
// An expert's up_proj (1408 x 2048) and the dense MLP (10944 x 2048): decode (1 token) and a prefill chunk.
BENCHMARK(BM_Matmul)
    ->ArgsProduct({{1, 32}, {1408}, {2048}, {0, 1}, {1, 2}})
    ->Args({1, 10944, 2048, 1, 1})
    ->Args({1, 10944, 2048, 1, 2})
    ->Unit(benchmark::kMicrosecond);

// One weight format on one instruction set's row kernel, single thread, no matmul around it: the rows of an
// expert's gate (1408 x 2048) or down (2048 x 1408) projection, 1 token (decode) or 4 (the prefill tile).
// Args: dtype, isa, in_features, columns.
// A random weight [rows, in] stored as `type` and kMaxColumns activation rows in its paired format.
struct KernelInputs {
  std::vector<unsigned char> weight, act;
  size_t row_bytes = 0, stride = 0;
  std::vector<unsigned char> group_act;  // the activations of the eight-row kernels (quant/interleave.h)
  size_t group_stride = 0;
};
KernelInputs kernel_inputs(DType type, int64_t rows, int64_t in) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(static_cast<size_t>(rows * in)), x(static_cast<size_t>(kMaxColumns * in));
  for (float& v : values) v = normal(rng);
  for (float& v : x) v = normal(rng);
  KernelInputs k;
  k.row_bytes = dtype_row_bytes(type, in);
  k.weight.resize(size_t(rows) * k.row_bytes);
  quantize_rows(type, values.data(), k.weight.data(), rows, in);
  k.stride = is_block_format(type) ? activation_row_bytes(type, in) : size_t(in) * sizeof(float);
  k.act.resize(k.stride * kMaxColumns);
  for (int c = 0; c < kMaxColumns; ++c) {
    if (is_block_format(type)) {
      quantize_activation_row(type, x.data() + c * in, k.act.data() + size_t(c) * k.stride, in);
    } else {
      std::memcpy(k.act.data() + size_t(c) * k.stride, x.data() + c * in, k.stride);
    }
  }
  if (quant::has_group_layout(type)) {
    k.group_stride = quant::group_activation_row_bytes(type, in);
    k.group_act.resize(k.group_stride * kMaxColumns);
    for (int c = 0; c < kMaxColumns; ++c) {
      quant::quantize_group_activation_row(type, x.data() + c * in, k.group_act.data() + size_t(c) * k.group_stride, in);
    }
  }
  return k;
}

// The case a BM_RowKernel or BM_GroupKernel run reads from its args (dtype, isa, in_features, columns), with its
// inputs; nullopt (the run marked skipped) when this CPU cannot run the instruction set.
struct KernelCase {
  DType type;
  Isa isa;
  int64_t in, rows;
  int columns;
  KernelInputs inputs;
};
std::optional<KernelCase> kernel_case(benchmark::State& state) {
  const auto type = DType(state.range(0));
  const auto isa = Isa(state.range(1));
  if (!cpu_supports(isa)) {
    state.SkipWithError("this CPU does not run that instruction set");
    return std::nullopt;
  }
  const int64_t in = state.range(2), rows = in == 2048 ? 1408 : 2048;
  return KernelCase{type, isa, in, rows, int(state.range(3)), kernel_inputs(type, rows, in)};
}

void BM_RowKernel(benchmark::State& state) {
  const std::optional<KernelCase> kc = kernel_case(state);
  if (!kc) return;
  const auto& [type, isa, in, rows, columns, k] = *kc;
  const std::vector<unsigned char>& weight = k.weight;
  const std::vector<unsigned char>& act = k.act;
  const size_t stride = k.stride, row_bytes = k.row_bytes;
  const RowDotFn dot = row_kernels(isa).row_dot[int(type)];
  float out[kMaxColumns];
  for (auto _ : state) {
    for (int64_t r = 0; r < rows; ++r) dot(weight.data() + size_t(r) * row_bytes, act.data(), stride, columns, in, out);
    benchmark::DoNotOptimize(out);
  }
  state.SetLabel(std::string(dtype_name(type)) + " " + std::string(isa_name(isa)));
  state.counters["weight GB/s"] = benchmark::Counter(
      double(weight.size()), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_RowKernel)
    ->ArgsProduct({{int(DType::F32), int(DType::BF16), int(DType::Q8_0), int(DType::Q4_0), int(DType::Q5_0), int(DType::Q4_K),
                    int(DType::Q5_K), int(DType::Q6_K)},
                   {int(Isa::kAvx2), int(Isa::kAvx512)},
                   {2048},
                   {1, 4}})
    ->ArgsProduct({{int(DType::Q8_0), int(DType::Q5_0)}, {int(Isa::kAvx512)}, {1408}, {1, 4}})
    ->Unit(benchmark::kMicrosecond);

// Args: format, instruction set, in_features, columns. The eight-row kernel over the same matrix as
// BM_RowKernel's rows (interleaved for the block formats, quant/interleave.h): eight rows at once beside one.
void BM_GroupKernel(benchmark::State& state) {
  const std::optional<KernelCase> kc = kernel_case(state);
  if (!kc) return;
  const auto& [type, isa, in, rows, columns, k] = *kc;
  const std::vector<unsigned char>& weight = k.weight;
  // Block formats interleaved, with the trailer on their activations; element formats as stored.
  const bool interleaved = quant::has_group_layout(type);
  const std::vector<unsigned char>& act = interleaved ? k.group_act : k.act;
  const size_t stride = interleaved ? k.group_stride : k.stride, row_bytes = k.row_bytes;
  std::vector<unsigned char> groups(weight);
  if (interleaved) quant::interleave_matrix(type, weight.data(), rows, in, groups.data());
  const RowGroupDotFn dot = row_kernels(isa).group_dot[int(type)];
  float out[kMaxColumns * quant::kGroupRows];
  for (auto _ : state) {
    for (int64_t r = 0; r < rows; r += quant::kGroupRows) {
      dot(groups.data() + size_t(r) * row_bytes, act.data(), stride, columns, in, out);
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetLabel(std::string(dtype_name(type)) + " x8 " + std::string(isa_name(isa)));
  state.counters["weight GB/s"] = benchmark::Counter(
      double(weight.size()), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_GroupKernel)
    ->ArgsProduct(
        {{int(DType::F32), int(DType::BF16), int(DType::Q8_0), int(DType::Q4_0), int(DType::Q4_K), int(DType::Q6_K)},
                      {int(Isa::kAvx2), int(Isa::kAvx512)},
                      {2048},
                      {1, 4}})
    ->ArgsProduct({{int(DType::Q4_0)}, {int(Isa::kAvx512)}, {1408}, {1, 4}})
    ->Unit(benchmark::kMicrosecond);

// Args: context length, threads. One decode step of one layer: 16 heads, head_dim 128.
void BM_DecodeAttention(benchmark::State& state) {
  AttentionShape s;
  s.n_new = 1;
  s.past = state.range(0) - 1;
  s.n_heads = s.n_kv_heads = 16;
  s.head_dim = 128;
  s.capacity = state.range(0);
  set_num_threads(int(state.range(1)));
  std::vector<float> q(16 * 128, 0.1f), kv(static_cast<size_t>(16 * s.capacity * 128), 0.01f), out(q.size());
  for (auto _ : state) {
    causal_attention(q.data(), kv.data(), kv.data(), s, 0.088f, out.data());
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_DecodeAttention)->ArgsProduct({{512, 4096}, {1, 2}})->Unit(benchmark::kMicrosecond);

// Args: prompt length, threads. The prefill of one layer's attention over an empty cache: 16 heads, head_dim 128.
void BM_PrefillAttention(benchmark::State& state) {
  AttentionShape s;
  s.n_new = state.range(0);
  s.past = 0;
  s.n_heads = s.n_kv_heads = 16;
  s.head_dim = 128;
  s.capacity = s.n_new;
  set_num_threads(int(state.range(1)));
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(static_cast<size_t>(s.n_new * 16 * 128)), kv(static_cast<size_t>(16 * s.capacity * 128));
  for (auto& v : q) v = normal(rng);
  for (auto& v : kv) v = normal(rng);
  std::vector<float> out(q.size());
  for (auto _ : state) {
    causal_attention(q.data(), kv.data(), kv.data(), s, 0.088f, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  // Multiply-adds of Q K^T and P V over the causal triangle, for all heads.
  const double macs = 2.0 * 16 * 128 * double(s.n_new) * double(s.n_new + 1) / 2;
  state.counters["GMAC/s"] = benchmark::Counter(macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_PrefillAttention)->ArgsProduct({{512}, {1, 2}})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dsmoe

BENCHMARK_MAIN();
