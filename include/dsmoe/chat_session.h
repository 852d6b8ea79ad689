// A conversation that survives: messages rendered with the model's chat template, generated through a Generator
// whose KV cache is kept across turns.
//
// Exact history. The tokens of a turn are the tokens the model was given and the tokens it generated, never a
// re-tokenization of the reply, and the next turn adds only the tokens of the text the template writes after the
// reply (llama.cpp's chat does the same), so each turn prefills only what is new. The stored message is the text
// generated, less one leading space when the template writes that space itself ("Assistant:" as the generation
// prompt, "Assistant: " + content in the history), so that a re-rendered conversation is the same text.
//
// Context shift. When the conversation and room for the reply no longer fit in the context, the oldest
// user/assistant turns are dropped (a leading system message is kept) and the conversation is rendered again;
// a message that cannot fit even alone is refused and the conversation goes on without it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dsmoe/generator.h"

namespace dsmoe {

class ChatTemplate;

struct ChatTurnOptions {
  int64_t max_new_tokens = -1;  // < 0: until the end token or a full context
  std::vector<std::string> stop_strings;
  const std::atomic<bool>* cancel = nullptr;  // see GenerationRequest::cancel
};

struct ChatTurn {
  bool refused = false;      // the message did not fit: nothing was generated, the history is unchanged
  std::string refusal;       // why, in words
  std::string reply;         // the text generated (stop strings removed)
  int64_t dropped_messages = 0;  // oldest messages dropped to make room before this turn
  GenerationStats stats;
};

class ChatSession {
 public:
  // The template, tokenizer and generator must outlive the session. end_tokens stop a reply.
  ChatSession(Generator& generator, const Tokenizer& tokenizer, const ChatTemplate& chat_template,
              nlohmann::json tokenizer_config, std::vector<int32_t> end_tokens);

  // Starts the conversation with a system message (kept through context shifts); "" for none.
  void set_system(const std::string& text);

  ChatTurn send(const std::string& user_text, const ChatTurnOptions& options, Sampler& sampler,
                const std::function<void(std::string_view)>& on_text);

  const nlohmann::json& messages() const { return messages_; }
  // Tokens kept free for the reply when older turns are dropped: min(max_new_tokens, context / 4).
  int64_t reply_reserve(int64_t max_new_tokens) const;

 private:
  std::string render(const nlohmann::json& messages, bool add_generation_prompt) const;
  // The tokens of `messages` with the generation prompt: the previous turn's tokens and the new text after it
  // when the render continues the previous one, else the whole render tokenized afresh. Sets `text`.
  std::vector<int32_t> turn_tokens(const nlohmann::json& messages, std::string& text) const;
  size_t first_droppable() const;  // index of the first message a context shift may drop
  // The assistant message to store for `reply` after a turn whose prompt text was `prompt_text`.
  std::string stored_reply(const std::string& prompt_text, const std::string& reply) const;

  Generator& generator_;
  const Tokenizer& tokenizer_;
  const ChatTemplate& template_;
  nlohmann::json tokenizer_config_;
  std::vector<int32_t> end_tokens_;
  nlohmann::json messages_ = nlohmann::json::array();
  // What the conversation so far is as text and as the tokens the model saw; empty text when they disagree.
  std::string text_;
  std::vector<int32_t> tokens_;
};

}  // namespace dsmoe
