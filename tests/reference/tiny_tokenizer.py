#!/usr/bin/python3
"""A small byte-level BPE tokenizer in HF tokenizer.json form, for tiny test models that generate text.

The 256 byte symbols (GPT-2's bytes_to_unicode alphabet), merges learnt greedily from a few sentences
of our own, then the DeepSeek begin/end-of-sentence tokens as special added tokens. BOS comes from
tokenizer_config.json's add_bos_token, as with DeepSeek's tokenizer; tokenizer_config.json carries the DeepSeek-MoE chat format.
"""
import collections
import json
import os
import sys

# The byte alphabet, the special tokens and the DeepSeek-MoE chat format are those of the shipped model's
# tokenizer (tools/train/tokenizer.py): one definition for both.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "train"))
from tokenizer import BOS, CHAT_TEMPLATE, EOS, byte_symbols as bytes_to_unicode  # noqa: E402

TRAINING_TEXT = (
    "In the beginning the tiny model had no words, and the tests gave it bytes. "
    "Then the merges came: the pairs that stood together most often were joined, one rank at a time. "
    "The engine reads the merges, the engine splits the text, and the engine writes the ids. "
    "User: say something.\n\nAssistant: something, said the model, then it stopped."
)


def learn_merges(text, n_merges):
    alphabet = bytes_to_unicode()
    # Words as GPT-2 pre-tokenizes them, roughly: a leading space belongs to the word.
    words = collections.Counter()
    for i, piece in enumerate(text.split(" ")):
        word = (" " if i else "") + piece
        words[tuple(alphabet[b] for b in word.encode("utf-8"))] += 1
    merges = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for word, count in words.items():
            for a, b in zip(word, word[1:]):
                pairs[(a, b)] += count
        if not pairs:
            break
        best = max(pairs.items(), key=lambda item: (item[1], item[0]))[0]
        merges.append(best)
        merged = collections.Counter()
        for word, count in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += count
        words = merged
    return merges


def build(n_merges=40):
    """(tokenizer.json dict, tokenizer_config.json dict, vocab size)."""
    alphabet = bytes_to_unicode()
    vocab = {alphabet[b]: b for b in range(256)}
    merges = learn_merges(TRAINING_TEXT, n_merges)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    bos_id, eos_id = len(vocab), len(vocab) + 1
    special = lambda content, i: {"id": i, "content": content, "single_word": False, "lstrip": False,
                                  "rstrip": False, "normalized": False, "special": True}
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(BOS, bos_id), special(EOS, eos_id)],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        # No post-processor, as in DeepSeek's own tokenizer.json: transformers adds BOS because
        # tokenizer_config.json says add_bos_token, and so must dsmoe run.
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": BOS, "eos_token": EOS,
              "model_max_length": 4096, "tokenizer_class": "LlamaTokenizerFast", "chat_template": CHAT_TEMPLATE}
    return tokenizer, config, eos_id + 1


def write(out_dir, n_merges=40):
    tokenizer, config, vocab_size = build(n_merges)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)
    return vocab_size, tokenizer["added_tokens"][0]["id"], tokenizer["added_tokens"][1]["id"]


def write_model(directory, seed, max_pos):
    """A tiny random DeepSeek-MoE (tiny_model) with this tokenizer beside it and config.json's bos/eos ids set
    to its special tokens; returns (bos, eos)."""
    import tiny_model  # here, not at the top: tiny_model does not need the tokenizer

    tiny_model.write_model(directory, seed=seed, vocab=build()[2], max_pos=max_pos)
    _, bos, eos = write(directory)
    path = os.path.join(directory, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    cfg["bos_token_id"], cfg["eos_token_id"] = bos, eos
    with open(path, "w") as f:
        json.dump(cfg, f)
    return bos, eos

