/* The C API (include/dsmoe/dsmoe_c.h) from C: compiled as C11, so the header is checked to be plain C too.
 * Usage: check_c_api MODEL_DIR PROMPT
 * Checks what it can alone (round trips, errors, cancelling, the second chat turn reusing the cache) and prints
 * the greedy continuation of PROMPT on stdout, which tests/capi/check_c_api.py compares with `dsmoe run`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsmoe/dsmoe_c.h"

static int failures = 0;

static void check(const char* name, int ok) {
  if (!ok) ++failures;
  fprintf(stderr, "%s %s\n", ok ? "ok  " : "FAIL", name);
}

typedef struct {
  char text[8192];
  size_t length;
  int pieces;
  int stop_after; /* 0: never */
} Sink;

static int collect(const char* text, size_t length, void* user_data) {
  Sink* sink = (Sink*)user_data;
  if (sink->length + length < sizeof sink->text) {
    memcpy(sink->text + sink->length, text, length);
    sink->length += length;
    sink->text[sink->length] = '\0';
  }
  ++sink->pieces;
  return sink->stop_after > 0 && sink->pieces >= sink->stop_after;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: check_c_api MODEL_DIR PROMPT\n");
    return 2;
  }
  dsmoe_set_num_threads(1);
  check("dsmoe_version", strcmp(dsmoe_version(), "") != 0);

  dsmoe_model* missing = dsmoe_model_load("no/such/model", NULL);
  check("a missing model is NULL with a message naming it",
        missing == NULL && strstr(dsmoe_last_error(), "no/such/model") != NULL);
  dsmoe_load_params bad = dsmoe_load_params_default();
  bad.cache_type = "f8";
  check("a bad cache type is refused by name",
        dsmoe_model_load(argv[1], &bad) == NULL && strstr(dsmoe_last_error(), "cache_type") != NULL);

  dsmoe_model* model = dsmoe_model_load(argv[1], NULL);
  if (model == NULL) {
    fprintf(stderr, "cannot load %s: %s\n", argv[1], dsmoe_last_error());
    return 1;
  }
  check("the model has a context and a vocabulary",
        dsmoe_model_context_length(model) > 0 && dsmoe_model_vocab_size(model) > 0);

  const char* prompt = argv[2];
  int32_t ids[512];
  const int64_t count = dsmoe_tokenize(model, prompt, strlen(prompt), 1, ids, 512);
  const int64_t needed = dsmoe_tokenize(model, prompt, strlen(prompt), 1, NULL, 0);
  check("tokenize counts without a buffer", count > 1 && needed == count);
  char* back = dsmoe_detokenize(model, ids, (size_t)count, 1);
  check("detokenize(tokenize(text)) is the text", back != NULL && strcmp(back, prompt) == 0);
  dsmoe_string_free(back);
  int32_t outside = (int32_t)dsmoe_model_vocab_size(model) + 5;
  check("an id outside the vocabulary is an error", dsmoe_detokenize(model, &outside, 1, 0) == NULL &&
                                                        strlen(dsmoe_last_error()) > 0);

  char* rendered = dsmoe_chat_render(model, "[{\"role\": \"user\", \"content\": \"Hello\"}]", 1);
  check("the chat template renders", rendered != NULL && strstr(rendered, "Hello") != NULL);
  dsmoe_string_free(rendered);
  check("malformed messages are an error", dsmoe_chat_render(model, "[{", 1) == NULL);

  dsmoe_generator* generator = dsmoe_generator_new(model, 0);
  dsmoe_sampling_params greedy = dsmoe_sampling_params_default();
  greedy.temperature = 0;
  Sink sink = {{0}, 0, 0, 0};
  dsmoe_generation_result result;
  const int status = dsmoe_generate(generator, ids, (size_t)count, 16, &greedy, collect, &sink, &result);
  check("greedy generation of 16 tokens", status == 0 && result.generated_tokens == 16 &&
                                              result.prompt_tokens == count && result.stop_reason == DSMOE_STOP_MAX_TOKENS);
  printf("%s", sink.text);

  Sink stopped = {{0}, 0, 0, 3};
  dsmoe_generate(generator, ids, (size_t)count, 64, &greedy, collect, &stopped, &result);
  check("a callback returning non-zero stops the reply", result.stop_reason == DSMOE_STOP_CANCELLED &&
                                                             stopped.pieces == 3 && result.generated_tokens < 64);
  check("the same prompt again reuses the cache", result.reused_tokens == count - 1);
  dsmoe_generator_free(generator);

  dsmoe_sampling_params sampling = dsmoe_sampling_params_default();
  sampling.seed = 42;
  dsmoe_chat* chat = dsmoe_chat_new(model, 128, "Thou art a scribe.", &sampling);
  Sink first = {{0}, 0, 0, 0}, second = {{0}, 0, 0, 0};
  dsmoe_generation_result one, two;
  const int a = dsmoe_chat_send(chat, "In the beginning", 16, collect, &first, &one);
  const int b = dsmoe_chat_send(chat, "And God said", 16, collect, &second, &two);
  check("two chat turns", a == 0 && b == 0 && first.length > 0 && second.length > 0);
  check("the second turn reuses the first's tokens",
        two.reused_tokens == one.prompt_tokens + one.generated_tokens - (one.stop_reason == DSMOE_STOP_END_OF_SEQUENCE));
  char long_message[4000] = "";
  for (int i = 0; i < 60; ++i) strcat(long_message, "And the LORD spake unto Moses. ");
  check("a message longer than the context is refused (1) with the reason",
        dsmoe_chat_send(chat, long_message, 16, collect, &second, NULL) == 1 &&
            strstr(dsmoe_last_error(), "context of 128 tokens") != NULL);
  dsmoe_chat_free(chat);
  dsmoe_model_free(model);
  fprintf(stderr, "%d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
