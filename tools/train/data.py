"""Token streams and batches. Every training sequence is BOS followed by 256 tokens (inputs are the first
256, targets the last 256), so position 0 is always BOS as in dsmoe's prompts.

A row is either a window of the training books (the books' tokens concatenated, EOS after each book) or a
passkey row: BOS, a passkey document, EOS, then BOS and book text to fill the row. The batch of step s is a
pure function of (seed, s), so a resumed run sees exactly the batches an uninterrupted one would.
"""
import json
import os
import random

import numpy as np

import corpus as corpus_mod
from tokenizer import Tokenizer

SEQ_LEN = 256


class Data:
    def __init__(self, work_dir):
        with open(os.path.join(work_dir, "corpus.json")) as f:
            corpus = json.load(f)
        self.tok = Tokenizer.load(os.path.join(work_dir, "tokenizer", "tokenizer.json"))
        self.train = self._stream(corpus["train"])  # [n_train] int64
        self.validation = self._stream(corpus["validation"])
        self.train_books, self.validation_books = corpus["train_books"], corpus["validation_books"]

    def _stream(self, docs):
        ids = []
        for doc in docs:
            ids.extend(self.tok.encode(doc))
            ids.append(self.tok.eos_id)
        return np.asarray(ids, dtype=np.int64)

    def count_tokens(self, text):
        return len(self.tok.encode(text))

    def passkey(self, rng, max_tokens=SEQ_LEN - 1, min_tokens=None):
        """(ids, answer mask, key) of one passkey document, BOS first, at most max_tokens + 1 ids."""
        while True:
            segments = corpus_mod.passkey_document(rng, self.count_tokens, max_tokens, min_tokens)
            ids, mask = [self.tok.bos_id], [False]
            for text, is_answer in segments:
                piece = self.tok.encode(text)
                ids += piece
                mask += [is_answer] * len(piece)
            if len(ids) <= max_tokens + 1:  # the budget is exact up to the first word's leading space
                return ids, mask, segments[1][0].strip()

    def book_window(self, rng, n):
        start = int(rng.integers(0, len(self.train) - n))
        return self.train[start:start + n]

    def batch(self, seed, step, batch_size, passkey_fraction):
        """[batch_size, SEQ_LEN + 1] int64 for the given step."""
        rng = np.random.default_rng([seed, step])
        rows = np.empty((batch_size, SEQ_LEN + 1), dtype=np.int64)
        for r in range(batch_size):
            if rng.random() < passkey_fraction:
                ids, _, _ = self.passkey(random.Random(int(rng.integers(1 << 62))), SEQ_LEN - 2)
                ids = ids + [self.tok.eos_id, self.tok.bos_id]
                fill = self.book_window(rng, SEQ_LEN + 1 - len(ids))
                rows[r] = np.concatenate([np.asarray(ids, dtype=np.int64), fill])
            else:
                rows[r, 0] = self.tok.bos_id
                rows[r, 1:] = self.book_window(rng, SEQ_LEN)
        return rows

    def validation_rows(self, limit=None):
        """Consecutive non-overlapping windows of the held-out books: [n, SEQ_LEN + 1], BOS first."""
        n = (len(self.validation) - 1) // SEQ_LEN
        if limit is not None:
            n = min(n, limit)
        rows = np.empty((n, SEQ_LEN + 1), dtype=np.int64)
        for i in range(n):
            rows[i, 0] = self.tok.bos_id
            rows[i, 1:] = self.validation[i * SEQ_LEN:(i + 1) * SEQ_LEN]
        return rows
