// dsmoe passkey: greedy passkey retrieval at a chosen context and needle depths, in the document format the
// shipped model was trained on (include/dsmoe/passkey.h; docs/perplexity-passkey.md).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "dsmoe/error.h"
#include "generation_options.h"
#include "passkey_filler_text.h"
#include "rope_options.h"
#include "dsmoe/passkey.h"
#include "dsmoe/tokenizer.h"
#include "flag_checks.h"

namespace dsmoe::cli {

// Defined in generation_options.cpp (not in its header yet): -m's default, $DSMOE_MODEL or the shipped model.

namespace {

constexpr const char* kPasskeyDescription = R"(Passkey retrieval: can the model read back a 5-digit key hidden in filler?

Each trial draws a key in [10000, 99999] and filler sentences (tools/train/passkey_filler.txt, the
training data's), then builds one document per depth: BOS, the filler with
" The pass key is KEY. Remember it." after round(depth x sentences) of them, then
" What is the pass key? The pass key is" (corpus.py's format, first leading space dropped).
Filler is added while a sentence fits: prompt + answer (the tokens of " KEY") is at most --ctx and
as close to it as whole sentences allow. The model answers greedily from its KV cache as many
tokens as " KEY" has; a document counts when they are exactly those tokens.
Deterministic for a given --seed (SplitMix64; a trial's documents do not depend on other trials).

--json keys: model, ctx, train_ctx, seed, trials, depths, per_depth [{depth, correct, total,
accuracy}], correct, total, accuracy, prompt_tokens_min, prompt_tokens_max, seconds, documents
[{trial, depth, key, answer, correct, prompt_tokens, filler_sentences, sentences_before, needle_token}].)";

struct PasskeyArgs {
  std::string model_dir;
  int64_t context = 0;  // 0: max_position_embeddings
  std::vector<double> depths = {0, 0.25, 0.5, 0.75, 1};
  int64_t trials = 10;
  uint64_t seed = 1;
  std::string filler_path;
  std::string dump_path;  // JSON lines: every document whole
  bool json = false;
  RopeOptions rope;
  CLI::App* app = nullptr;
};

void check_flags(const PasskeyArgs& a) {
  if (a.app->count("--ctx") > 0 && a.context < 2) fail("passkey: --ctx ", a.context, " must be at least 2");
  if (a.depths.empty()) fail("passkey: --depths needs at least one depth");
}

std::vector<std::string> embedded_filler() {
  return parse_passkey_filler(kPasskeyFillerText);
}

struct Tally {
  int64_t correct = 0, total = 0;
};

int run_passkey(PasskeyArgs& a) {
  check_flags(a);
  const auto filler = a.filler_path.empty() ? embedded_filler() : read_passkey_filler(a.filler_path);
  const ModelAndTokenizer loaded = load_model_and_tokenizer(a.model_dir, a.rope);
  const auto& model = loaded.model;
  const auto& tokenizer = loaded.tokenizer;
  const ModelInfo config = model->info();
  const int64_t context = a.context > 0 ? a.context : config.max_position_embeddings;
  report_rope(*model, context, a.rope);
  const PasskeyBuilder builder(*tokenizer, filler, bos_token(loaded));
  if (context > config.max_position_embeddings) {
    std::cerr << "note: --ctx " << context << " exceeds max_position_embeddings " << config.max_position_embeddings
              << "\n";
  }

  std::ofstream dump;
  if (!a.dump_path.empty()) {
    dump.open(a.dump_path);
    if (!dump) fail("passkey: --dump ", a.dump_path, ": cannot create");
  }
  Session session(*model, 1, context);
  std::map<double, Tally> per_depth;
  Tally overall;
  int64_t shortest = INT64_MAX, longest = 0;
  nlohmann::json documents = nlohmann::json::array();
  const auto start = std::chrono::steady_clock::now();
  for (int64_t trial = 0; trial < a.trials; ++trial) {
    std::vector<PasskeyDocument> docs;
    try {
      docs = builder.trial(a.seed, trial, context, a.depths);
    } catch (const Error& e) {
      const std::string why = e.what();
      fail("passkey: --ctx ", context, " is too small: ", why.rfind("passkey: ", 0) == 0 ? why.substr(9) : why);
    }
    for (const auto& doc : docs) {
      const auto answer = greedy_continuation(session, doc.prompt, int64_t(doc.answer.size()));
      const bool correct = answer == doc.answer;
      Tally& t = per_depth[doc.depth];
      t.correct += correct;
      ++t.total;
      overall.correct += correct;
      ++overall.total;
      if (dump.is_open()) {
        dump << nlohmann::json{{"trial", trial},       {"depth", doc.depth},   {"key", doc.key},
                               {"text", doc.text},     {"prompt", doc.prompt}, {"answer", doc.answer},
                               {"filler", doc.filler}, {"sentences_before", doc.sentences_before},
                               {"needle_token", doc.needle_token}, {"generated", answer}, {"correct", correct}}
                    .dump()
             << "\n";
      }
      shortest = std::min(shortest, int64_t(doc.prompt.size()));
      longest = std::max(longest, int64_t(doc.prompt.size()));
      documents.push_back({{"trial", trial},
                           {"depth", doc.depth},
                           {"key", doc.key},
                           {"answer", tokenizer->decode(answer, /*skip_special_tokens=*/false)},
                           {"correct", correct},
                           {"prompt_tokens", doc.prompt.size()},
                           {"filler_sentences", doc.filler_sentences},
                           {"sentences_before", doc.sentences_before},
                           {"needle_token", doc.needle_token}});
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto accuracy = [](const Tally& t) { return double(t.correct) / double(t.total); };

  if (a.json) {
    nlohmann::json depths = nlohmann::json::array();
    for (const auto& [depth, t] : per_depth) {
      depths.push_back({{"depth", depth}, {"correct", t.correct}, {"total", t.total}, {"accuracy", accuracy(t)}});
    }
    const nlohmann::json out = {{"model", a.model_dir},        {"ctx", context},
                                {"train_ctx", config.max_position_embeddings},
                                {"seed", a.seed},              {"trials", a.trials},
                                {"depths", a.depths},          {"per_depth", depths},
                                {"correct", overall.correct},  {"total", overall.total},
                                {"accuracy", accuracy(overall)}, {"prompt_tokens_min", shortest},
                                {"prompt_tokens_max", longest}, {"seconds", seconds},
                                {"documents", documents}};
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::cout << "passkey: --ctx " << context << " (trained " << config.max_position_embeddings << "), " << a.trials
            << " trials x " << a.depths.size() << " depths, seed " << a.seed << ", prompts of " << shortest << "-"
            << longest << " tokens\n";
  std::cout.precision(3);
  for (const auto& [depth, t] : per_depth) {
    std::cout << "  depth " << depth << ": " << t.correct << "/" << t.total << " = " << 100 * accuracy(t) << "%\n";
  }
  std::cout << "overall: " << overall.correct << "/" << overall.total << " = " << 100 * accuracy(overall) << "% in "
            << seconds << " s\n";
  return 0;
}

}  // namespace

Handler add_passkey_command(CLI::App& app) {
  auto args = std::make_shared<PasskeyArgs>();
  args->app = &app;
  app.description(kPasskeyDescription);
  app.add_option("-m,--model", args->model_dir, "model directory (default: $DSMOE_MODEL, else the shipped model)");
  app.add_option("-c,--ctx-size,--ctx", args->context, "tokens per document, answer included (default: max_position_embeddings)")
      ->check(token_count());
  app.add_option("--depths", args->depths, "needle depths: fractions of the filler before the key, in [0, 1], comma-separated")
      ->delimiter(',')
      ->check(number_in(0, 1))
      ->capture_default_str();
  app.add_option("--trials", args->trials, "documents per depth (one key and filler per trial)")
      ->capture_default_str()
      ->check(integer_in(1, 1000000));
  app.add_option("-s,--seed", args->seed, "seed of the keys and the filler")->capture_default_str()->check(integer_in(0, kNoLimit));
  app.add_option("--filler", args->filler_path, "filler sentences, one a line (default: tools/train/passkey_filler.txt, built in)");
  app.add_option("--dump", args->dump_path,
                 "write every document as a JSON line: trial, depth, key, text, prompt and answer ids, filler "
                 "(sentence indices), sentences_before, needle_token, generated, correct");
  app.add_flag("--json", args->json, "one JSON object on stdout (keys above)");
  args->rope.cache_type = "f32";  // a measurement: HF's float32 computation unless asked otherwise
  add_rope_options(app, args->rope);
  return [args] { return run_passkey(*args); };
}

}  // namespace dsmoe::cli
