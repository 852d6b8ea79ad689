"""Context extension, scored: held-out perplexity at several window lengths and passkey retrieval at several
document lengths, for trained weights with a chosen RoPE scaling (README.md "Context extension").

Each MODEL argument is LABEL=PATH (a train.py final.pt or a checkpoint committed like it). Weights trained
without RoPE scaling (the shipped 256-token model) are scored zero-shot three ways: as trained ("none"),
with PI (positions / 4) and with YaRN (factor 4 from 256, transformers' flavour); weights trained with a
scaling are scored with their own config. All weights are rounded to BF16 first (as exported), so the
256-token perplexity of the original is evaluate.py's 53.5.

Perplexity: the held-out books cut into consecutive non-overlapping windows of L tokens after BOS (63 of
256, 15 of 1024, 7 of 2048: about the same 15-16k tokens), mean cross-entropy over every target. Passkey:
fresh documents of L - 16 to L tokens (evaluate.passkey: teacher-forced greedy exact match).

Writes OUT/<label>-<scaling>.json per scored variant and OUT/summary.json; prints a markdown table.

CLI: python3 extend_eval.py --work work --out work/extend original=checkpoints/language-4layers.pt \
         pi=work/extend-pi/final.pt yarn=work/extend-yarn/final.pt
"""
import argparse
import json
import math
import os
import time

import torch

import evaluate
from data import Data
from model import DeepseekForCausalLM
from train import sequence_loss
from weights import round_to_bf16

ZERO_SHOT = {
    "none": None,
    "pi": {"type": "linear", "factor": 4.0},
    "yarn": {"rope_type": "yarn", "type": "yarn", "factor": 4.0, "original_max_position_embeddings": 256,
             "beta_fast": 32.0, "beta_slow": 1.0},
}


@torch.no_grad()
def perplexity(model, data, length, chunk=4):
    rows = data.validation_rows(length=length)
    total = 0.0
    for i in range(0, len(rows), chunk):
        loss, _ = sequence_loss(model, rows[i:i + chunk])
        total += float(loss) * len(rows[i:i + chunk])
    loss = total / len(rows)
    return {"windows": len(rows), "tokens": int(rows[:, 1:].size), "loss": round(loss, 4),
            "perplexity": round(math.exp(loss), 2)}


def variants(path):
    """[(scaling name, config)] to score the weights at path with."""
    state = torch.load(path)
    cfg = state["config"]
    if cfg.get("rope_scaling") is None:
        return state, [(name, {**cfg, "rope_scaling": scaling}) for name, scaling in ZERO_SHOT.items()]
    kind = cfg["rope_scaling"].get("rope_type", cfg["rope_scaling"].get("type"))
    return state, [("pi" if kind == "linear" else kind, cfg)]


def score(state, cfg, data, args):
    model = DeepseekForCausalLM(cfg)
    model.load_state_dict(round_to_bf16(state["model"]))
    model.eval()
    out = {"rope_scaling": cfg.get("rope_scaling"), "max_position_embeddings": cfg["max_position_embeddings"],
           "perplexity": {}, "passkey": {}}
    for length in args.ppl_lengths:
        out["perplexity"][str(length)] = perplexity(model, data, length)
    for length in args.passkey_lengths:
        data.seq_len = length  # passkey documents default to seq_len tokens at most
        out["passkey"][str(length)] = evaluate.passkey(model, data, args.passkey_docs, args.seed, length - 16)
    return out


def table(results):
    ppl_lengths = list(next(iter(results.values()))["perplexity"])
    pk_lengths = list(next(iter(results.values()))["passkey"])
    head = (["model", "RoPE"] + [f"ppl {n}" for n in ppl_lengths] + [f"passkey {n}" for n in pk_lengths])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, r in results.items():
        label, scaling = key.rsplit("-", 1)
        cells = [label, scaling] + [f"{r['perplexity'][n]['perplexity']:.1f}" for n in ppl_lengths]
        cells += [f"{r['passkey'][n]['exact_match']:.0%} ({r['passkey'][n]['digit_accuracy']:.0%})"
                  for n in pk_lengths]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("models", nargs="+", metavar="LABEL=PATH")
    p.add_argument("--work", required=True, help="corpus.json and tokenizer/")
    p.add_argument("--out", required=True)
    p.add_argument("--ppl-lengths", type=int, nargs="+", default=[256, 1024, 2048])
    p.add_argument("--passkey-lengths", type=int, nargs="+", default=[256, 1024])
    p.add_argument("--passkey-docs", type=int, default=50)
    p.add_argument("--seed", type=int, default=20260101)  # evaluate.py's: never a training document
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    data = Data(args.work)
    results = {}
    for spec in args.models:
        label, path = spec.split("=", 1)
        state, todo = variants(path)
        for scaling, cfg in todo:
            key = f"{label}-{scaling}"
            file = os.path.join(args.out, key + ".json")
            if os.path.exists(file):  # resumable: a variant scored before is read back
                with open(file) as f:
                    results[key] = json.load(f)
                continue
            t0 = time.time()
            result = {"weights": path, "step": state["step"], **score(state, cfg, data, args)}
            result["eval_seconds"] = round(time.time() - t0, 1)
            with open(file + ".tmp", "w") as f:
                json.dump(result, f, indent=2)
                f.write("\n")
            os.replace(file + ".tmp", file)
            results[key] = result
            print(f"extend_eval: {key}: " + ", ".join(
                f"ppl@{n} {v['perplexity']}" for n, v in result["perplexity"].items()) + ", " + ", ".join(
                f"passkey@{n} {v['exact_match']:.2f}" for n, v in result["passkey"].items()), flush=True)
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    print(table(results))


if __name__ == "__main__":
    main()
