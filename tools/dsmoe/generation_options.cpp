#include "generation_options.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <cctype>
#include <cmath>

#include "dsmoe/error.h"
#include "dsmoe/number_format.h"
#include "dsmoe/prompt.h"
#include "flag_checks.h"
#include "wait_notice.h"

namespace dsmoe::cli {

void add_generation_options(CLI::App& app, GenerationOptions& o) {
  app.add_option(
      "-m,--model", o.model_dir,
      "model: an HF folder (config.json, safetensors, tokenizer.json) or a .gguf file; default: $DSMOE_MODEL, else the "
      "shipped " DSMOE_DEFAULT_MODEL_NAME);
  app.add_option("-n,--n-predict", o.max_new_tokens, "tokens to generate (-1: until the end token or a full context)")
      ->check(integer_in(-1, kMaxTokens));
  app.add_option("-c,--ctx-size,--ctx", o.context, "context length in tokens (default: max_position_embeddings)")
      ->check(token_count());
  app.add_option("--temp", o.sampling.temperature, "temperature; 0 is greedy")
      ->check(number_in(0, std::numeric_limits<double>::infinity()));
  app.add_option("--top-k", o.sampling.top_k, "keep the k most likely tokens (0: off)")
      ->check(integer_in(0, kNoLimit));
  app.add_option("--top-p", o.sampling.top_p, "keep the smallest set with this much probability (1: off)")
      ->check(number_in(0, 1));
  app.add_option("--min-p", o.sampling.min_p, "drop tokens below min_p x the top probability (0: off)")
      ->check(number_in(0, 1));
  app.add_option("--repeat-penalty", o.sampling.repeat_penalty, "penalise the last --repeat-last-n tokens (1: off)")
      ->check(number_in(0, std::numeric_limits<double>::infinity(), Bound::kOpen));
  app.add_option("--presence-penalty", o.sampling.presence_penalty,
                 "subtract this from the logit of every token in the window (0: off)")
      ->check(number_in(-2, 2));
  app.add_option("--frequency-penalty", o.sampling.frequency_penalty,
                 "subtract this times its count in the window from a token's logit (0: off)")
      ->check(number_in(-2, 2));
  app.add_option("--repeat-last-n", o.sampling.repeat_last_n,
                 "tokens the penalties look back over (-1: the whole context, 0: none)")
      ->check(integer_in(-1, kMaxTokens));
  app.add_flag("--log-disable,--quiet", o.quiet, "print nothing on stderr but warnings and errors (no seed, no speed)");
  app.add_flag("--ignore-eos", o.ignore_eos, "never stop at the end token: it is suppressed, as in llama.cpp");
  app.add_flag("-e,--escape", o.escape,
               "read \\n, \\r, \\t, \\\\, \\\", \\' and \\xHH in the prompt as the characters they stand for");
  app.add_option("-s,--seed", o.seed, "random seed (default: random, printed)")
      ->check(integer_in(-1, kNoLimit));
  app.add_option("--stop", o.stop_strings, "stop when this text is generated (repeatable)");
  add_rope_options(app, o.rope);
}

std::string default_model_dir() {
  if (const char* env = std::getenv("DSMOE_MODEL"); env != nullptr && *env != '\0') return env;
  // The model the repository ships, found from the source tree this binary was built from.
  const std::filesystem::path shipped = std::filesystem::path(DSMOE_SOURCE_DIR) / "models" / DSMOE_DEFAULT_MODEL_NAME;
  if (std::filesystem::is_directory(shipped)) return shipped.string();
  fail("no model given: pass -m DIR or set DSMOE_MODEL (the shipped model was expected at ", shipped.string(), ")");
}

ModelAndTokenizer load_model_and_tokenizer(std::string& model_dir, const RopeOptions& rope, bool quiet) {
  if (model_dir.empty()) model_dir = default_model_dir();
  ModelAndTokenizer loaded;
  {
    WaitNotice notice("loading " + model_dir, !quiet);
    loaded.model = Model::load(model_dir, rope.load_options());
  }
  loaded.tokenizer = loaded.model->tokenizer();
  if (loaded.tokenizer == nullptr)
    fail(model_dir, ": the model has no tokenizer (tokenizer.json, or tokenizer.ggml.* in a GGUF)");
  if (rope.verbose) {
    std::cerr << "model: " << model_dir << " (" << loaded.model->description() << "), loaded in "
              << loaded.model->load_seconds() << " s, resident memory " << (resident_bytes() >> 20) << " MiB\n";
  }
  const ModelInfo info = loaded.model->info();
  if (loaded.tokenizer->vocab_size() > info.vocab_size) {
    fail(model_dir, ": tokenizer has ", loaded.tokenizer->vocab_size(), " tokens but the model only ",
         info.vocab_size);
  }
  return loaded;
}

int64_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // "VmRSS:  1234 kB"
  }
  return 0;
}

