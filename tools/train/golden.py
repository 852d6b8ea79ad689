"""Golden logits and greedy continuations of an exported model, for dsmoe's end-to-end test.

Loads the EXPORTED BF16 weights back (weights.load_exported), computes in float32 with model.py (the HF
math, routed experts summed in id order) and writes into --out:
  <name>.json                   prompts, ids, greedy continuations, file names (format: tests/golden/README.md)
  <name>.prompt<i>.logits.npy   float32 [n_ids, vocab] logits of every prompt position
and, in the json, passkey documents of about 250 tokens with the greedy answer the PyTorch model gives
(ids only: long prompts' logits would be megabytes), so the engine's retrieval is checked end to end.

CLI: python3 golden.py --model ../../models/dsmoe-kjv-9m --out ../../tests/golden
"""
import argparse
import hashlib
import json
import os

import random

import numpy as np
import torch

import corpus as corpus_mod
from model import MoEGate
from tokenizer import Tokenizer
from weights import load_exported

PROMPTS = [
    "In the beginning God created the heaven and the earth.",
    "And the LORD spake unto Moses, saying,",
    "User: Who made the heaven and the earth?\n\nAssistant:",
]
N_GREEDY = 10
MAX_POSITIONS = 24
PASSKEY_DOCUMENTS, PASSKEY_SEED, PASSKEY_MAX_TOKENS = 8, 4242, 255


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@torch.no_grad()
def smallest_routing_margin(model, ids):
    """Smallest gap between the k-th and (k+1)-th gate probability over all MoE layers and positions: how
    far the prompt is from a routing near-tie, where float32 rounding differences could change experts."""
    gaps = []

    def hook(gate, inputs, _):
        x = inputs[0].reshape(-1, inputs[0].shape[-1])
        scores = torch.nn.functional.linear(x, gate.weight).softmax(dim=-1)
        top = torch.topk(scores, gate.top_k + 1, dim=-1).values
        gaps.append(float((top[:, -2] - top[:, -1]).min()))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, MoEGate)]
    try:
        model(torch.tensor([ids]))
    finally:
        for h in handles:
            h.remove()
    return min(gaps)


@torch.no_grad()
def greedy(model, ids, n):
    """n argmax steps (EOS not special); (new ids, top-1 minus top-2 logit at each step)."""
    ids, new, margins = list(ids), [], []
    for _ in range(n):
        logits, _ = model(torch.tensor([ids]))
        top = torch.topk(logits[0, -1], 2)
        new.append(int(top.indices[0]))
        margins.append(round(float(top.values[0] - top.values[1]), 5))
        ids.append(new[-1])
    return new, margins


def passkey_prompts(model, tok, max_tokens=PASSKEY_MAX_TOKENS):
    """Passkey documents cut before the answer, with the model's greedy answer (len(answer) tokens); about
    max_tokens long (the trained context less one)."""
    rng = random.Random(PASSKEY_SEED)
    count = lambda text: len(tok.encode(text))  # noqa: E731
    out = []
    for _ in range(PASSKEY_DOCUMENTS):
        segments = corpus_mod.passkey_document(rng, count, max_tokens, max_tokens - 15)
        text, key = segments[0][0], segments[1][0].strip()
        ids = [tok.bos_id] + tok.encode(text)
        answer = tok.encode(segments[1][0])
        new, margins = greedy(model, ids, len(answer))
        out.append({"text": text, "key": key, "ids": ids, "answer_ids": answer, "greedy_ids": new,
                    "greedy_text": tok.decode(new), "greedy_margins": margins, "retrieved": new == answer})
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="exported model directory")
    p.add_argument("--work", required=False, help="ignored (the first run.sh passed it)")
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model, cfg = load_exported(args.model)
    tok = Tokenizer.load(os.path.join(args.model, "tokenizer.json"))
    name = os.path.basename(os.path.normpath(args.model))
    os.makedirs(args.out, exist_ok=True)
    prompts = []
    for i, text in enumerate(PROMPTS):
        ids = [tok.bos_id] + tok.encode(text)
        if len(ids) > MAX_POSITIONS:
            raise ValueError(f"prompt {i} has {len(ids)} ids, over {MAX_POSITIONS}")
        with torch.no_grad():
            logits, _ = model(torch.tensor([ids]))
        logits_file = f"{name}.prompt{i}.logits.npy"
        np.save(os.path.join(args.out, logits_file), logits[0].numpy().astype("<f4"))
        new, margins = greedy(model, ids, N_GREEDY)
        prompts.append({"text": text, "ids": ids, "logits_file": logits_file, "logits_shape": list(logits[0].shape),
                        "greedy_ids": new, "greedy_text": tok.decode(new), "greedy_margins": margins,
                        "smallest_routing_margin": float(f"{smallest_routing_margin(model, ids):.3e}")})
    golden = {
        "model": f"models/{name}",
        "model_safetensors_sha256": sha256(os.path.join(args.model, "model.safetensors")),
        "computed_by": "tools/train/golden.py: PyTorch, float32 arithmetic on the BF16 weights of the export",
        "vocab_size": cfg["vocab_size"],
        "bos_token_id": cfg["bos_token_id"],
        "eos_token_id": cfg["eos_token_id"],
        "prompts": prompts,
        "passkeys": passkey_prompts(model, tok, cfg["max_position_embeddings"] - 1),
    }
    with open(os.path.join(args.out, f"{name}.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, indent=2, ensure_ascii=False)
        f.write("\n")
    retrieved = sum(d["retrieved"] for d in golden["passkeys"])
    print(f"golden: {len(prompts)} prompts of {[len(q['ids']) for q in prompts]} ids, "
          f"{len(golden['passkeys'])} passkey documents ({retrieved} retrieved) -> {args.out}/{name}.json")


if __name__ == "__main__":
    main()
