"""Does a fresh model.py model learn to copy (form an induction head), and after how many steps?

Rows of SEQ tokens hold documents [n random ids from an alphabet of --alphabet ids, the same n ids again];
the loss counts only the copied halves, and every --every steps the accuracy on the last document's copy is
printed. Measured (2 layers, hidden 128, 4 experts, 256-token rows of four 32+32 documents, batch 16,
AdamW 1e-3): alphabet 512 copies perfectly after 100 steps (2 threads, 1 min); with alphabet 4094 a
control like it did not copy at all after 200 steps. The shipped
6-layer model continued from its scripture weights did not learn to copy either way (README.md), so grow
this probe towards its shape to find what stops the circuit.

CLI: python3 copy_probe.py [--layers 2] [--hidden 128] [--experts 4] [--alphabet 512] [--steps 400]
"""
import argparse
import time
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F

from model import DeepseekForCausalLM
from train import model_config


def config(args):
    """train.model_config for a model of the probe's shape over the alphabet (+ BOS/EOS, never drawn)."""
    tok = SimpleNamespace(vocab_size=args.alphabet + 2, bos_id=args.alphabet, eos_id=args.alphabet + 1)
    shape = SimpleNamespace(**vars(args), intermediate=3 * args.hidden, moe_intermediate=args.hidden // 2, heads=4,
                            top_k=2, shared=1, aux_loss_alpha=0.0)
    return {**model_config(tok, shape), "max_position_embeddings": args.seq}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--experts", type=int, default=4)
    p.add_argument("--alphabet", type=int, default=512)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--half", type=int, default=32, help="random ids in each half of a document")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--every", type=int, default=50)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = DeepseekForCausalLM(config(args))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1)
    rng = np.random.default_rng(0)
    docs, doc_len = args.seq // (2 * args.half), 2 * args.half
    copied = torch.zeros(docs, doc_len, dtype=torch.bool)
    copied[:, args.half + 1:] = True  # targets inside each copy, after its (unpredictable) first id
    copied = copied.reshape(-1)[1:]  # target t is id t + 1
    t0 = time.time()
    for step in range(1, args.steps + 1):
        half = rng.integers(0, args.alphabet, (args.batch, docs, args.half))
        rows = torch.from_numpy(np.concatenate([half, half], axis=2).reshape(args.batch, docs * doc_len))
        logits, _ = model(rows[:, :-1])
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1), reduction="none")
        loss = ce.view(args.batch, -1)[:, copied].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % args.every == 0:
            last = slice((docs - 1) * doc_len + args.half, docs * doc_len - 1)  # the last document's copy
            acc = (logits[:, last].argmax(-1) == rows[:, last.start + 1:last.stop + 1]).float().mean()
            print(f"step {step}: copy loss {float(loss):.3f} (uniform {np.log(args.alphabet):.2f}), "
                  f"last copy accuracy {float(acc):.2f}, {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