std::optional<int32_t> bos_token(const ModelAndTokenizer& loaded) {
  if (auto bos = loaded.tokenizer->bos_id()) return bos;
  if (const auto id = loaded.model->info().bos_token_id) return int32_t(*id);
  return std::nullopt;
}

LoadedModel load_for_generation(GenerationOptions& o) {
  LoadedModel loaded;
  ModelAndTokenizer pair = load_model_and_tokenizer(o.model_dir, o.rope, o.quiet);
  loaded.model = std::move(pair.model);
  loaded.tokenizer = std::move(pair.tokenizer);
  const ModelInfo info = loaded.model->info();
  loaded.end_tokens = end_tokens(*loaded.model);
  apply_generation_config(o, loaded.model->generation_config());
  if (o.ignore_eos) {
    o.sampling.suppress_tokens.insert(o.sampling.suppress_tokens.end(), loaded.end_tokens.begin(),
                                      loaded.end_tokens.end());
    loaded.end_tokens.clear();
  }
  loaded.context = o.context > 0 ? o.context : info.max_position_embeddings;
  const int64_t trained = info.trained_context;
  if (loaded.context > trained && info.rope_scaling == "none") {
    std::cerr << "dsmoe: warning: a context of " << loaded.context << " tokens is past the " << trained
              << " the model was trained on, without RoPE scaling: expect it to degrade past " << trained
              << " (--rope-scaling yarn --rope-scale " << (loaded.context + trained - 1) / trained
              << " stretches it)\n";
  }
  report_rope(*loaded.model, loaded.context, o.rope);
  return loaded;
}

