#!/usr/bin/python3
"""Size and perplexity of one model in every weight format dsmoe writes: the table in docs/gguf.md.

  tools/lab/format_table.py --dsmoe build/dsmoe [--model models/dsmoe-kjv-9m] [--text work/heldout.txt]
                            [--ctx 256] [--out docs/gguf/format_table.json]

Each type is made with `dsmoe quantize MODEL OUT --type T` from the model as shipped (HF, BF16), and scored with
`dsmoe perplexity -f TEXT --ctx N --json` (non-overlapping windows with BOS). The text defaults to the shipped
model's held-out books (tools/train/heldout_text.py; needs Debian's bible-kjv). Prints a Markdown table and writes
the raw numbers as JSON.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TYPES = ["f32", "f16", "bf16", "q8_0", "q6_k", "q5_k_m", "q5_k_s", "q5_1", "q5_0", "q4_k_m", "q4_k_s", "q4_1", "q4_0"]


def perplexity(dsmoe, model, text, ctx):
    out = subprocess.run([dsmoe, "perplexity", "-m", model, "-f", text, "--ctx", str(ctx), "--json"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsmoe", required=True)
    parser.add_argument("--model", default=os.path.join(ROOT, "models", "dsmoe-kjv-9m"))
    parser.add_argument("--text")
    parser.add_argument("--ctx", type=int, default=256)
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "gguf", "format_table.json"))
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="dsmoe_formats_")
    text = args.text
    if text is None:
        text = os.path.join(work, "heldout.txt")
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "train", "heldout_text.py"), "--out", text],
                       check=True, cwd=os.path.join(ROOT, "tools", "train"))
    rows = []
    for file_type in TYPES:
        path = os.path.join(work, f"model-{file_type}.gguf")
        subprocess.run([args.dsmoe, "quantize", args.model, path, "--type", file_type], check=True,
                       capture_output=True)
        result = perplexity(args.dsmoe, path, text, args.ctx)
        rows.append({"type": file_type, "bytes": os.path.getsize(path), "perplexity": result["perplexity"],
                     "perplexity_se": result["perplexity_se"], "nll_mean": result["nll_mean"],
                     "tokens": result["tokens"]})
        os.remove(path)
        print(f"{file_type}: {rows[-1]['perplexity']:.4f}", file=sys.stderr)
    shipped = perplexity(args.dsmoe, args.model, text, args.ctx)
    base = next(r for r in rows if r["type"] == "f32")
    print(f"| type | file size | bits/weight | perplexity | change vs F32 |")
    print(f"|---|---|---|---|---|")
    params = base["bytes"] / 4  # F32: 4 bytes a weight (the metadata is a rounding error here)
    for r in rows:
        change = 100 * (r["perplexity"] / base["perplexity"] - 1)
        print(f"| {r['type'].upper()} | {r['bytes'] / 2**20:.2f} MiB | {8 * r['bytes'] / params:.2f} | "
              f"{r['perplexity']:.4f} ± {r['perplexity_se']:.4f} | {change:+.2f}% |")
    print(f"\nshipped HF BF16 folder: {shipped['perplexity']:.4f} (the F32/F16/BF16 GGUFs hold the same values)")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"model": os.path.relpath(args.model, ROOT), "ctx": args.ctx, "text_tokens": base["tokens"],
                   "shipped_hf_perplexity": shipped["perplexity"], "rows": rows}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
