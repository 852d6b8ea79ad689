"""Trains the small DeepSeek-MoE on the KJV books + passkey documents; resumes from its checkpoint.

AdamW, linear warmup then cosine decay to 10% of the peak, batches of 256-token sequences drawn as a pure
function of (seed, step) (data.py). Every --checkpoint-seconds the model, optimizer, step, RNG state and
loss log go to RUN/checkpoint.pt (written to a temporary file, then renamed), and RUN/loss.csv is
rewritten from the log; a restarted run continues from the checkpoint with identical batches. At the end
RUN/final.pt holds the weights, config and log, and a later run does nothing. RUN is --run-dir, by default
the work directory (which holds corpus.json and tokenizer/).

run.sh makes the shipped model in two stages, each one run of this script (README.md has the probes behind
the numbers): "induction" from scratch (90% rows of copy documents, 10% packed passkey rows, lr 5e-4, 3000
steps), which forms the induction heads that copying a key from far back needs, then "language" from its
weights (--init: fresh optimizer, own schedule; 10% copy rows, 20% packed passkey rows, the rest books,
lr 1e-3, 800 steps). A single stage on the books (the defaults) learns the passkey format but never copies.

CLI: python3 train.py --work work [--run-dir DIR] [--init final.pt] [--steps N] [--batch-size B] ...
"""
import argparse
import csv
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from data import SEQ_LEN, TARGET_ANSWER, TARGET_NOISE, Data, Mix
from model import DeepseekForCausalLM, count_parameters


def model_config(tok, args):
    """HF config keys the model code reads (export.py adds the remaining keys of the real config)."""
    return {
        "vocab_size": tok.vocab_size, "hidden_size": args.hidden, "intermediate_size": args.intermediate,
        "moe_intermediate_size": args.moe_intermediate, "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads, "num_key_value_heads": args.heads,
        "n_routed_experts": args.experts, "num_experts_per_tok": args.top_k, "n_shared_experts": args.shared,
        "first_k_dense_replace": 1, "moe_layer_freq": 1, "norm_topk_prob": False, "scoring_func": "softmax",
        "aux_loss_alpha": args.aux_loss_alpha, "seq_aux": True, "max_position_embeddings": args.seq_len,
        "rope_theta": 10000.0, "rope_scaling": rope_scaling(args), "rms_norm_eps": 1e-6, "attention_bias": False,
        "attention_dropout": 0.0, "hidden_act": "silu", "initializer_range": 0.02, "tie_word_embeddings": False,
        "bos_token_id": tok.bos_id, "eos_token_id": tok.eos_id,
    }


def rope_scaling(args):
    """The config's rope_scaling for --rope-scaling (None unless asked): PI as HF DeepSeek writes it, YaRN
    with every key transformers reads (rope_type and the older type both, so either reader finds it)."""
    if args.rope_scaling == "none":
        return None
    factor = float(args.rope_factor)
    if args.rope_scaling == "linear":
        return {"type": "linear", "factor": factor}
    return {"rope_type": "yarn", "type": "yarn", "factor": factor,
            "original_max_position_embeddings": args.rope_original, "beta_fast": 32.0, "beta_slow": 1.0}


# What a context-extension stage (--seq-len, --rope-scaling) may change in the config of its --init weights.
CONTEXT_KEYS = ("max_position_embeddings", "rope_scaling")


