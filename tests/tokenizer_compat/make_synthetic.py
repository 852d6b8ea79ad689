#!/usr/bin/python3
"""Writes synthetic/*.json: small tokenizer.json files that exercise the parts the four real tokenizers do not use
(Metaspace, Digits, Whitespace, WhitespaceSplit, every Split behavior, NFD/NFKC/StripAccents/Lowercase/Strip/Replace
normalizers, added tokens with lstrip/rstrip/single_word/normalized, the Metaspace and Strip decoders). The
compatibility test runs HF and dsmoe on them over the same corpus. Re-run after editing; the output is committed."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "train"))
from tokenizer import byte_symbols  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def byte_level_vocab():
    # GPT-2's byte alphabet, as the shipped model's tokenizer defines it (tools/train/tokenizer.py).
    return {symbol: b for b, symbol in byte_symbols().items()}


def added(content, id, special, **flags):
    token = {"id": id, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": not special, "special": special}
    token.update(flags)
    return token


def added_tokens_tokenizer():
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "added_tokens": [added("<A>", 256, True, lstrip=True), added("<B>", 257, True, rstrip=True),
                         added("cat", 258, False, single_word=True, normalized=False),
                         added("<C>", 259, False, normalized=True), added("<<", 260, True), added("<<<", 261, True),
                         added("<D>", 262, True, lstrip=True, rstrip=True), added("é", 263, False, normalized=True)],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": byte_level,
        "post_processor": None,
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": byte_level_vocab(), "merges": []},
    }


def letters_tokenizer(parts):
    """A tiny SentencePiece-like vocab (a-z, digits, ▁) with unk, for pre-tokenizer and normalizer variants."""
    vocab = {"<unk>": 0, "<s>": 1}
    for c in list("abcdefghijklmnopqrstuvwxyz0123456789") + ["▁"]:
        vocab[c] = len(vocab)
    merges = [("▁", "a"), ("▁a", "b"), ("c", "d"), ("▁", "c"), ("▁c", "d"), ("1", "2"), ("t", "h"), ("▁", "th")]
    for a, b in merges:
        vocab[a + b] = len(vocab)
    spec = {"version": "1.0", "added_tokens": [added("<s>", 1, True)], "post_processor": None,
            "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "fuse_unk": True, "byte_fallback": False,
                      "vocab": vocab, "merges": [a + " " + b for a, b in merges]}}
    spec.update(parts)
    return spec


def metaspace(scheme, split):
    return {"type": "Metaspace", "replacement": "▁", "prepend_scheme": scheme, "split": split}


VARIANTS = {
    "added_tokens": added_tokens_tokenizer(),
    # With prepend_scheme "first", HF asks whether a piece starts at original offset 0, which after a normalizer that
    # expands the first character (NFKC: "½" -> "1⁄2") holds for several pieces; we track only the first piece (see
    # docs/TOKENIZER.md), so this variant has no normalizer and the next one tests NFKC.
    "metaspace_first": letters_tokenizer({
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True},
                                                                 metaspace("first", True)]},
        "decoder": metaspace("first", True)}),
    "metaspace_always": letters_tokenizer({
        "normalizer": {"type": "NFKC"}, "pre_tokenizer": metaspace("always", False),
        "decoder": metaspace("always", False)}),
    "whitespace": letters_tokenizer({
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFD"}, {"type": "StripAccents"}, {"type": "Lowercase"},
            {"type": "Strip", "strip_left": True, "strip_right": True},
            {"type": "Replace", "pattern": {"Regex": "[0-9]+"}, "content": "0"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Whitespace"}, {"type": "Digits", "individual_digits": False}]},
        "decoder": None}),
    "split_behaviors": letters_tokenizer({
        "normalizer": {"type": "NFKD"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"String": "c"}, "behavior": "MergedWithPrevious", "invert": False},
            {"type": "Split", "pattern": {"Regex": "[0-9]"}, "behavior": "MergedWithNext", "invert": False},
            {"type": "Split", "pattern": {"Regex": "x+"}, "behavior": "Removed", "invert": False},
            {"type": "Split", "pattern": {"Regex": "z"}, "behavior": "Contiguous", "invert": True},
            {"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Removed", "invert": True},
            {"type": "WhitespaceSplit"}]},
        # Strip with stop > 0 panics inside HF on an empty token, so only the start is stripped here.
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "Fuse"},
            {"type": "Strip", "content": "a", "start": 2, "stop": 0}]}}),
}


def main():
    out_dir = os.path.join(HERE, "synthetic")
    os.makedirs(out_dir, exist_ok=True)
    for name, spec in VARIANTS.items():
        with open(os.path.join(out_dir, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(spec, f, ensure_ascii=False, indent=1)
            f.write("\n")
    print("wrote", ", ".join(sorted(VARIANTS)))


if __name__ == "__main__":
    main()
