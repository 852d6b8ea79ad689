"""Validation loss/perplexity on the held-out books and passkey accuracy, written to work/eval.json.

Weights are scored as trained (float32) and as shipped (rounded to BF16, computed in float32).
Passkey: fresh documents (a seed the trainer never uses), the answer " 48213" is the 6 tokens ' ' and five
digits. Greedy decoding reproduces the answer exactly iff the argmax at every answer position is the
answer token when the true answer is fed in (greedy follows the same path until its first wrong token),
so one teacher-forced pass per document gives the greedy exact-match accuracy; a few documents are also
decoded for real as a check and shown as samples.

CLI: python3 evaluate.py --work work [--run-dir RUN] [--checkpoint RUN/checkpoint.pt] [--out RUN/eval.json]
"""
import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch

from data import Data
from train import sequence_loss
from weights import load_trained, round_to_bf16

SAMPLE_PROMPTS = ["In the beginning", "And the LORD said unto Moses,", "Blessed are the",
                  "User: Who made the heaven and the earth?\n\nAssistant:"]


@torch.no_grad()
def validation(model, data, chunk=8):
    rows = data.validation_rows()
    total = 0.0
    for i in range(0, len(rows), chunk):
        loss, _ = sequence_loss(model, rows[i:i + chunk])
        total += float(loss) * len(rows[i:i + chunk])
    loss = total / len(rows)
    return {"loss": round(loss, 4), "perplexity": round(math.exp(loss), 2), "tokens": int(rows[:, 1:].size)}


@torch.no_grad()
def passkey(model, data, n_docs, seed, min_tokens, chunk=8):
    """Exact-match greedy accuracy, per-digit accuracy and mean length over n_docs fresh documents."""
    rng = random.Random(seed)
    docs = [data.passkey(rng, data.seq_len - 1, min_tokens) for _ in range(n_docs)]
    exact, digits, lengths = 0, 0, []
    for i in range(0, n_docs, chunk):
        group = docs[i:i + chunk]
        width = max(len(ids) for ids, _, _ in group)
        batch = torch.full((len(group), width), data.tok.eos_id, dtype=torch.long)  # right padding
        for r, (ids, _, _) in enumerate(group):
            batch[r, :len(ids)] = torch.tensor(ids)
        logits, _ = model(batch)
        for r, (ids, mask, _) in enumerate(group):
            positions = [p for p, m in enumerate(mask) if m]
            predicted = logits[r, [p - 1 for p in positions]].argmax(-1).tolist()
            wanted = [ids[p] for p in positions]
            exact += predicted == wanted
            digits += sum(a == b for a, b in zip(predicted[1:], wanted[1:]))  # the five digit tokens
            lengths.append(len(ids))
    return {"documents": n_docs, "exact_match": exact / n_docs, "digit_accuracy": digits / (5 * n_docs),
            "mean_tokens": round(float(np.mean(lengths)), 1), "max_tokens": max(lengths)}


def greedy_passkey_samples(model, data, n, seed, min_tokens):
    """Really decode n documents greedily; (samples, all agree with the teacher-forced verdict)."""
    rng = random.Random(seed)
    samples, agree = [], True
    for _ in range(n):
        ids, mask, key = data.passkey(rng, data.seq_len - 1, min_tokens)
        start = mask.index(True)
        new = model.greedy(ids[:start], sum(mask))
        answer = data.tok.decode(new)
        logits, _ = model(torch.tensor([ids]))
        forced = logits[0, start - 1:start - 1 + sum(mask)].argmax(-1).tolist() == ids[start:start + sum(mask)]
        agree = agree and (forced == (new == ids[start:start + sum(mask)]))
        samples.append({"key": key, "greedy": answer, "prompt_tokens": start})
    return samples, agree


def text_samples(model, data, n_new):
    out = []
    for prompt in SAMPLE_PROMPTS:
        ids = [data.tok.bos_id] + data.tok.encode(prompt)
        new = model.greedy(ids, n_new, stop=lambda t: t[-1] == data.tok.eos_id)
        out.append({"prompt": prompt, "greedy": data.tok.decode(new)})
    return out


def evaluate(model, data, args):
    t0 = time.time()
    result = {"validation_books": data.validation_books, "validation_float32": validation(model, data)}
    model.load_state_dict(round_to_bf16(model.state_dict()))  # as shipped from here on
    result["validation"] = validation(model, data)
    result["passkey_full_length"] = passkey(model, data, args.passkey_docs, args.seed, data.seq_len - 16)
    result["passkey_mixed_length"] = passkey(model, data, args.passkey_docs, args.seed + 1, None)
    samples, agree = greedy_passkey_samples(model, data, 5, args.seed + 2, data.seq_len - 16)
    result["passkey_greedy_samples"] = samples
    result["greedy_matches_teacher_forced"] = agree
    result["text_samples"] = text_samples(model, data, args.sample_tokens)
    result["eval_seconds"] = round(time.time() - t0, 1)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--work", required=True)
    p.add_argument("--run-dir", default=None, help="the training run (train.py --run-dir); default: --work")
    p.add_argument("--checkpoint", default=None, help="default: RUN/final.pt")
    p.add_argument("--out", default=None, help="default: RUN/eval.json")
    p.add_argument("--passkey-docs", type=int, default=100)
    p.add_argument("--seed", type=int, default=20260101)
    p.add_argument("--sample-tokens", type=int, default=40)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    run_dir = args.run_dir or args.work
    model, cfg, state = load_trained(run_dir, args.checkpoint)
    data = Data(args.work, cfg["max_position_embeddings"])  # rows and passkeys at the trained length
    result = {"step": state["step"], **evaluate(model, data, args)}
    out = args.out or os.path.join(run_dir, "eval.json")
    with open(out + ".tmp", "w") as f:  # run.sh skips evaluation when eval.json exists: write it whole
        json.dump(result, f, indent=2)
        f.write("\n")
    os.replace(out + ".tmp", out)
    v, pk = result["validation"], result["passkey_full_length"]
    print(f"evaluate: step {result['step']}: validation loss {v['loss']} (perplexity {v['perplexity']}) on "
          f"{v['tokens']} tokens; passkey exact match {pk['exact_match']:.2f} at ~{pk['mean_tokens']} tokens "
          f"-> {out}")


if __name__ == "__main__":
    main()
