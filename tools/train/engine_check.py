"""Does dsmoe compute what model.py computes for an exported model with RoPE scaling, at the full context?

Feeds the same rows of ids (a held-out window of the books and a passkey document, both max_position_embeddings
long) to `dsmoe logits` and to model.py on the exported BF16 weights, and reports max |diff| / max |logit| and
argmax agreement, over all positions and over the positions past 256 (beyond the original context).

model.py forms RoPE angles as HF does, p * inv_freq rounded to float32 (for linear: (p / s) * inv_freq);
dsmoe forms p * inv_freq in double. At positions near 1024 the float32 angle is off by up to ~3e-5 rad, so
the script also scores model.py with double angles (the same inv_freq and attention factor) to tell angle
rounding apart from a difference in the scaling itself: the engine should agree with that to ~1e-6.

CLI: python3 engine_check.py --model DIR --dsmoe ../../build-ft/dsmoe --work work [--out DIR/engine_check.json]
"""
import argparse
import json
import os
import random
import subprocess
import tempfile

import numpy as np
import torch

import model as model_mod
from data import Data
from weights import load_exported


def rope_cos_sin_double(n_positions, head_dim, theta, dtype, scaling=None):
    """model.rope_cos_sin with the angles p * inv_freq formed in double (inv_freq and factor as float32),
    as dsmoe's rope_table does."""
    kind = model_mod.rope_scaling_type(scaling)
    factor = 1.0
    if kind == "yarn":
        inv_freq, factor = model_mod.rope_yarn_inv_freq(head_dim, theta, scaling)
    else:
        inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2).float() / head_dim))
        if kind == "linear":
            inv_freq = inv_freq / float(scaling["factor"])  # exact for a power-of-two factor
    angles = torch.outer(torch.arange(n_positions, dtype=torch.float64), inv_freq.double())
    emb = torch.cat((angles, angles), dim=-1)
    m = float(np.float32(factor))
    return (emb.cos() * m).to(dtype), (emb.sin() * m).to(dtype)


def rows_for(cfg, data):
    """[2, n] ids: BOS + a held-out window, and a passkey document padded with filler text to n ids."""
    n = cfg["max_position_embeddings"]
    books = [data.tok.bos_id] + data.validation[:n - 1].tolist()
    ids, _, _ = data.passkey(random.Random(99), n - 1, n - 16)
    ids = ids + data.validation[n:n + n - len(ids)].tolist()  # fill to n with held-out text
    return np.array([books, ids[:n]], dtype=np.int64)


def compare(got, want, start=0):
    got, want = got[:, start:], want[:, start:]
    return {"max_abs_diff_over_max_logit": float(np.max(np.abs(got - want)) / np.max(np.abs(want))),
            "argmax_agreement": float(np.mean(got.argmax(-1) == want.argmax(-1)))}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="exported directory (export.py)")
    p.add_argument("--dsmoe", required=True, help="the dsmoe binary")
    p.add_argument("--work", required=True, help="corpus.json and tokenizer/")
    p.add_argument("--out", default=None, help="default: MODEL/../<name>.engine_check.json")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model, cfg = load_exported(args.model)
    data = Data(args.work)
    rows = rows_for(cfg, data)
    with tempfile.TemporaryDirectory() as tmp:
        ids_file = os.path.join(tmp, "ids.txt")
        with open(ids_file, "w") as f:
            for row in rows:
                f.write(",".join(str(int(i)) for i in row) + "\n")
        subprocess.run([args.dsmoe, "logits", "-m", args.model, "--ids-file", ids_file, "--out", tmp], check=True)
        engine = np.load(os.path.join(tmp, "logits.npy"))
    with torch.no_grad():
        want = model(torch.from_numpy(rows))[0].numpy()
        original = model_mod.rope_cos_sin
        model_mod.rope_cos_sin = rope_cos_sin_double
        try:
            want_double = model(torch.from_numpy(rows))[0].numpy()
        finally:
            model_mod.rope_cos_sin = original
    result = {"model": args.model, "rope_scaling": cfg.get("rope_scaling"), "positions": int(rows.shape[1]),
              "rows": ["held-out window", "passkey document + held-out text"]}
    for name, ref in (("model_py_float32_angles", want), ("model_py_double_angles", want_double)):
        result[name] = {"all": compare(engine, ref), "past_256": compare(engine, ref, 256)}
    result["model_py_float32_vs_double_angles"] = compare(want, want_double)
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.model)),
                                   os.path.basename(os.path.normpath(args.model)) + ".engine_check.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
