#include "dsmoe/chat_session.h"

#include <algorithm>

#include "core/errors.h"
#include "dsmoe/chat_template.h"
#include "dsmoe/tokenizer.h"

namespace dsmoe {
namespace {

nlohmann::json message(const char* role, const std::string& content) {
  return {{"role", role}, {"content", content}};
}

}  // namespace

ChatSession::ChatSession(Generator& generator, const Tokenizer& tokenizer, const ChatTemplate& chat_template,
                         nlohmann::json tokenizer_config, std::vector<int32_t> end_tokens)
    : generator_(generator),
      tokenizer_(tokenizer),
      template_(chat_template),
      tokenizer_config_(std::move(tokenizer_config)),
      end_tokens_(std::move(end_tokens)) {}

void ChatSession::set_system(const std::string& text) {
  messages_ = nlohmann::json::array();
  text_.clear();
  tokens_.clear();
  if (!text.empty()) messages_.push_back(message("system", text));
}

int64_t ChatSession::reply_reserve(int64_t max_new_tokens) const {
  const int64_t quarter = generator_.context() / 4;
  return max_new_tokens < 0 ? quarter : std::min(max_new_tokens, quarter);
}

std::string ChatSession::render(const nlohmann::json& messages, bool add_generation_prompt) const {
  return template_.render(chat_template_context(tokenizer_config_, messages, add_generation_prompt));
}

std::vector<int32_t> ChatSession::turn_tokens(const nlohmann::json& messages, std::string& text) const {
  text = render(messages, /*add_generation_prompt=*/true);
  // The template writes the special tokens itself, as HF's apply_chat_template assumes.
  if (text_.empty() || !text.starts_with(text_)) return tokenizer_.encode(text, /*add_special_tokens=*/false);
  std::vector<int32_t> tokens = tokens_;
  const std::vector<int32_t> rest = tokenizer_.encode(std::string_view(text).substr(text_.size()), false);
  tokens.insert(tokens.end(), rest.begin(), rest.end());
  return tokens;
}

size_t ChatSession::first_droppable() const {
  return !messages_.empty() && messages_[0].value("role", "") == "system" ? 1 : 0;
}

std::string ChatSession::stored_reply(const std::string& prompt_text, const std::string& reply) const {
  const std::string generated = prompt_text + reply;
  std::vector<std::string> candidates = {reply};
  if (reply.starts_with(' ')) candidates.push_back(reply.substr(1));
  for (const std::string& candidate : candidates) {
    nlohmann::json messages = messages_;
    messages.push_back(message("assistant", candidate));
    if (render(messages, /*add_generation_prompt=*/false).starts_with(generated)) return candidate;
  }
  return reply;  // the template rewrites replies: the next turn re-tokenizes (the cache still keeps the prefix)
}

ChatTurn ChatSession::send(const std::string& user_text, const ChatTurnOptions& options, Sampler& sampler,
                           const std::function<void(std::string_view)>& on_text) {
  ChatTurn turn;
  const int64_t context = generator_.context();
  const int64_t reserve = reply_reserve(options.max_new_tokens);
  const int64_t budget = context - reserve;  // the most prompt tokens a turn may start with

  nlohmann::json messages = messages_;
  messages.push_back(message("user", user_text));
  std::string prompt_text;
  std::vector<int32_t> tokens = turn_tokens(messages, prompt_text);
  if (int64_t(tokens.size()) > budget) {
    const size_t keep = first_droppable();
    nlohmann::json alone(messages.begin(), messages.begin() + long(keep));
    alone.push_back(messages.back());
    const size_t alone_tokens = tokenizer_.encode(render(alone, true), false).size();
    if (int64_t(alone_tokens) > budget) {
      turn.refused = true;
      turn.refusal = cat("the message makes a prompt of ", alone_tokens, " tokens",
                         keep > 0 ? " with the system message" : "", ", but the context of ", context,
                         " tokens takes at most ", budget, " (", reserve, " are kept for the reply)");
      return turn;
    }
    // Drop whole turns, oldest first: everything up to the next user message.
    while (int64_t(tokens.size()) > budget) {
      size_t end = keep + 1;
      while (end + 1 < messages.size() && messages[end].value("role", "") != "user") ++end;
      turn.dropped_messages += int64_t(end - keep);
      messages.erase(messages.begin() + long(keep), messages.begin() + long(end));
      prompt_text = render(messages, true);
      tokens = tokenizer_.encode(prompt_text, false);
    }
  }

  GenerationRequest request;
  request.tokens = tokens;
  request.max_new_tokens = options.max_new_tokens;
  request.stop_strings = options.stop_strings;
  request.end_tokens = end_tokens_;
  request.cancel = options.cancel;
  turn.stats = generator_.generate(request, sampler, [&](std::string_view text) {
    turn.reply += text;
    on_text(text);
  });

  messages_ = std::move(messages);
  const std::string stored = stored_reply(prompt_text, turn.reply);
  messages_.push_back(message("assistant", stored));
  tokens_ = std::move(tokens);
  if (turn.stats.reason == StopReason::kStopString) {
    // The generated tokens run into the stop string, which the reply leaves out: keep only the prompt's.
    text_ = prompt_text;
  } else {
    text_ = prompt_text + turn.reply;
    auto generated_end = turn.stats.generated.end();
    if (turn.stats.reason == StopReason::kEndOfSequence) --generated_end;  // the template writes its own end
    tokens_.insert(tokens_.end(), turn.stats.generated.begin(), generated_end);
  }
  return turn;
}

}  // namespace dsmoe
