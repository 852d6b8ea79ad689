"""Byte-level BPE trained on the training books, written as a standard HF tokenizer.json.

Pre-tokenization is HF's ByteLevel(use_regex=true), i.e. GPT-2's pattern
    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
Python's `re` has no \\p{L}; on ASCII text \\p{L} is exactly [A-Za-z], \\p{N} is [0-9] and \\s is
[\\t\\n\\v\\f\\r ] (Python's own \\s would also take \\x1c-\\x1f, which Unicode White_Space does not), so the
pattern below is the same function on ASCII input, and the encoder refuses anything else. The exported
tokenizer.json names the standard ByteLevel pre-tokenizer, so HF (and dsmoe) use the real pattern;
check_tokenizer.js compares the ids on the validation books.

Merges are learnt greedily: the most frequent adjacent pair over the pre-token counts, ties to the
smallest pair, until the vocabulary (256 byte symbols + merges + BOS + EOS) reaches the requested size.

CLI: python3 tokenizer.py --corpus work/corpus.json --vocab-size 4096 --out work/tokenizer
"""
import argparse
import collections
import heapq
import json
import os
import re

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"

_WS = r"\t\n\x0b\x0c\r "
PRETOKEN = re.compile(
    rf"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^{_WS}A-Za-z0-9]+|[{_WS}]+(?![^{_WS}])|[{_WS}]+")

# DeepSeek-MoE chat: "User: ...\n\nAssistant: ..." turns, BOS first, EOS after each reply.
CHAT_TEMPLATE = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\n\n' }}"
    "{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}"
    "{% elif message['role'] == 'system' %}{{ message['content'] + '\n\n' }}{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)


def byte_symbols():
    """GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the rest move to 256+."""
    keep = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    table, shift = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + shift)
            shift += 1
    return table


BYTE_SYMBOL = byte_symbols()
SYMBOL_BYTE = {s: b for b, s in BYTE_SYMBOL.items()}


def pretokenize(text):
    """GPT-2 pre-tokens of ASCII text, each as its byte-symbol string."""
    if not text.isascii():
        raise ValueError("this pre-tokenizer is exact on ASCII text only")
    return ["".join(BYTE_SYMBOL[b] for b in piece.encode("ascii")) for piece in PRETOKEN.findall(text)]


def learn_merges(texts, n_merges):
    words = collections.Counter()
    for text in texts:
        words.update(pretokenize(text))
    symbols = [list(w) for w in words]
    counts = list(words.values())
    pair_count = collections.Counter()
    pair_words = collections.defaultdict(set)
    for i, word in enumerate(symbols):
        for pair in zip(word, word[1:]):
            pair_count[pair] += counts[i]
            pair_words[pair].add(i)
    heap = [(-c, pair) for pair, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        neg, best = heapq.heappop(heap)
        if pair_count.get(best, 0) != -neg or -neg <= 0:
            continue  # stale entry: the count changed after it was pushed
        merges.append(best)
        joined = best[0] + best[1]
        touched = collections.Counter()
        for i in pair_words.pop(best):
            word = symbols[i]
            for pair in zip(word, word[1:]):
                pair_count[pair] -= counts[i]
                touched[pair] += 0
            out, j = [], 0
            while j < len(word):
                if j + 1 < len(word) and (word[j], word[j + 1]) == best:
                    out.append(joined)
                    j += 2
                else:
                    out.append(word[j])
                    j += 1
            symbols[i] = out
            for pair in zip(out, out[1:]):
                pair_count[pair] += counts[i]
                pair_words[pair].add(i)
                touched[pair] += 0
        del pair_count[best]
        for pair in touched:
            if pair in pair_count and pair_count[pair] > 0:
                heapq.heappush(heap, (-pair_count[pair], pair))
            elif pair in pair_count:
                del pair_count[pair]
    return merges


class Tokenizer:
    """Encoder/decoder over a vocab and ranked merges (the contents of tokenizer.json's model)."""

    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.merges = merges
        self.rank = {pair: r for r, pair in enumerate(merges)}
        self.bos_id, self.eos_id = len(vocab), len(vocab) + 1
        self.vocab_size = len(vocab) + 2
        self.id_to_token = {i: t for t, i in vocab.items()}
        self._cache = {}

    @classmethod
    def train(cls, texts, vocab_size):
        vocab = {BYTE_SYMBOL[b]: b for b in range(256)}
        merges = learn_merges(texts, vocab_size - 256 - 2)
        for a, b in merges:
            vocab[a + b] = len(vocab)
        return cls(vocab, merges)

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            model = json.load(f)["model"]
        return cls(model["vocab"], [tuple(m.split(" ")) for m in model["merges"]])

    def _bpe(self, word):
        if word in self._cache:
            return self._cache[word]
        parts = list(word)
        while len(parts) > 1:
            ranked = [(self.rank.get(pair, len(self.rank)), i) for i, pair in enumerate(zip(parts, parts[1:]))]
            r, i = min(ranked)
            if r == len(self.rank):
                break
            parts[i:i + 2] = [parts[i] + parts[i + 1]]  # leftmost occurrence of the best-ranked pair first
        ids = [self.vocab[p] for p in parts]
        self._cache[word] = ids
        return ids

    def encode(self, text):
        """Token ids of text without special tokens."""
        ids = []
        for word in pretokenize(text):
            ids.extend(self._bpe(word))
        return ids

    def decode(self, ids):
        raw = bytes(SYMBOL_BYTE[c] for i in ids if i < len(self.vocab) for c in self.id_to_token[i])
        return raw.decode("utf-8", errors="replace")

    def to_json(self):
        def special(content, i):
            return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
                    "normalized": False, "special": True}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [special(BOS, self.bos_id), special(EOS, self.eos_id)],
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                              "use_regex": True},
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {BOS: {"id": BOS, "ids": [self.bos_id], "tokens": [BOS]}},
            },
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "ignore_merges": False, "vocab": self.vocab, "merges": [f"{a} {b}" for a, b in self.merges]},
        }

    def config_json(self, max_length):
        return {"add_bos_token": True, "add_eos_token": False, "bos_token": BOS, "eos_token": EOS,
                "clean_up_tokenization_spaces": False, "legacy": True, "model_max_length": max_length,
                "tokenizer_class": "LlamaTokenizerFast", "chat_template": CHAT_TEMPLATE}

    def save(self, out_dir, max_length):
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, ensure_ascii=False)
        with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(self.config_json(max_length), f, ensure_ascii=False, indent=2)
            f.write("\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", required=True)
    p.add_argument("--vocab-size", type=int, default=4096)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    with open(args.corpus) as f:
        corpus = json.load(f)
    tok = Tokenizer.train(corpus["train"], args.vocab_size)
    tok.save(args.out, args.max_length)
    n_train = sum(len(tok.encode(d)) for d in corpus["train"])
    n_val = sum(len(tok.encode(d)) for d in corpus["validation"])
    print(f"tokenizer: {tok.vocab_size} ids ({len(tok.merges)} merges); {n_train} training tokens, "
          f"{n_val} validation tokens -> {args.out}")


if __name__ == "__main__":
    main()
