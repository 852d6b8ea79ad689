// quant_probe: exposes src/quant and matmul_wt to tests/quant/check_quant.py as raw files, so the Python
// oracle (gguf-py and llama.cpp's libraries) sees the library's exact bytes and floats.
//
//   quant_probe quantize   TYPE N IN.f32 OUT.bin        rows of N floats -> quantize_row
//   quant_probe dequantize TYPE N IN.bin OUT.f32        rows of a TYPE row each -> dequantize_row
//   quant_probe activation TYPE N IN.f32 OUT.bin        quantize_activation_row for weights of TYPE
//   quant_probe vec_dot    TYPE N W.bin A.bin OUT.f32   vec_dot_row of weight row r with activation row r
//   quant_probe matmul     TYPE N W.bin X.f32 OUT.f32   matmul_wt: W [rows, N], X [tokens, N] -> [tokens, rows]
//
// The number of rows comes from the input's size. It lives outside tests/quant/*.cpp, which is the gtest glob.
#include <cstdio>
#include <exception>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/errors.h"
#include "core/tensor_view.h"
#include "ops/matmul.h"
#include "quant/quantize.h"
#include "quant/vec_dot.h"

namespace dsmoe {
namespace {

std::vector<unsigned char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("quant_probe: cannot read ", path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const void* data, size_t bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), std::streamsize(bytes));
  if (!out) fail("quant_probe: cannot write ", path);
}

std::vector<float> as_floats(const std::vector<unsigned char>& bytes) {
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

// Rows in `total` bytes of rows of `row` bytes each; an Error when it does not divide.
int64_t rows_in(size_t total, size_t row, const std::string& what) {
  if (row == 0 || total % row != 0) fail("quant_probe: ", what, " holds ", total, " bytes, not rows of ", row);
  return int64_t(total / row);
}

int run(const std::vector<std::string>& args) {
  if (args.size() < 5) fail("usage: quant_probe OP TYPE N IN... OUT (see the source)");
  const std::string& op = args[0];
  DType type;
  if (!parse_dtype(args[1], &type)) fail("quant_probe: unknown type ", args[1]);
  const int64_t n = std::stoll(args[2]);
  const auto input = read_file(args[3]);
  const std::string& out_path = args.back();
  if (op == "quantize" || op == "activation") {
    const auto x = as_floats(input);
    const int64_t rows = rows_in(input.size(), size_t(n) * sizeof(float), args[3]);
    const size_t row_bytes = op == "quantize" ? dtype_row_bytes(type, n) : activation_row_bytes(type, n);
    std::vector<unsigned char> out(size_t(rows) * row_bytes);
    for (int64_t r = 0; r < rows; ++r) {
      if (op == "quantize") {
        quantize_row(type, x.data() + r * n, out.data() + size_t(r) * row_bytes, n);
      } else {
        quantize_activation_row(type, x.data() + r * n, out.data() + size_t(r) * row_bytes, n);
      }
    }
    write_file(out_path, out.data(), out.size());
  } else if (op == "dequantize") {
    const size_t row_bytes = dtype_row_bytes(type, n);
    const int64_t rows = rows_in(input.size(), row_bytes, args[3]);
    std::vector<float> out(size_t(rows * n));
    for (int64_t r = 0; r < rows; ++r)
      dequantize_row(type, input.data() + size_t(r) * row_bytes, out.data() + r * n, n);
    write_file(out_path, out.data(), out.size() * sizeof(float));
  } else if (op == "vec_dot" && args.size() == 6) {
    const auto activations = read_file(args[4]);
    const size_t w_row = dtype_row_bytes(type, n), a_row = activation_row_bytes(type, n);
    const int64_t rows = rows_in(input.size(), w_row, args[3]);
    if (rows_in(activations.size(), a_row, args[4]) != rows) fail("quant_probe: row counts differ");
    std::vector<float> out(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
      out[size_t(r)] = vec_dot_row(type, input.data() + size_t(r) * w_row, activations.data() + size_t(r) * a_row, n);
    }
    write_file(out_path, out.data(), out.size() * sizeof(float));
  } else if (op == "matmul" && args.size() == 6) {
    const auto x = as_floats(read_file(args[4]));
    TensorView weight;
    weight.dtype = type;
    weight.shape = {rows_in(input.size(), dtype_row_bytes(type, n), args[3]), n};
    weight.data = input.data();
    const int64_t tokens = rows_in(x.size() * sizeof(float), size_t(n) * sizeof(float), args[4]);
    std::vector<float> out(size_t(tokens * weight.shape[0]));
    matmul_wt(x.data(), tokens, weight, out.data());
    write_file(out_path, out.data(), out.size() * sizeof(float));
  } else {
    fail("quant_probe: unknown op or wrong argument count: ", op);
  }
  return 0;
}

}  // namespace
}  // namespace dsmoe

int main(int argc, char** argv) {
  try {
    return dsmoe::run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
