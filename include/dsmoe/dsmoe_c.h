/* dsmoe's C API: plain functions over opaque handles, for bindings (Python's ctypes or cffi, other languages)
 * and for C programs. It wraps the same objects as the C++ API (dsmoe/dsmoe.h), so results are the same ids and
 * text for the same arguments.
 *
 * Errors: a function that fails returns NULL or a negative number and leaves a message for dsmoe_last_error(),
 * which names the file, key or argument (the same text the CLI prints). Strings returned by dsmoe_* are owned by
 * the caller unless said otherwise, and freed with dsmoe_string_free.
 *
 *   dsmoe_model* model = dsmoe_model_load("models/dsmoe-kjv-9m", NULL);
 *   dsmoe_chat* chat = dsmoe_chat_new(model, 0, "", NULL);
 *   dsmoe_chat_send(chat, "In the beginning", 64, print_piece, NULL, NULL);
 *   dsmoe_chat_free(chat);
 *   dsmoe_model_free(model);
 */
#ifndef DSMOE_DSMOE_C_H
#define DSMOE_DSMOE_C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dsmoe_model dsmoe_model;          /* weights, config, tokenizer, chat template */
typedef struct dsmoe_generator dsmoe_generator;  /* a KV cache and the tokens it holds */
typedef struct dsmoe_chat dsmoe_chat;            /* a conversation on its own generator */

/* The message of the last failure on this thread; "" when none. Valid until the next failing call. */
const char* dsmoe_last_error(void);
const char* dsmoe_version(void); /* "0.1.0" */
void dsmoe_set_num_threads(int n); /* n <= 0: every core; results are the same for any count */
void dsmoe_string_free(char* text);

/* ---- models ---- */
typedef struct dsmoe_load_params {
  int weights_in_memory; /* -1: decide from the free memory (default), 0: map the file, 1: read it into memory */
  const char* cache_type; /* "f16" (default), "f32", "bf16" or "q8_0" */
} dsmoe_load_params;
dsmoe_load_params dsmoe_load_params_default(void);

/* An HF folder or a .gguf file; params may be NULL. NULL on failure. */
dsmoe_model* dsmoe_model_load(const char* path, const dsmoe_load_params* params);
void dsmoe_model_free(dsmoe_model* model);
int64_t dsmoe_model_context_length(const dsmoe_model* model); /* max_position_embeddings */
int64_t dsmoe_model_vocab_size(const dsmoe_model* model);
/* The format in words ("HF safetensors, bf16" or "GGUF v3, ..."); owned by the model. */
const char* dsmoe_model_description(const dsmoe_model* model);

/* ---- tokenizer ---- */
/* Ids of text as HF's encode(text, add_special_tokens) gives them, plus BOS when tokenizer_config.json says
 * add_bos_token (as transformers adds it). Writes at most capacity ids; returns how many there are (call again
 * with a larger buffer when that is more than capacity), or -1 on failure. */
int64_t dsmoe_tokenize(const dsmoe_model* model, const char* text, size_t length, int add_special_tokens,
                       int32_t* ids, size_t capacity);
/* Text of ids (HF decode); returns a new string, or NULL on failure (an id outside the vocabulary). */
char* dsmoe_detokenize(const dsmoe_model* model, const int32_t* ids, size_t count, int skip_special_tokens);

/* ---- chat template ---- */
/* messages_json: a JSON array of {"role", "content"} objects. Returns the prompt as HF's apply_chat_template
 * renders it (a new string), or NULL on failure. */
char* dsmoe_chat_render(const dsmoe_model* model, const char* messages_json, int add_generation_prompt);

/* ---- sampling and generation ---- */
typedef struct dsmoe_sampling_params {
  float temperature;       /* 0: greedy */
  int64_t top_k;           /* 0: off */
  float top_p;             /* 1: off */
  float min_p;             /* 0: off */
  float repeat_penalty;    /* 1: off */
  int64_t repeat_last_n;   /* the window of the penalties; -1: everything so far */
  float presence_penalty;  /* 0: off */
  float frequency_penalty; /* 0: off */
  uint64_t seed;
} dsmoe_sampling_params;
/* llama.cpp's defaults (temperature 0.8, top_k 40, top_p 0.95, min_p 0.05, no penalties, seed 0). */
dsmoe_sampling_params dsmoe_sampling_params_default(void);

/* Receives text as it becomes complete UTF-8 (not NUL-terminated). Return 0 to go on, anything else to stop:
 * the reply then ends with stop reason DSMOE_STOP_CANCELLED. */
typedef int (*dsmoe_text_callback)(const char* text, size_t length, void* user_data);

enum {
  DSMOE_STOP_END_OF_SEQUENCE = 0,
  DSMOE_STOP_STRING = 1,
  DSMOE_STOP_MAX_TOKENS = 2,
  DSMOE_STOP_CONTEXT_FULL = 3,
  DSMOE_STOP_CANCELLED = 4
};

typedef struct dsmoe_generation_result {
  int64_t prompt_tokens;    /* prefilled by this call */
  int64_t reused_tokens;    /* already in the KV cache */
  int64_t generated_tokens; /* including a final end token */
  double prefill_seconds;
  double decode_seconds;
  int stop_reason;         /* DSMOE_STOP_* */
  int64_t dropped_messages; /* dsmoe_chat_send: oldest messages dropped to make room */
} dsmoe_generation_result;

/* context 0: the model's max_position_embeddings. */
dsmoe_generator* dsmoe_generator_new(const dsmoe_model* model, int64_t context);
void dsmoe_generator_free(dsmoe_generator* generator);
/* Continues from the longest prefix of tokens the cache already holds and generates up to max_new_tokens
 * (-1: until an end token or a full context). sampling and result may be NULL. 0 on success, -1 on failure. */
int dsmoe_generate(dsmoe_generator* generator, const int32_t* tokens, size_t count, int64_t max_new_tokens,
                   const dsmoe_sampling_params* sampling, dsmoe_text_callback on_text, void* user_data,
                   dsmoe_generation_result* result);

/* ---- chat ---- */
/* A conversation with the model's chat template; system may be NULL or "", sampling NULL for the defaults (one
 * sampler, seeded once, serves the whole conversation). context 0: the model's. */
dsmoe_chat* dsmoe_chat_new(const dsmoe_model* model, int64_t context, const char* system,
                           const dsmoe_sampling_params* sampling);
void dsmoe_chat_free(dsmoe_chat* chat);
/* Sends one user message and streams the reply (max_new_tokens -1: until an end token or a full context).
 * Returns 0, 1 when the message was refused as too long for the context (the reason in dsmoe_last_error(), the
 * conversation unchanged), or -1 on failure. result may be NULL. */
int dsmoe_chat_send(dsmoe_chat* chat, const char* message, int64_t max_new_tokens, dsmoe_text_callback on_text,
                    void* user_data, dsmoe_generation_result* result);

#ifdef __cplusplus
}
#endif

#endif /* DSMOE_DSMOE_C_H */
