#!/usr/bin/python3
"""`dsmoe perplexity` and `dsmoe passkey` as a user runs them.

--part perplexity: on a tiny random model with a real tokenizer.json, the NLL of every text token equals the
  NumPy oracle's (reference_forward.py) over windows this script cuts on its own (the HF perplexity guide's loop
  for --stride, non-overlapping windows without), every token scored exactly once, the before/after split at
  max_position_embeddings counted as documented, -b 3 equal to -b 1.
  Tolerance: 2e-4 nats per token and 1e-5 relative on the mean; both sides compute in float32 (the engine's
  rounding differs from NumPy's at ~1e-6 of a logit, and a log-softmax passes that on at most doubled).
--part passkey: the documents are corpus.py's own (its passkey_document, replayed with a scripted rng,
  rebuilds every dumped document byte for byte), the same seed gives the same documents, and the shipped
  model retrieves at least 70% of 20 keys at --ctx 256 (its model card: 94% at ~245 tokens; 70% leaves room).
--part errors: bad arguments end in exit status 1 and a message naming the flag.

Usage: /usr/bin/python3 tests/reference/check_long_context.py --dsmoe build/dsmoe --part perplexity|passkey|errors
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
import reference_forward  # noqa: E402
import tiny_model  # noqa: E402
import tiny_tokenizer  # noqa: E402
import corpus  # noqa: E402

SHIPPED = os.path.join(ROOT, "models", "dsmoe-kjv-9m")
MAX_POS = 16  # the tiny model's training context: windows of 24 cross it
TOKEN_TOL, MEAN_TOL = 2e-4, 1e-5
TEXT = ("In the beginning the tiny model had no words, and the tests gave it bytes. Then the merges came, and "
        "the engine read them one rank at a time. The engine splits the text, the engine writes the ids, and "
        "the window slides over the text until every token has been scored once and only once. ") * 2

results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f"\n     {detail}" if detail and not ok else ""))


def dsmoe(binary, *args):
    # One thread: results are bit-identical for any thread count, and on a shared machine OpenMP's spinning
    # workers made these runs several times slower.
    return subprocess.run([binary, "-t", "1", *args], capture_output=True, text=True, timeout=300)


def make_tiny_model(directory):
    """A tiny DeepSeek-MoE whose vocabulary is tiny_tokenizer's; its BOS id."""
    return tiny_tokenizer.write_model(directory, seed=11, max_pos=MAX_POS)[0]


def oracle_nll(cfg, weights, ids, bos, ctx, stride):
    """Per text token: (NLL, the position that predicts it), each token written once; the windows cut here
    independently of the engine: BOS + ctx - 1 text tokens, non-overlapping, or HF's strided loop."""
    n, width = len(ids), ctx - 1
    nll, position, times = np.full(n, np.nan), np.full(n, -1), np.zeros(n, dtype=int)
    windows = []  # (begin, end, first text index scored)
    if stride is None:
        windows = [(b, min(b + width, n), b) for b in range(0, n, width)]
    else:
        prev_end = 0
        for begin in range(0, n, stride):  # the HF perplexity guide's loop
            end = min(begin + width, n)
            windows.append((begin, end, prev_end))
            prev_end = end
            if end == n:
                break
    for begin, end, first in windows:
        seq = [bos] + list(ids[begin:end])
        logits = reference_forward.forward(cfg, weights, np.array([seq]))["logits"][0].astype(np.float64)
        top = logits.max(axis=-1, keepdims=True)
        log_probs = logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))
        for t in range(first, end):
            j = t - begin + 1  # index in the window; predicted by row j - 1
            nll[t], position[t] = -log_probs[j - 1, seq[j]], j - 1
            times[t] += 1
    return nll, position, times


