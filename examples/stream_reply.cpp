// Loads a model, sends one message through its chat template and streams the reply: the C++ API end to end.
//   build/examples/stream_reply [MODEL] [MESSAGE]     (default: the shipped model, "In the beginning")
#include <dsmoe/chat_session.h>
#include <dsmoe/chat_template.h>
#include <dsmoe/dsmoe.h>
#include <dsmoe/generator.h>
#include <dsmoe/model_metadata.h>
#include <dsmoe/prompt.h>
#include <dsmoe/sampler.h>
#include <dsmoe/tokenizer.h>

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : DSMOE_SHIPPED_MODEL;
  const std::string message = argc > 2 ? argv[2] : "In the beginning";
  try {
    const auto model = dsmoe::Model::load(path);
    const dsmoe::Tokenizer& tokenizer = *model->tokenizer();
    const auto source = dsmoe::find_chat_template(path, tokenizer.config_json());
    if (!source) throw std::runtime_error(path + " has no chat template");
    const dsmoe::ChatTemplate chat_template(*source);

    dsmoe::Generator generator(*model, tokenizer, /*context=*/256);
    dsmoe::ChatSession chat(generator, tokenizer, chat_template, tokenizer.config_json(), dsmoe::end_tokens(*model));
    dsmoe::SamplingParams sampling;
    sampling.seed = 1;
    dsmoe::Sampler sampler(sampling);

    dsmoe::ChatTurnOptions options;
    options.max_new_tokens = 48;
    std::cout << "> " << message << "\n";
    const dsmoe::ChatTurn turn =
        chat.send(message, options, sampler, [](std::string_view text) { std::cout << text << std::flush; });
    std::cout << "\n[" << turn.stats.generated_tokens << " tokens, stop: " << dsmoe::stop_reason_text(turn.stats.reason)
              << "]\n";
  } catch (const std::exception& error) {
    std::cerr << "stream_reply: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
