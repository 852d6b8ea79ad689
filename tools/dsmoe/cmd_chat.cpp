// dsmoe chat: an interactive conversation rendered with the model's own chat template (runtime/chat_session.h:
// exact history, context shift, refusal of a message that cannot fit). On a terminal, lines are read with libedit
// (editing and history), and Ctrl-C stops the reply being written; a Ctrl-C at the prompt, or Ctrl-D, leaves.
#include <editline/readline.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "dsmoe/error.h"
#include "dsmoe/text_file.h"
#include "generation_options.h"
#include "dsmoe/chat_session.h"
#include "timings.h"
#include "dsmoe/chat_template.h"
#include "dsmoe/model_metadata.h"
#include "wait_notice.h"

namespace dsmoe::cli {
namespace {

struct ChatArgs {
  GenerationOptions generation;
  std::string system;
  std::string chat_template;  // a file, or the Jinja source itself
};

// Set by SIGINT while a reply is being written; read by the generator before each token.
std::atomic<bool> g_cancel_reply{false};
std::atomic<bool> g_replying{false};

extern "C" void on_interrupt(int /*signal*/) {
  if (g_replying.load() && !g_cancel_reply.load()) {
    g_cancel_reply.store(true);
    return;
  }
  // At the prompt, or a second Ctrl-C while the reply has not stopped yet: leave as a shell expects.
  // (libedit has put the terminal back in its normal mode before it passes the signal on.)
  const char newline = '\n';
  [[maybe_unused]] const ssize_t written = write(STDOUT_FILENO, &newline, 1);
  _exit(130);
}

void install_interrupt_handler() {
  struct sigaction action = {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
}

// One line of input without its newline; false at the end of input. Empty lines are returned too.
class LineReader {
 public:
  LineReader() : terminal_(isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0) {}
  bool terminal() const { return terminal_; }

  bool read(std::string& line) {
    if (!terminal_) return static_cast<bool>(std::getline(std::cin, line));
    char* text = readline("> ");
    if (text == nullptr) return false;
    line = text;
    std::free(text);  // NOLINT: readline's buffer comes from malloc
    if (!line.empty()) add_history(line.c_str());
    return true;
  }

 private:
  bool terminal_;
};

std::string template_source(const ChatArgs& args, const Tokenizer& tokenizer, const std::string& model_dir) {
  if (!args.chat_template.empty()) {
    if (std::filesystem::exists(args.chat_template)) return read_text_file(args.chat_template);
    if (args.chat_template.find("{{") != std::string::npos || args.chat_template.find("{%") != std::string::npos) {
      return args.chat_template;
    }
    fail("--chat-template: no such file: ", args.chat_template);
  }
  const auto source = find_chat_template(model_dir, tokenizer.config_json());
  if (!source) fail(model_dir, ": the model has no chat template (give one with --chat-template FILE)");
  return *source;
}

void report_turn(const ChatTurn& turn, const GenerationOptions& options, int64_t context) {
  switch (turn.stats.reason) {
    case StopReason::kCancelled:
      std::cerr << "dsmoe: reply stopped (Ctrl-C); Ctrl-C again or Ctrl-D leaves\n";
      break;
    case StopReason::kContextFull:
      std::cerr << "dsmoe: the reply filled the context of " << context
                << " tokens; the oldest turns make room for the next message\n";
      break;
    default:
      break;
  }
  print_speed(turn.stats, options);
}

int run_chat(ChatArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  LoadedModel loaded = load_for_generation(args.generation);
  const ChatTemplate chat_template(template_source(args, *loaded.tokenizer, args.generation.model_dir));
  Sampler sampler = make_sampler(args.generation);
  Generator generator(*loaded.model, *loaded.tokenizer, loaded.context);
  report_generation_setup(args.generation, *loaded.model, generator);
  ChatSession chat(generator, *loaded.tokenizer, chat_template, loaded.tokenizer->config_json(), loaded.end_tokens);
  chat.set_system(args.system);

  ChatTurnOptions turn_options;
  turn_options.max_new_tokens = args.generation.max_new_tokens;
  turn_options.stop_strings = args.generation.stop_strings;
  turn_options.cancel = &g_cancel_reply;

  LineReader input;
  if (input.terminal()) {
    install_interrupt_handler();
    if (!args.generation.quiet) std::cerr << "dsmoe chat: type a message; Ctrl-C stops a reply, Ctrl-D leaves.\n";
  }
  Timings timings;
  timings.load_seconds = loaded.model->load_seconds();
  std::string line;
  while (true) {
    // Ctrl-C counts as "stop the reply" until the turn's report is written, so one that lands just as a reply
    // ends is absorbed instead of leaving the chat; from the prompt on, it leaves.
    g_replying.store(false);
    if (!input.read(line)) break;
    if (line.empty()) continue;
    if (args.generation.escape) line = process_escapes(line);
    g_cancel_reply.store(false);
    g_replying.store(true);
    WaitNotice prefill_notice("prompt", !args.generation.quiet);
    const ChatTurn turn = chat.send(line, turn_options, sampler, [&](std::string_view text) {
      prefill_notice.stop();
      std::cout << text << std::flush;
    });
    prefill_notice.stop();
    timings.add(turn.stats);
    if (turn.refused) {
      std::cerr << "dsmoe: message not sent: " << turn.refusal << "\n";
      continue;
    }
    std::cout << "\n" << std::flush;
    if (turn.dropped_messages > 0 && !args.generation.quiet) {
      std::cerr << "dsmoe: the context was full: the " << turn.dropped_messages
                << " oldest messages were dropped to make room (a system message is kept)\n";
    }
    report_turn(turn, args.generation, loaded.context);
  }
  if (input.terminal()) std::cout << "\n" << std::flush;  // Ctrl-D leaves the shell's prompt on a line of its own
  if (!args.generation.quiet) {
    timings.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    print_timings(timings, std::cerr);
  }
  return 0;
}

}  // namespace

Handler add_chat_command(CLI::App& app) {
  auto args = std::make_shared<ChatArgs>();
  add_generation_options(app, args->generation);
  app.add_option("--system", args->system, "a system message to start the conversation (kept when the context fills)");
  app.add_option("--chat-template", args->chat_template,
                 "a Jinja chat template to use in place of the model's: a file, or the template itself");
  return [args] { return run_chat(*args); };
}

}  // namespace dsmoe::cli