def check_perplexity(binary, work):
    model = os.path.join(work, "tiny")
    bos = make_tiny_model(model)
    cfg, weights = tiny_model.load_model(model)
    text_file = os.path.join(work, "text.txt")
    with open(text_file, "w") as f:
        f.write(TEXT)
    ids = json.loads(dsmoe(binary, "tokenize", "-m", model, "-f", text_file).stdout)
    check("the text is long enough for several windows", len(ids) > 100, str(len(ids)))
    means = {}
    for ctx, stride, batch in ((16, None, 1), (24, None, 1), (24, None, 3), (24, 5, 1), (24, 5, 2), (16, 15, 1),
                               (9, 2, 4)):
        name = f"--ctx {ctx}" + (f" --stride {stride}" if stride else "") + f" -b {batch}"
        npy = os.path.join(work, "nll.npy")
        args = ["perplexity", "-m", model, "-f", text_file, "--ctx", str(ctx), "-b", str(batch), "--json",
                "--nll-out", npy] + (["--stride", str(stride)] if stride else [])
        run = dsmoe(binary, *args)
        if run.returncode != 0:
            check(f"perplexity {name} exits 0", False, run.stderr)
            continue
        got = json.loads(run.stdout)
        ours = np.load(npy).astype(np.float64)
        want, position, times = oracle_nll(cfg, weights, ids, bos, ctx, stride)
        check(f"{name}: the oracle scores every token once", bool((times == 1).all()))
        check(f"{name}: every text token scored once ({len(ids)})",
              got["tokens"] == got["text_tokens"] == len(ids) and not np.isnan(ours).any(), str(got))
        err = float(np.max(np.abs(ours - want)))
        check(f"{name}: per-token NLL = oracle within {TOKEN_TOL}", err <= TOKEN_TOL, f"max error {err}")
        mean = float(np.mean(want))
        check(f"{name}: mean NLL {got['nll_mean']:.6f} = oracle {mean:.6f}",
              abs(got["nll_mean"] - mean) <= MEAN_TOL * abs(mean))
        check(f"{name}: perplexity = exp(mean NLL)", math.isclose(got["perplexity"], math.exp(got["nll_mean"]),
                                                                  rel_tol=1e-12))
        se = math.exp(got["nll_mean"]) * np.std(ours, ddof=1) / math.sqrt(len(ours))
        check(f"{name}: perplexity_se by the delta method", math.isclose(got["perplexity_se"], se, rel_tol=1e-5),
              f"{got['perplexity_se']} vs {se}")
        before = position < MAX_POS
        split_ok = (got["tokens_before_train_ctx"] == int(before.sum())
                    and got["tokens_after_train_ctx"] == int((~before).sum()))
        check(f"{name}: before/after counts {int(before.sum())}/{int((~before).sum())}", split_ok, str(got))
        if (~before).any():
            check(f"{name}: mean NLL after position {MAX_POS}",
                  abs(got["nll_after_train_ctx"] - float(np.mean(want[~before]))) <= 1e-4)
        else:
            check(f"{name}: no token past the training context is null", got["nll_after_train_ctx"] is None)
        means[(ctx, stride, batch)] = got["nll_mean"]
    check("-b 3 equals -b 1", abs(means.get((24, None, 3), 0) - means.get((24, None, 1), 1)) <= 1e-9)
    check("--stride 15 at --ctx 16 equals no stride", abs(means.get((16, 15, 1), 0) - means.get((16, None, 1), 1)) <= 1e-9)
    text_run = dsmoe(binary, "perplexity", "-m", model, "-f", text_file, "--ctx", "16")
    check("the text report names perplexity, the split and the speed",
          text_run.returncode == 0 and "perplexity:" in text_run.stdout and "positions >= 16: n/a" in text_run.stdout
          and "tokens/s" in text_run.stdout, text_run.stdout + text_run.stderr)


def corpus_document(doc, filler):
    """corpus.passkey_document's own text for the dumped document's key, filler sentences and depth."""
    sentences = [filler[i] for i in doc["filler"]]

    class Scripted:  # answers passkey_document's draws with the document's choices
        def __init__(self):
            self.randints, self.chosen = 0, iter(sentences)

        def randint(self, low, high):
            self.randints += 1
            if self.randints == 1:
                return int(doc["key"])
            if self.randints == 2:  # the total length: fixed part + exactly the chosen sentences
                return fixed + sum(len(" " + s) for s in sentences)
            return doc["sentences_before"]

        def choice(self, options):
            return next(self.chosen, options[-1])  # after the last sentence: any one, which no longer fits

    key = doc["key"]
    fixed = sum(len(t) for t in (f" The pass key is {key}. Remember it.", " What is the pass key? The pass key is",
                                 " " + key, "."))
    return corpus.passkey_document(Scripted(), len, 10 ** 9)  # count_tokens = characters: exact arithmetic