void apply_generation_config(GenerationOptions& o, const nlohmann::json& gc) {
  if (!gc.is_object() || gc.empty()) return;
  const char* source = "generation_config.json";
  auto given = [&](const char* flag) { return o.rope.app != nullptr && o.rope.app->count(flag) > 0; };
  auto number = [&](const char* key, double fallback, double lo, double hi) {
    if (!gc.contains(key) || gc[key].is_null()) return fallback;
    const nlohmann::json& v = gc[key];
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < lo || v.get<double>() > hi) {
      fail(source, ": '", key, "' must be a number in [", lo, ", ", hi, "], found ", v.dump());
    }
    return v.get<double>();
  };
  // HF's GenerationConfig defaults stand for the keys the file leaves out (temperature 1, top_k 50, top_p 1).
  const bool sample = gc.contains("do_sample") && gc["do_sample"].is_boolean() && gc["do_sample"].get<bool>();
  if (!given("--temp")) o.sampling.temperature = sample ? float(number("temperature", 1.0, 0, 1e6)) : 0.0f;
  if (!given("--top-k")) o.sampling.top_k = int64_t(number("top_k", 50, 0, 1e9));
  if (!given("--top-p")) o.sampling.top_p = float(number("top_p", 1.0, 0, 1));
  if (!given("--min-p")) o.sampling.min_p = float(number("min_p", 0.0, 0, 1));
  if (!given("--repeat-penalty")) {
    o.sampling.repeat_penalty = float(number("repetition_penalty", 1.0, 1e-6, 1e6));
    // HF penalises every earlier token of the sequence, not a window.
    if (!given("--repeat-last-n")) o.sampling.repeat_last_n = -1;
  }
  if (!given("--n-predict") && gc.contains("max_new_tokens") && !gc["max_new_tokens"].is_null()) {
    o.max_new_tokens = int64_t(number("max_new_tokens", 0, 0, double(kMaxTokens)));
  }
  if (gc.contains("suppress_tokens") && gc["suppress_tokens"].is_array()) {
    for (const auto& id : gc["suppress_tokens"]) {
      if (!id.is_number_integer()) fail(source, ": 'suppress_tokens' holds ", id.dump(), ", not a token id");
      o.sampling.suppress_tokens.push_back(int32_t(id.get<int64_t>()));
    }
  }
  if (o.rope.verbose) {
    std::cerr << "sampling: " << (sample ? "do_sample" : "greedy (do_sample is false)") << " from " << source
              << " where no flag says otherwise: temperature " << o.sampling.temperature << ", top_k "
              << o.sampling.top_k << ", top_p " << o.sampling.top_p << ", min_p " << o.sampling.min_p
              << ", repetition_penalty " << o.sampling.repeat_penalty << ", max_new_tokens " << o.max_new_tokens
              << "\n";
  }
}

std::string process_escapes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char c = text[++i];
    switch (c) {
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case '\'': out += '\''; break;
      case 'x': {
        auto hex = [&](size_t at) { return at < text.size() && std::isxdigit(static_cast<unsigned char>(text[at])); };
        if (hex(i + 1) && hex(i + 2)) {
          out += char(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
          i += 2;
        } else {
          out += "\\x";  // not an escape: kept as typed
        }
        break;
      }
      default:  // an unknown escape is kept as typed, as llama.cpp keeps it
        out += '\\';
        out += c;
    }
  }
  return out;
}

void report_generation_setup(const GenerationOptions& o, const Model& model, const Generator& generator) {
  if (!o.rope.verbose) return;
  const ModelInfo info = model.info();
  std::cerr << "model: " << info.model_type << ", " << with_commas(info.parameters) << " parameters, "
            << with_commas(info.active_parameters) << " active per token; KV cache "
            << human_bytes(int64_t(generator.session().cache_bytes())) << " ("
            << cache_type_name(generator.session().cache_type()) << ", " << generator.context()
            << " positions); threads " << num_threads() << "\n";
}

Sampler make_sampler(GenerationOptions& o) {
  if (o.seed < 0) {
    o.seed = int64_t(std::random_device{}() & 0x7fffffff);
    if (!o.quiet) std::cerr << "seed " << o.seed << "\n";
  }
  o.sampling.seed = uint64_t(o.seed);
  return Sampler(o.sampling);
}

void print_speed(const GenerationStats& s, const GenerationOptions& o) {
  if (o.quiet) return;
  const double decode_tps = s.decode_seconds > 0 ? double(s.generated_tokens) / s.decode_seconds : 0;
  std::cerr << "\nprompt " << s.prompt_tokens << " tokens";
  if (s.reused_tokens > 0) std::cerr << " (+" << s.reused_tokens << " cached)";
  std::cerr << " in " << s.prefill_seconds * 1e3 << " ms ("
            << (s.prefill_seconds > 0 ? double(s.prompt_tokens) / s.prefill_seconds : 0) << " tokens/s) | generated "
            << s.generated_tokens << " tokens in " << s.decode_seconds * 1e3 << " ms ("
            << (s.generated_tokens > 0 ? s.decode_seconds * 1e3 / double(s.generated_tokens) : 0) << " ms/token, "
            << decode_tps << " tokens/s) | stop: " << stop_reason_text(s.reason) << "\n";
}

}  // namespace dsmoe::cli
