// dsmoe perplexity: exp(mean NLL) of a text file, by windows (llama-perplexity) or by a sliding window with
// --stride (the HF perplexity guide). The windowing is spelled out in the help text below and in
// docs/perplexity-passkey.md; the arithmetic lives in src/runtime/perplexity.
#include <cmath>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "dsmoe/error.h"
#include "dsmoe/text_file.h"
#include "generation_options.h"
#include "dsmoe/npy.h"
#include "rope_options.h"
#include "dsmoe/perplexity.h"
#include "dsmoe/tokenizer.h"
#include "flag_checks.h"

namespace dsmoe::cli {

// Defined in generation_options.cpp (not in its header yet): -m's default, $DSMOE_MODEL or the shipped model.

namespace {

constexpr const char* kPerplexityDescription = R"(Perplexity of a text file: exp(mean NLL) over its tokens.

The file is tokenized once, without special tokens. Every window holds --ctx tokens: BOS (when the
tokenizer or config.json has one, unless --no-bos), then --ctx - 1 text tokens.
  default:       windows do not overlap; every token after BOS is scored (with BOS: every text token
                 once). The last window may be shorter.
  --stride S:    windows advance by S text tokens (1 <= S <= --ctx - 1); each scores only its tokens
                 that no earlier window scored: its last S, or fewer in the last window, and the first
                 window all of its own. Every text token is scored exactly once (HF's sliding window).
A token's NLL is -log softmax(logits)[token] in double, the logits taken at the position before it.
The report splits the NLL by that predicting position: < L (the training context,
max_position_embeddings unless --train-ctx) and >= L; 'n/a' when a side has no token.
perplexity_se = perplexity * sd(NLL) / sqrt(n) (the delta method, as llama-perplexity).

--json keys: file, model, ctx, stride (null without), batch, bos, train_ctx, text_tokens, tokens,
windows, nll_mean, nll_sd, perplexity, perplexity_se, tokens_before_train_ctx, nll_before_train_ctx,
tokens_after_train_ctx, nll_after_train_ctx, forward_passes, forwarded_tokens, seconds,
tokens_per_second (forwarded positions / seconds), scored_tokens_per_second. NaN is null.)";

struct PerplexityArgs {
  std::string model_dir;
  std::string file;
  int64_t context = 0;  // 0: max_position_embeddings
  int64_t stride = 0;
  int64_t batch = 1;
  int64_t train_context = 0;  // 0: max_position_embeddings
  bool no_bos = false;
  bool json = false;
  std::string nll_out;
  RopeOptions rope;
  CLI::App* app = nullptr;
};

bool given(const PerplexityArgs& a, const char* flag) { return a.app->count(flag) > 0; }

// Flags that can be judged before the model is loaded.
void check_flags(const PerplexityArgs& a) {
  if (given(a, "--ctx") && a.context < 2) {
    fail("perplexity: --ctx ", a.context, " must be at least 2 (BOS and one token to score)");
  }
  if (given(a, "--stride") && a.stride < 1) fail("perplexity: --stride ", a.stride, " must be at least 1");
  if (given(a, "--train-ctx") && a.train_context < 1) {
    fail("perplexity: --train-ctx ", a.train_context, " must be at least 1");
  }
}

std::string read_text(const std::string& path) {
  return read_text_file(path, "perplexity: -f ");
}

nlohmann::json number_or_null(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

std::string nll_text(int64_t tokens, double nll) {
  if (tokens == 0) return "n/a (no tokens)";
  return cat(tokens, " tokens, mean NLL ", nll);
}

void print_text(const PerplexityArgs& a, const PerplexityOptions& o, const PerplexityResult& r) {
  std::cout.precision(6);
  std::cout << "perplexity: " << r.perplexity << " +/- "
            << (std::isfinite(r.perplexity_se) ? cat(r.perplexity_se) : std::string("n/a")) << " (mean NLL "
            << r.nll_mean << " nats over " << r.tokens << " tokens)\n";
  std::cout << "  predicted from positions <  " << o.train_context << ": "
            << nll_text(r.tokens_before, r.nll_before) << "\n";
  std::cout << "  predicted from positions >= " << o.train_context << ": " << nll_text(r.tokens_after, r.nll_after)
            << "\n";
  std::cout << "windows: " << r.windows << " of up to " << o.context << " tokens ("
            << (o.bos ? "BOS + " : "no BOS, ") << o.context - (o.bos ? 1 : 0) << " text tokens), "
            << (o.stride > 0 ? cat("stride ", o.stride) : std::string("no overlap")) << ", batch " << a.batch << "\n";
  std::cout << "speed: " << r.forwarded_tokens << " positions in " << r.seconds << " s: "
            << double(r.forwarded_tokens) / r.seconds << " tokens/s forwarded, " << double(r.tokens) / r.seconds
            << " scored tokens/s\n";
}

nlohmann::json result_json(const PerplexityArgs& a, const PerplexityOptions& o, const PerplexityResult& r,
                           size_t text_tokens) {
  return {{"file", a.file},
          {"model", a.model_dir},
          {"ctx", o.context},
          {"stride", o.stride > 0 ? nlohmann::json(o.stride) : nlohmann::json(nullptr)},
          {"batch", a.batch},
          {"bos", o.bos.has_value()},
          {"train_ctx", o.train_context},
          {"text_tokens", text_tokens},
          {"tokens", r.tokens},
          {"windows", r.windows},
          {"nll_mean", number_or_null(r.nll_mean)},
          {"nll_sd", number_or_null(r.nll_sd)},
          {"perplexity", number_or_null(r.perplexity)},
          {"perplexity_se", number_or_null(r.perplexity_se)},
          {"tokens_before_train_ctx", r.tokens_before},
          {"nll_before_train_ctx", number_or_null(r.nll_before)},
          {"tokens_after_train_ctx", r.tokens_after},
          {"nll_after_train_ctx", number_or_null(r.nll_after)},
          {"forward_passes", r.forward_passes},
          {"forwarded_tokens", r.forwarded_tokens},
          {"seconds", r.seconds},
          {"tokens_per_second", double(r.forwarded_tokens) / r.seconds},
          {"scored_tokens_per_second", double(r.tokens) / r.seconds}};
}

int run_perplexity(PerplexityArgs& a) {
  check_flags(a);
  const std::string text = read_text(a.file);
  const ModelAndTokenizer loaded = load_model_and_tokenizer(a.model_dir, a.rope);
  const auto& model = loaded.model;
  const auto& tokenizer = loaded.tokenizer;
  const ModelInfo config = model->info();

  PerplexityOptions o;
  o.context = given(a, "--ctx") ? a.context : config.max_position_embeddings;
  o.batch = a.batch;
  o.train_context = given(a, "--train-ctx") ? a.train_context : config.max_position_embeddings;
  if (!a.no_bos) o.bos = bos_token(loaded);
  const int64_t width = o.context - (o.bos ? 1 : 0);
  if (given(a, "--stride") && a.stride > width) {
    fail("perplexity: --stride ", a.stride, " exceeds the ", width, " text tokens of a --ctx ", o.context,
         " window (tokens would go unscored)");
  }
  o.stride = a.stride;
  report_rope(*model, o.context, a.rope);

  const std::vector<int32_t> tokens = tokenizer->encode(text, /*add_special_tokens=*/false);
  if (tokens.empty()) fail("perplexity: -f ", a.file, " holds no text tokens (empty text)");
  if (tokens.size() < 2 && !o.bos) fail("perplexity: -f ", a.file, ": one token and no BOS leave nothing to score");
  if (o.context > config.max_position_embeddings) {
    std::cerr << "note: --ctx " << o.context << " exceeds max_position_embeddings " << config.max_position_embeddings
              << "\n";
  }
  const PerplexityResult r = evaluate_perplexity(*model, tokens, o);
  if (!a.nll_out.empty()) {
    std::vector<float> nll(r.nll.begin(), r.nll.end());
    write_npy(a.nll_out, nll.data(), {int64_t(nll.size())});
  }
  if (a.json) {
    std::cout << result_json(a, o, r, tokens.size()).dump() << "\n";
  } else {
    print_text(a, o, r);
  }
  return 0;
}

}  // namespace

Handler add_perplexity_command(CLI::App& app) {
  auto args = std::make_shared<PerplexityArgs>();
  args->app = &app;
  app.description(kPerplexityDescription);
  app.add_option("-m,--model", args->model_dir, "model directory (default: $DSMOE_MODEL, else the shipped model)");
  app.add_option("-f,--file", args->file, "the text file to score")->required();
  app.add_option("-c,--ctx-size,--ctx", args->context, "tokens per window, BOS included (default: max_position_embeddings)")
      ->check(token_count());
  app.add_option("--stride", args->stride, "sliding window: advance by S text tokens, score only the new ones")
      ->check(token_count());
  app.add_option("-b,--batch", args->batch, "windows per forward pass (equal lengths; a short last window alone)")
      ->check(integer_in(1, 4096));
  app.add_option("--train-ctx", args->train_context,
                 "L for the before/after split of the NLL (default: max_position_embeddings)")
      ->check(token_count());
  app.add_flag("--no-bos", args->no_bos, "no BOS in front of the windows (then each window's first token is context)");
  app.add_flag("--json", args->json, "one JSON object on stdout (keys above)");
  app.add_option("--nll-out", args->nll_out, "write each text token's NLL as float32 .npy [text tokens], NaN if unscored");
  args->rope.cache_type = "f32";  // a measurement: HF's float32 computation unless asked otherwise
  add_rope_options(app, args->rope);
  return [args] { return run_perplexity(*args); };
}

}  // namespace dsmoe::cli
