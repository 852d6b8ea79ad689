"""Token streams and batches. Every training sequence is BOS followed by SEQ_LEN = 256 tokens (inputs are the
first 256, targets the last 256), so position 0 is always BOS as in dsmoe's prompts. Data(work, seq_len)
makes rows of another length (the context-extension stage, README.md); everything scales with it.

A row is either a window of the training books (the books' tokens concatenated, EOS after each book) or a
passkey row: BOS, a passkey document, EOS, then BOS and book text to fill the row. Later training stages
(train.py --init; experiments so far, README.md) can pack passkey rows with several documents of random
lengths (more answers per row, near and far needles alike) and add copy rows packed with copy documents:
BOS, 8-48 random tokens, the same tokens again, EOS.
The second half of a copy document is predictable only by finding the first half, the task on which
transformers form induction heads (the attention circuit "find the earlier occurrence of this token and copy
what followed"; how many steps that takes here: README.md); the first half is noise, left out of the loss. Passkey retrieval
is that circuit applied to the key. The batch of step s is a pure function of (seed, s, mix), so a resumed run
sees exactly the batches an uninterrupted one would.
"""
import json
import os
import random
from dataclasses import dataclass

import numpy as np

import corpus as corpus_mod
from tokenizer import Tokenizer

SEQ_LEN = 256
MIN_PACKED_DOCUMENT = 60  # tokens: room for the fixed passkey sentences and some filler
COPY_LENGTHS = (8, 48)  # random tokens in each half of a copy document, inclusive

# What a target token is, for the loss weights (train.py).
TARGET_TEXT, TARGET_ANSWER, TARGET_NOISE = 0, 1, 2


@dataclass(frozen=True)
class Mix:
    """What a batch's rows hold: passkey_fraction of rows start with passkey documents (one, or packed),
    copy_fraction are packed with copy documents, the rest are book windows."""
    passkey_fraction: float
    copy_fraction: float = 0.0
    pack_passkeys: bool = False
    copy_alphabet: int = 0  # copy documents draw from the digits, " " and this many most frequent tokens; 0: all


class Data:
    def __init__(self, work_dir, seq_len=SEQ_LEN):
        self.seq_len = seq_len
        with open(os.path.join(work_dir, "corpus.json")) as f:
            corpus = json.load(f)
        self.tok = Tokenizer.load(os.path.join(work_dir, "tokenizer", "tokenizer.json"))
        self.train = self._stream(corpus["train"])  # [n_train] int64
        self.validation = self._stream(corpus["validation"])
        self.train_books, self.validation_books = corpus["train_books"], corpus["validation_books"]
        self._alphabets = {}

    def _stream(self, docs):
        ids = []
        for doc in docs:
            ids.extend(self.tok.encode(doc))
            ids.append(self.tok.eos_id)
        return np.asarray(ids, dtype=np.int64)

    def count_tokens(self, text):
        return len(self.tok.encode(text))

    def passkey(self, rng, max_tokens=None, min_tokens=None):
        """(ids, answer mask, key) of one passkey document, BOS first, at most max_tokens + 1 ids (default:
        seq_len ids)."""
        if max_tokens is None:
            max_tokens = self.seq_len - 1
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

    def batch(self, seed, step, batch_size, mix):
        """(rows [batch_size, seq_len + 1] int64, kinds [batch_size, seq_len] int8: TARGET_* of each target
        token) for the given step."""
        rng = np.random.default_rng([seed, step])
        rows = np.empty((batch_size, self.seq_len + 1), dtype=np.int64)
        kinds = np.full((batch_size, self.seq_len), TARGET_TEXT, dtype=np.int8)
        for r in range(batch_size):
            u = rng.random()
            if u < mix.passkey_fraction and not mix.pack_passkeys:
                ids, mask, _ = self.passkey(random.Random(int(rng.integers(1 << 62))), self.seq_len - 2)
                ids = ids + [self.tok.eos_id, self.tok.bos_id]
                kind = [TARGET_ANSWER if m else TARGET_TEXT for m in mask] + [TARGET_TEXT] * 2
            elif u < mix.passkey_fraction + mix.copy_fraction:
                ids, kind = self._packed(rng, u < mix.passkey_fraction, mix.copy_alphabet)
            else:
                rows[r, 0] = self.tok.bos_id
                rows[r, 1:] = self.book_window(rng, self.seq_len)
                continue
            fill = self.book_window(rng, self.seq_len + 1 - len(ids))
            rows[r] = np.concatenate([np.asarray(ids, dtype=np.int64), fill])
            kinds[r, :len(ids) - 1] = kind[1:]
        return rows, kinds

    def _copy_alphabet(self, size):
        """int64 ids copy documents draw from: every ordinary token (size 0), or the digits, " " and the
        `size` most frequent tokens of the books. Each of 4094 ids turns up in a copy document too rarely
        for the model to learn to copy it (measured with a 2-layer model: no copying after 200 steps with
        all 4094 ids, perfect copying after 150 with 512)."""
        if size == 0:
            return np.arange(self.tok.bos_id)  # ids below BOS are the ordinary tokens
        if size not in self._alphabets:
            digits = {i for d in "0123456789 " for i in self.tok.encode(d)}
            frequent = [int(i) for i in np.argsort(-np.bincount(self.train, minlength=self.tok.vocab_size))
                        if i < self.tok.bos_id][:size]
            self._alphabets[size] = np.asarray(sorted(digits | set(frequent)), dtype=np.int64)
        return self._alphabets[size]

    def _packed(self, rng, passkeys, alphabet_size=0):
        """(ids, TARGET_* of each id as a target) of passkey or copy documents, packed while at least
        MIN_PACKED_DOCUMENT tokens are left."""
        ids, kind = [], []
        while (room := self.seq_len + 1 - len(ids) - 1) >= MIN_PACKED_DOCUMENT:  # - 1: the document's EOS
            if passkeys:
                cap = min(room, int(rng.integers(MIN_PACKED_DOCUMENT, self.seq_len)))
                doc, mask, _ = self.passkey(random.Random(int(rng.integers(1 << 62))), cap - 1)
                ids += doc + [self.tok.eos_id]
                kind += [TARGET_ANSWER if m else TARGET_TEXT for m in mask] + [TARGET_TEXT]
            else:
                n = int(rng.integers(COPY_LENGTHS[0], min(COPY_LENGTHS[1], (room - 1) // 2) + 1))
                alphabet = self._copy_alphabet(alphabet_size)
                half = alphabet[rng.integers(0, len(alphabet), n)].tolist()
                ids += [self.tok.bos_id] + half + half + [self.tok.eos_id]
                # The first half and the first copied token (nothing says where the copy starts) are noise.
                kind += [TARGET_TEXT] + [TARGET_NOISE] * (n + 1) + [TARGET_TEXT] * n
        return ids, kind

    def validation_rows(self, limit=None, length=None):
        """Consecutive non-overlapping windows of the held-out books: [n, length + 1], BOS first (length:
        seq_len unless given)."""
        length = length or self.seq_len
        n = (len(self.validation) - 1) // length
        if limit is not None:
            n = min(n, limit)
        rows = np.empty((n, length + 1), dtype=np.int64)
        for i in range(n):
            rows[i, 0] = self.tok.bos_id
            rows[i, 1:] = self.validation[i * length:(i + 1) * length]
        return rows
