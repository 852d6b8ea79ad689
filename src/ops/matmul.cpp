#include "ops/matmul.h"

#include <algorithm>

#include "core/errors.h"
#include "core/parallel.h"
#include "kernels/row_dot.h"
#include "quant/interleave.h"
#include "quant/quantize.h"
#include "quant/vec_dot.h"

namespace dsmoe {

namespace {

// Weight bytes per task: enough work to amortise scheduling, few enough to balance two cores on one token.
// Tasks hold whole rows and about this many bytes, so a job of heavy rows (Q8_0) splits into more tasks than
// one of light rows (Q4_K), and the threads, taking runs of tasks as they finish, share the bytes to read.
constexpr size_t kBytesPerTask = 16 * 1024;

// Whether the eight-row kernels read this weight: block formats laid out in groups (quant/interleave.h), and
// element formats whose rows come in whole groups of eight (consecutive rows as stored).
bool reads_groups(const TensorView& w) {
  if (w.row_groups) return true;
  return !is_block_format(w.dtype) && w.shape[0] % quant::kGroupRows == 0 &&
         row_kernels().group_dot[int(w.dtype)] != nullptr;
}

int64_t rows_per_task(const TensorView& w) {
  const int64_t rows = std::max<int64_t>(1, int64_t(kBytesPerTask / w.row_bytes()));
  return reads_groups(w) ? (rows + quant::kGroupRows - 1) / quant::kGroupRows * quant::kGroupRows : rows;
}
int64_t task_count(const TensorView& w) { return (w.shape[0] + rows_per_task(w) - 1) / rows_per_task(w); }
// Tokens whose weight rows are reused from the cache before moving on: the rows of one task stay in L1/L2
// while this many tokens' activations stream past them.
constexpr int64_t kTokensPerTile = 64;
// Below this many tokens to quantize, one thread does it (a parallel step costs more).
constexpr int64_t kParallelQuantizeTokens = 8;

// Rows in groups of eight take their activations with a trailer of per-block numbers (quant/interleave.h).
size_t activation_stride(const TensorView& w) {
  const int64_t in = w.shape[1];
  if (!is_block_format(w.dtype)) return size_t(in) * sizeof(float);
  return w.row_groups ? quant::group_activation_row_bytes(w.dtype, in) : activation_row_bytes(w.dtype, in);
}
void quantize_activations_for(const TensorView& w, const float* x, unsigned char* out) {
  if (w.row_groups) {
    quant::quantize_group_activation_row(w.dtype, x, out, w.shape[1]);
  } else {
    quantize_activation_row(w.dtype, x, out, w.shape[1]);
  }
}

void check_job(const MatmulJob& job) {
  const TensorView& w = *job.weight;
  if (w.shape.size() != 2) fail("matmul: weight must be 2-D, found ", w.shape.size(), " dimensions");
  if (w.row_groups && (w.shape[0] % quant::kGroupRows != 0 || row_kernels().group_dot[int(w.dtype)] == nullptr)) {
    fail("matmul: a ", dtype_name(w.dtype), " weight of shape ", w.shape_text(), " cannot be read in row groups");
  }
}

// Quantizes each job's x unless an earlier job with the same x and activation format already did.
void quantize_activations(std::span<const MatmulJob> jobs, MatmulScratch& scratch) {
  scratch.offsets.assign(jobs.size(), 0);
  scratch.owners.clear();
  size_t total = 0;
  int64_t tokens = 0;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const TensorView& w = *jobs[j].weight;
    if (!is_block_format(w.dtype)) continue;
    bool shared = false;
    for (size_t i : scratch.owners) {
      const MatmulJob& other = jobs[i];
      if (other.x == jobs[j].x && other.n_tokens == jobs[j].n_tokens && other.weight->shape[1] == w.shape[1] &&
          same_activation_format(other.weight->dtype, w.dtype) && other.weight->row_groups == w.row_groups) {
        scratch.offsets[j] = scratch.offsets[i];
        shared = true;
        break;
      }
    }
    if (shared) continue;
    scratch.owners.push_back(j);
    scratch.offsets[j] = total;
    total += size_t(jobs[j].n_tokens) * activation_stride(w);
    tokens += jobs[j].n_tokens;
  }
  if (scratch.activations.size() < total) scratch.activations.resize(total);

  // Token t of the concatenation of the owners' tokens.
  auto quantize = [&](int64_t begin, int64_t end) {
    int64_t first = 0;
    for (size_t j : scratch.owners) {
      const MatmulJob& job = jobs[j];
      const TensorView& w = *job.weight;
      const size_t stride = activation_stride(w);
      for (int64_t t = std::max(begin, first); t < std::min(end, first + job.n_tokens); ++t) {
        const int64_t token = t - first;
        quantize_activations_for(w, job.x + token * w.shape[1],
                                 scratch.activations.data() + scratch.offsets[j] + size_t(token) * stride);
      }
      first += job.n_tokens;
    }
  };
  if (tokens < kParallelQuantizeTokens) {
    quantize(0, tokens);
  } else {
    parallel_for(tokens, quantize);
  }
}

}  // namespace

