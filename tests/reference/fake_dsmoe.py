#!/usr/bin/python3
"""A stand-in for the dsmoe binary's `logits` subcommand, built on the NumPy reference.

It exists to test check_case.py itself: with DSMOE_FAKE_BREAK unset it must pass every case, and with
DSMOE_FAKE_BREAK=<what> it corrupts one output so the driver must fail. The "decode" logits are computed
by re-running the reference on each prefix, which is what a correct KV cache must reproduce.

Usage: fake_dsmoe.py logits -m MODELDIR --ids "1,2;3,4" --out OUTDIR [--hidden-states] [--routing]
                            [--prefill K]
DSMOE_FAKE_BREAK: logits | hidden | routing_experts | routing_weights | routing_slots | decode | crash
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_forward import forward, routing_arrays  # noqa: E402
from tiny_model import load_model  # noqa: E402


def parse_ids(text):
    rows = [[int(t) for t in row.split(",")] for row in text.split(";")]
    if len({len(r) for r in rows}) != 1:
        raise SystemExit("all --ids rows must have the same length")
    return np.array(rows, dtype=np.int64)


def decode_logits(cfg, weights, ids, prefill):
    """Logits of 'prefill K tokens, then one token at a time', via the reference on each prefix."""
    B, S = ids.shape
    out = np.zeros((B, S, cfg["vocab_size"]), np.float32)
    out[:, :prefill] = forward(cfg, weights, ids[:, :prefill])["logits"]
    for t in range(prefill, S):
        out[:, t] = forward(cfg, weights, ids[:, :t + 1])["logits"][:, t]
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["logits"])
    p.add_argument("-m", dest="model", required=True)
    p.add_argument("--ids", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--hidden-states", action="store_true")
    p.add_argument("--routing", action="store_true")
    p.add_argument("--prefill", type=int)
    args = p.parse_args()
    broken = os.environ.get("DSMOE_FAKE_BREAK", "")
    if broken == "crash":
        print("fake_dsmoe: simulated crash", file=sys.stderr)
        return 3

    cfg, weights = load_model(args.model)
    ids = parse_ids(args.ids)
    ref = forward(cfg, weights, ids)
    os.makedirs(args.out, exist_ok=True)
    logits = ref["logits"].copy()
    if broken == "logits":
        logits[0, -1, 0] += 1e-2 * np.abs(logits).max()
    np.save(os.path.join(args.out, "logits.npy"), logits)
    if args.hidden_states:
        hidden = ref["hidden_states"].copy()
        if broken == "hidden":
            hidden[1] *= 1.001
        np.save(os.path.join(args.out, "hidden_states.npy"), hidden)
    if args.routing:
        layers, experts, gate_w = routing_arrays(ref)
        np.save(os.path.join(args.out, "routing_layers.npy"), layers)
        if experts is not None:
            # Reverse the slots: the driver must not depend on slot order.
            experts, gate_w = experts[..., ::-1].copy(), gate_w[..., ::-1].copy()
            if broken == "routing_experts":
                n_experts = cfg["n_routed_experts"]
                experts[0, 0, 0, 0] = (experts[0, 0, 0, 0] + 1) % n_experts
            if broken == "routing_weights":
                gate_w[0, 0, 0, 0] += 0.01
            if broken == "routing_slots":  # pairs scrambled: weight moved to another expert
                gate_w[0, 0, 0, :] = gate_w[0, 0, 0, ::-1].copy()
            np.save(os.path.join(args.out, "routing_experts.npy"), experts.astype(np.int32))
            np.save(os.path.join(args.out, "routing_weights.npy"), gate_w.astype(np.float32))
    if args.prefill is not None:
        decode = decode_logits(cfg, weights, ids, args.prefill)
        if broken == "decode":
            decode[:, -1] = logits[:, 0]  # a cache that ignores history
        np.save(os.path.join(args.out, "logits_decode.npy"), decode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
