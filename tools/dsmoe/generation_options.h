// Options shared by `dsmoe run` and `dsmoe chat`: the model, the context and the sampler, spelled
// as llama.cpp spells them.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsmoe/dsmoe.h"
#include "rope_options.h"
#include "dsmoe/generator.h"
#include "dsmoe/prompt.h"
#include "dsmoe/sampler.h"
#include "dsmoe/tokenizer.h"

namespace dsmoe::cli {

struct GenerationOptions {
  std::string model_dir;
  int64_t max_new_tokens = 256;
  int64_t context = 0;  // 0: max_position_embeddings
  int64_t seed = -1;    // < 0: a random seed, printed
  std::vector<std::string> stop_strings;
  bool ignore_eos = false;
  bool escape = false;  // -e: read backslash escapes in the prompt
  bool quiet = false;   // --log-disable: nothing on stderr but warnings and errors
  SamplingParams sampling;
  RopeOptions rope;
};

void add_generation_options(CLI::App& app, GenerationOptions& options);

// Everything a generation needs, loaded from options.model_dir.
struct LoadedModel {
  std::unique_ptr<Model> model;
  const Tokenizer* tokenizer = nullptr;  // owned by the model
  std::vector<int32_t> end_tokens;  // eos from the tokenizer, config.json and generation_config.json
  int64_t context = 0;
};

// Without -m: $DSMOE_MODEL, else the shipped default model (models/<DSMOE_DEFAULT_MODEL_NAME>).
LoadedModel load_for_generation(GenerationOptions& options);
std::string default_model_dir();  // the same fallback for the commands that do not generate

// The model (with the --rope-* overrides) and its tokenizer, checked to agree on the vocabulary: what every
// command that runs text through the model loads. An empty model_dir becomes default_model_dir().
struct ModelAndTokenizer {
  std::unique_ptr<Model> model;
  const Tokenizer* tokenizer = nullptr;  // owned by the model
};
// Loading shows a notice on a terminal when it takes more than a second, unless quiet.
ModelAndTokenizer load_model_and_tokenizer(std::string& model_dir, const RopeOptions& rope, bool quiet = false);
int64_t resident_bytes();  // this process's resident memory (VmRSS), 0 when unknown
// BOS from the tokenizer, else config.json's bos_token_id.
std::optional<int32_t> bos_token(const ModelAndTokenizer& loaded);

// -e: \n, \r, \t, \\, \", \' and \xHH as the characters they stand for; any other backslash is kept.
std::string process_escapes(std::string_view text);

// generation_config.json's sampling values (HF's generate() takes its defaults from it) for every flag not given;
// called by load_for_generation.
void apply_generation_config(GenerationOptions& options, const nlohmann::json& generation_config);

// -v: parameters, the KV cache's size and type, threads.
void report_generation_setup(const GenerationOptions& options, const Model& model, const Generator& generator);
Sampler make_sampler(GenerationOptions& options);  // resolves a random seed and reports it on stderr
void print_speed(const GenerationStats& stats, const GenerationOptions& options);  // stderr, unless quiet

}  // namespace dsmoe::cli
