// dsmoe tokenize: text to token ids (as HF tokenizers' encode) or, with --decode, ids to text.
// With --jsonl every input line is one case (a JSON string, or a JSON array of ids with --decode) and every output
// line its answer, which is how tests/tokenizer_compat compares us with HF line by line.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "commands.h"
#include "generation_options.h"
#include "dsmoe/error.h"
#include "dsmoe/text_file.h"
#include "dsmoe/json_file.h"
#include "dsmoe/model_metadata.h"
#include "token_ids.h"
#include "dsmoe/tokenizer.h"

namespace dsmoe::cli {
namespace {

using nlohmann::json;

struct TokenizeArgs {
  std::string model_dir;
  std::string tokenizer_path;
  std::string prompt;
  std::string file;
  bool special = false;
  bool jsonl = false;
  bool decode = false;
  bool skip_special = false;
  bool timing = false;
};

std::string read_input(const TokenizeArgs& a) {
  if (!a.prompt.empty()) return a.prompt;
  if (!a.file.empty()) {
    return read_text_file(a.file, "tokenize: ");
  }
  return std::string(std::istreambuf_iterator<char>(std::cin), {});
}

std::string ids_json(const std::vector<int32_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "]";
}

std::vector<int32_t> parse_ids_json(const json& value, const std::string& where) {
  if (!value.is_array()) fail(where, ": expected a JSON array of token ids");
  std::vector<int32_t> ids;
  for (const json& id : value) {
    if (!id.is_number_integer() || id.get<int64_t>() < INT32_MIN || id.get<int64_t>() > INT32_MAX) {
      fail(where, ": ", id.dump(), " is not a token id");
    }
    ids.push_back(id.get<int32_t>());
  }
  return ids;
}

// A JSON array, or ids separated by commas and/or whitespace.
std::vector<int32_t> parse_ids_text(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {
    check_id_count(text, "tokenize --decode");
    return parse_ids_json(parse_json_text(text.data(), text.data() + text.size(), "tokenize --decode"),
                          "tokenize --decode");
  }
  return parse_token_ids(text, "tokenize --decode");
}

int run_jsonl(const Tokenizer& tok, const TokenizeArgs& a, const std::string& input) {
  std::istringstream lines(input);
  std::string line, out;
  size_t number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = cat("tokenize --jsonl: line ", number);
    if (a.decode) check_id_count(line, where.c_str());
    const json value = parse_json_text(line.data(), line.data() + line.size(), where);
    if (a.decode) {
      out += json(tok.decode(parse_ids_json(value, where), a.skip_special)).dump();
    } else {
      if (!value.is_string()) fail(where, ": expected a JSON string");
      out += ids_json(tok.encode(value.get_ref<const std::string&>(), a.special));
    }
    out += '\n';
  }
  std::cout << out;
  return 0;
}

int run_tokenize(const TokenizeArgs& a) {
  if (a.model_dir.empty() == a.tokenizer_path.empty()) fail("tokenize: give -m MODEL or --tokenizer FILE, not both");
  if (!a.prompt.empty() && !a.file.empty()) fail("tokenize: give text with -p or -f, not both");
  const auto tok = !a.tokenizer_path.empty() ? Tokenizer::load(a.tokenizer_path) : load_model_tokenizer(a.model_dir);
  const std::string input = read_input(a);
  if (a.jsonl) return run_jsonl(*tok, a, input);
  if (a.decode) {
    std::cout << tok->decode(parse_ids_text(input), a.skip_special);
    return 0;
  }
  std::vector<int32_t> ids;
  double first = 0, best = 0;
  // --timing encodes 5 times: the first run fills the word cache, the best run is the steady state.
  for (int run = 0; run < (a.timing ? 5 : 1); ++run) {
    const auto start = std::chrono::steady_clock::now();
    ids = tok->encode(input, a.special);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = run == 0 ? seconds : std::min(best, seconds);
    if (run == 0) first = seconds;
  }
  std::cout << ids_json(ids) << "\n";
  if (a.timing) {
    const double mb = double(input.size()) / 1e6;
    std::cerr << "{\"bytes\": " << input.size() << ", \"tokens\": " << ids.size() << ", \"first_seconds\": " << first
              << ", \"first_mb_per_s\": " << mb / first << ", \"best_seconds\": " << best
              << ", \"mb_per_s\": " << mb / best << "}\n";
  }
  return 0;
}

}  // namespace

Handler add_tokenize_command(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  app.add_option("-m,--model", args->model_dir, "model: a folder holding tokenizer.json, or a .gguf file (default: $DSMOE_MODEL, else the shipped model)");
  app.add_option("--tokenizer", args->tokenizer_path, "a tokenizer.json file");
  app.add_option("-p,--prompt", args->prompt, "the text (default: read -f FILE or stdin)");
  app.add_option("-f,--file", args->file, "read the text (or ids) from this file");
  app.add_flag("--special", args->special, "add what the post-processor adds (BOS etc.), like add_special_tokens");
  app.add_flag("--jsonl", args->jsonl, "one case per line: JSON strings in, JSON arrays out (or back with --decode)");
  app.add_flag("--decode", args->decode, "ids in (a JSON array, or comma/space separated), text out");
  app.add_flag("--skip-special", args->skip_special, "with --decode: drop special tokens");
  app.add_flag("--timing", args->timing, "encode 5 times; print the first and best time and MB/s to stderr as JSON");
  return [args]() {
    if (args->model_dir.empty() && args->tokenizer_path.empty()) args->model_dir = default_model_dir();
    return run_tokenize(*args);
  };
}

}  // namespace dsmoe::cli