def check_passkey(binary, work):
    dump = os.path.join(work, "docs.jsonl")
    run = dsmoe(binary, "passkey", "-m", SHIPPED, "--ctx", "256", "--trials", "4", "--seed", "5", "--json",
                "--dump", dump)
    if run.returncode != 0:
        return check("passkey --ctx 256 exits 0", False, run.stderr)
    got = json.loads(run.stdout)
    docs = [json.loads(line) for line in open(dump)]
    check("20 documents, 4 per depth", got["total"] == 20 == len(docs)
          and all(d["total"] == 4 for d in got["per_depth"]), str(got["per_depth"]))
    check(f"the shipped model retrieves >= 70% at --ctx 256 ({got['accuracy']:.0%})", got["accuracy"] >= 0.7,
          json.dumps(got["per_depth"]))
    filler = corpus.read_filler()
    same = all(corpus_document(d, filler) == [(d["text"], False), (" " + d["key"], True), (".", False)] for d in docs)
    check("every document is corpus.passkey_document's text for its key, filler and depth", same)
    check("prompt + answer fit in --ctx 256", all(len(d["prompt"]) + len(d["answer"]) <= 256 for d in docs))
    check("the needle is after round(depth x sentences) filler sentences",
          all(d["sentences_before"] == math.floor(d["depth"] * len(d["filler"]) + 0.5) for d in docs))
    again = os.path.join(work, "again.jsonl")  # trial 0 alone: a trial does not depend on the others
    dsmoe(binary, "passkey", "-m", SHIPPED, "--ctx", "256", "--trials", "1", "--seed", "5", "--dump", again)
    check("the same seed gives the same documents and answers",
          open(again).read().splitlines() == open(dump).read().splitlines()[:5])
    other = os.path.join(work, "other.jsonl")
    dsmoe(binary, "passkey", "-m", SHIPPED, "--ctx", "256", "--trials", "1", "--seed", "6", "--dump", other)
    check("another seed gives other keys", json.loads(open(other).readline())["key"] != docs[0]["key"])


def expect_error(binary, name, args, *needles):
    run = dsmoe(binary, *args)
    text = run.stdout + run.stderr
    ok = run.returncode == 1 and "error" in text.lower() and all(n in text for n in needles)
    check(f"error: {name}", ok, f"exit {run.returncode}: {text.strip()[-300:]}")


def check_errors(binary, work):
    model = os.path.join(work, "tiny")
    make_tiny_model(model)
    text_file, empty = os.path.join(work, "text.txt"), os.path.join(work, "empty.txt")
    with open(text_file, "w") as f:
        f.write(TEXT)
    open(empty, "w").close()
    ppl = ["perplexity", "-m", model]
    expect_error(binary, "--ctx 1", ppl + ["-f", text_file, "--ctx", "1"], "--ctx 1")
    expect_error(binary, "--stride 0", ppl + ["-f", text_file, "--stride", "0"], "--stride 0")
    expect_error(binary, "--stride past the window", ppl + ["-f", text_file, "--ctx", "8", "--stride", "8"],
                 "--stride 8", "--ctx 8")
    expect_error(binary, "-b 0", ppl + ["-f", text_file, "-b", "0"], "--batch", "found 0")
    expect_error(binary, "a missing file", ppl + ["-f", os.path.join(work, "missing.txt")], "missing.txt", "-f")
    expect_error(binary, "empty text", ppl + ["-f", empty], "empty", "-f")
    pk = ["passkey", "-m", model]
    expect_error(binary, "--depths 1.5", pk + ["--depths", "0,1.5"], "--depths", "found 1.5")
    expect_error(binary, "--trials 0", pk + ["--trials", "0"], "--trials", "found 0")
    expect_error(binary, "--ctx too small for a document", pk + ["--ctx", "12"], "--ctx 12")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsmoe", required=True)
    parser.add_argument("--part", required=True, choices=["perplexity", "passkey", "errors"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dsmoe_long_context_") as work:
        {"perplexity": check_perplexity, "passkey": check_passkey, "errors": check_errors}[args.part](args.dsmoe, work)
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