def learning_rate(step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


def make_optimizer(model, args):
    """Weight decay on the matrices of the blocks; none on norms, embeddings and the gate."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() == 2 and "embed_tokens" not in name and ".gate.weight" not in name else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95), eps=1e-8)


def sequence_loss(model, rows, weights=None):
    """(mean next-token cross-entropy, aux loss or None) over rows [B, S + 1]; given weights [B, S], the
    weighted mean sum(w * ce) / sum(w)."""
    rows = torch.from_numpy(rows)
    logits, aux = model(rows[:, :-1])
    logits, targets = logits.reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1)
    if weights is None:
        return F.cross_entropy(logits, targets), aux
    w = torch.from_numpy(weights).reshape(-1)
    return (F.cross_entropy(logits, targets, reduction="none") * w).sum() / w.sum(), aux


def batch_and_weights(data, args, step):
    """(rows, loss weights or None: every target counts once) of a step. Passkey answers weigh
    --answer-weight; the random halves of copy documents weigh nothing."""
    mix = Mix(args.passkey_fraction, args.copy_fraction, args.pack_passkeys, args.copy_alphabet)
    rows, kinds = data.batch(args.seed, step, args.batch_size, mix)
    if args.answer_weight == 1.0 and not (kinds == TARGET_NOISE).any():
        return rows, None
    weights = np.ones(kinds.shape, dtype=np.float32)
    weights[kinds == TARGET_ANSWER] = args.answer_weight
    weights[kinds == TARGET_NOISE] = 0.0
    return rows, weights


@torch.no_grad()
def validation_loss(model, rows, chunk=8):
    model.eval()
    total = 0.0
    for i in range(0, len(rows), chunk):
        loss, _ = sequence_loss(model, rows[i:i + chunk])
        total += float(loss) * len(rows[i:i + chunk])
    model.train()
    return total / len(rows)


def passkey_probe(model, data, n_docs):
    """Greedy exact-match passkey accuracy on n_docs fixed documents of about seq_len tokens."""
    import evaluate  # evaluate imports this module
    model.eval()
    result = evaluate.passkey(model, data, n_docs, seed=7, min_tokens=data.seq_len - 16)
    model.train()
    return result["exact_match"]


LOG_FIELDS = ["step", "tokens", "lr", "train_loss", "aux_loss", "val_loss", "passkey_exact", "elapsed_s",
              "tokens_per_s"]


def write_csv(path, log):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=LOG_FIELDS)
        w.writeheader()
        for row in log:
            w.writerow({k: row.get(k, "") for k in LOG_FIELDS})
    os.replace(tmp, path)


def save_checkpoint(path, state):
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def _run_settings(args):
    """The arguments that change the run (not where it lives, how often it saves or how many threads)."""
    return {k: v for k, v in args.items() if k not in ("work", "run_dir", "checkpoint_seconds", "threads", "stop_at")}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--work", required=True, help="corpus.json and tokenizer/ (run.sh's earlier steps)")
    p.add_argument("--run-dir", default=None, help="checkpoint.pt, loss.csv, final.pt (default: --work)")
    p.add_argument("--init", default=None, help="start from this final.pt's weights (same config)")
    p.add_argument("--stage-name", default="language", help="what this run is for, in the model card")
    p.add_argument("--seed", type=int, default=1611)
    p.add_argument("--steps", type=int, default=800, help="length of the learning-rate schedule")
    p.add_argument("--stop-at", type=int, default=None,
                   help="end the stage after this many steps of the --steps schedule (default: all of it)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=40)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--passkey-fraction", type=float, default=0.2)
    p.add_argument("--copy-fraction", type=float, default=0.0, help="rows packed with copy documents")
    p.add_argument("--copy-alphabet", type=int, default=0,
                   help="copy documents use the digits, ' ' and this many most frequent tokens (0: all)")
    p.add_argument("--pack-passkeys", action="store_true", help="several passkey documents per passkey row")
    p.add_argument("--answer-weight", type=float, default=1.0, help="loss weight of passkey answer tokens")
    p.add_argument("--seq-len", type=int, default=SEQ_LEN, help="tokens per row (after BOS); with --init, a "
                   "context-extension stage may raise it (max_position_embeddings follows)")
    p.add_argument("--rope-scaling", choices=("none", "linear", "yarn"), default="none",
                   help="RoPE scaling written to the config: linear (PI) or yarn (transformers' flavour)")
    p.add_argument("--rope-factor", type=float, default=4.0, help="the scaling factor s")
    p.add_argument("--rope-original", type=int, default=SEQ_LEN,
                   help="YaRN's original_max_position_embeddings (the context the --init weights were trained at)")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--intermediate", type=int, default=768)
    p.add_argument("--moe-intermediate", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--experts", type=int, default=16)
    p.add_argument("--top-k", type=int, default=2)
    p.add_argument("--shared", type=int, default=1)
    p.add_argument("--aux-loss-alpha", type=float, default=0.01)
    p.add_argument("--val-every", type=int, default=50)
    p.add_argument("--val-windows", type=int, default=8, help="held-out windows scored during training")
    p.add_argument("--passkey-probe", type=int, default=0,
                   help="passkey documents (~250 tokens, fixed) scored with the validation loss")
    p.add_argument("--checkpoint-seconds", type=float, default=120.0)
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    run_dir = args.run_dir or args.work
    os.makedirs(run_dir, exist_ok=True)
    final_path = os.path.join(run_dir, "final.pt")
    ckpt_path = os.path.join(run_dir, "checkpoint.pt")
    csv_path = os.path.join(run_dir, "loss.csv")
    if os.path.exists(final_path):
        print(f"train: {final_path} exists; nothing to do")
        return
    data = Data(args.work, args.seq_len)
    cfg = model_config(data.tok, args)
    torch.manual_seed(args.seed)
    model = DeepseekForCausalLM(cfg)
    earlier = []  # the runs this one continues, oldest first: {"args", "log", "step", "elapsed_s"}
    if args.init:
        init = torch.load(args.init)
        same = lambda c: {k: v for k, v in c.items() if k not in CONTEXT_KEYS}  # noqa: E731
        if same(init["config"]) != same(cfg):
            raise SystemExit(f"{args.init} has another model config than this run's")
        model.load_state_dict(init["model"])
        earlier = init.get("earlier", []) + [{k: init[k] for k in ("args", "log", "step", "elapsed_s")}]
    optimizer = make_optimizer(model, args)
    step, log, elapsed = 0, [], 0.0
    if os.path.exists(ckpt_path):
        state = torch.load(ckpt_path)
        if state["config"] != cfg or _run_settings(state["args"]) != _run_settings(vars(args)):
            raise SystemExit(f"{ckpt_path} was made with other settings; move it away to start afresh")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        step, log, elapsed = state["step"], state["log"], state["elapsed_s"]
        print(f"train: resumed at step {step} ({elapsed:.0f} s trained so far)")
    total, active = count_parameters(cfg)
    print(f"train: {total} parameters ({active} active per token), {args.steps} steps of "
          f"{args.batch_size}x{args.seq_len} tokens, {len(data.train)} training tokens", flush=True)
    val_rows = data.validation_rows(args.val_windows)
    last_step = min(args.steps, args.stop_at or args.steps)
    tokens_per_step = args.batch_size * args.seq_len

    def checkpoint():
        save_checkpoint(ckpt_path, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                    "torch_rng": torch.get_rng_state(), "step": step, "log": log,
                                    "elapsed_s": elapsed, "config": cfg, "args": vars(args)})
        write_csv(csv_path, log)

    model.train()
    last_save = time.time()
    while step < last_step:
        t0 = time.time()
        lr = learning_rate(step, args)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss, aux = sequence_loss(model, *batch_and_weights(data, args, step))
        optimizer.zero_grad(set_to_none=True)
        (loss + aux).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        optimizer.step()
        step += 1
        dt = time.time() - t0
        elapsed += dt
        row = {"step": step, "tokens": step * tokens_per_step, "lr": f"{lr:.3e}", "train_loss": f"{float(loss):.4f}",
               "aux_loss": f"{float(aux):.5f}", "elapsed_s": f"{elapsed:.1f}",
               "tokens_per_s": f"{tokens_per_step / dt:.0f}"}
        if step % args.val_every == 0 or step == last_step:
            row["val_loss"] = f"{validation_loss(model, val_rows):.4f}"
            if args.passkey_probe:
                row["passkey_exact"] = f"{passkey_probe(model, data, args.passkey_probe):.3f}"
        log.append(row)
        print(" ".join(f"{k}={row[k]}" for k in LOG_FIELDS if k in row), flush=True)
        if time.time() - last_save >= args.checkpoint_seconds or step == last_step:
            checkpoint()
            last_save = time.time()
    save_checkpoint(final_path, {"model": model.state_dict(), "config": cfg, "log": log, "elapsed_s": elapsed,
                                 "step": step, "tokens": step * tokens_per_step, "args": vars(args),
                                 "earlier": earlier})
    print(f"train: done, {step} steps, {elapsed:.0f} s -> {final_path}")


if __name__ == "__main__":
    main()