float dot_f32(const float* a, const float* b, int64_t n) {
  float out;
  row_kernels().row_dot[int(DType::F32)](a, b, 0, 1, n, &out);
  return out;
}

void matmul_wt_batch(std::span<const MatmulJob> jobs, MatmulScratch& scratch) {
  for (const MatmulJob& job : jobs) check_job(job);
  quantize_activations(jobs, scratch);
  // Tasks: rows_per_task output rows of one job, numbered job after job.
  int64_t tasks = 0;
  for (const MatmulJob& job : jobs) tasks += task_count(*job.weight);
  const RowKernels& kernels = row_kernels();
  // Tasks are taken one at a time as threads finish: formats differ in cost per byte and cores in speed.
  parallel_for_dynamic(tasks, std::max<int64_t>(1, tasks / (8 * num_threads())), [&](int64_t task_begin, int64_t task_end) {
    int64_t first_task = 0;
    for (size_t j = 0; j < jobs.size() && first_task < task_end; ++j) {
      const MatmulJob& job = jobs[j];
      const TensorView& w = *job.weight;
      const int64_t out_features = w.shape[0], in_features = w.shape[1];
      const int64_t job_tasks = task_count(w);
      const int64_t task_rows = rows_per_task(w);
      const int64_t lo = std::max(task_begin, first_task) - first_task;
      const int64_t hi = std::min(task_end, first_task + job_tasks) - first_task;
      first_task += job_tasks;
      if (lo >= hi) continue;
      const RowDotFn dot = kernels.row_dot[int(w.dtype)];
      const size_t stride = activation_stride(w);
      const auto* activations = is_block_format(w.dtype)
                                    ? scratch.activations.data() + scratch.offsets[j]
                                    : reinterpret_cast<const unsigned char*>(job.x);
      const auto* w_bytes = static_cast<const unsigned char*>(w.data);
      const size_t w_row_bytes = w.row_bytes();
      const int64_t row_end = std::min(out_features, hi * task_rows);
      if (reads_groups(w)) {  // eight rows a call (tasks hold whole groups)
        const RowGroupDotFn group_dot = kernels.group_dot[int(w.dtype)];
        constexpr int kRows = quant::kGroupRows;
        for (int64_t t0 = 0; t0 < job.n_tokens; t0 += kTokensPerTile) {
          const int64_t t1 = std::min(job.n_tokens, t0 + kTokensPerTile);
          for (int64_t o = lo * task_rows; o < row_end; o += kRows) {
            const unsigned char* group = w_bytes + size_t(o) * w_row_bytes;
            for (int64_t t = t0; t < t1; t += kMaxColumns) {
              const int columns = int(std::min<int64_t>(kMaxColumns, t1 - t));
              float out[kMaxColumns * kRows];
              group_dot(group, activations + size_t(t) * stride, stride, columns, in_features, out);
              for (int c = 0; c < columns; ++c) {
                std::copy(out + c * kRows, out + (c + 1) * kRows, job.y + (t + c) * out_features + o);
              }
            }
          }
        }
        continue;
      }
      for (int64_t t0 = 0; t0 < job.n_tokens; t0 += kTokensPerTile) {
        const int64_t t1 = std::min(job.n_tokens, t0 + kTokensPerTile);
        for (int64_t o = lo * task_rows; o < row_end; ++o) {
          const unsigned char* w_row = w_bytes + size_t(o) * w_row_bytes;
          for (int64_t t = t0; t < t1; t += kMaxColumns) {
            const int columns = int(std::min<int64_t>(kMaxColumns, t1 - t));
            float out[kMaxColumns];
            dot(w_row, activations + size_t(t) * stride, stride, columns, in_features, out);
            for (int c = 0; c < columns; ++c) job.y[(t + c) * out_features + o] = out[c];
          }
        }
      }
    }
  });
}

void matmul_wt(const float* x, int64_t n_tokens, const TensorView& weight, float* y) {
  thread_local MatmulScratch scratch;
  const MatmulJob job{x, n_tokens, &weight, y};
  matmul_wt(job, scratch);
}

void matmul_wt_reference(const float* x, int64_t n_tokens, const TensorView& weight, float* y) {
  if (weight.row_groups) fail("matmul_wt_reference: weights in row groups are not supported");
  const int64_t out_features = weight.shape[0];
  const int64_t in_features = weight.shape[1];
  // Rows hold whole blocks and lie end to end, so the whole weight dequantizes as one row.
  std::vector<float> w(size_t(out_features * in_features));
  dequantize_row(weight.dtype, weight.data, w.data(), out_features * in_features);
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t o = 0; o < out_features; ++o) {
      double sum = 0;
      for (int64_t i = 0; i < in_features; ++i) sum += double(x[t * in_features + i]) * w[o * in_features + i];
      y[t * out_features + o] = float(sum);
    }
  }
}

}  // namespace dsmoe
