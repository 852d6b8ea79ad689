#!/usr/bin/python3
"""The long-context lab: what happens to the shipped model past its training length, measured.

One command makes docs/long-context.md and its plots:

    /usr/bin/python3 tools/lab/long_context.py --dsmoe build/dsmoe

For every model (the shipped one, plus any --extended NAME=DIR), every RoPE method (none, linear = position
interpolation, dynamic NTK, YaRN, llama3) and every context length (256 ... 4096), it runs
  dsmoe perplexity -f HELD_OUT --ctx N --json  (non-overlapping windows of N tokens, each starting with BOS)
  dsmoe passkey --ctx N --depths ... --trials K --json
with the method's scale factor set to N / the model's training length (1 at and below it), and records the
results in WORK/results.json, one entry per run, so an interrupted lab continues where it stopped. Then it
writes the page: tables, the targets of issue 11 checked against the numbers, and SVG plots (matplotlib).

Needs /usr/bin/python3 with python3-matplotlib, a built dsmoe, and the held-out KJV books (Debian's bible-kjv
and bible-kjv-text), extracted by tools/train/heldout_text.py.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
METHODS = ["none", "linear", "dynamic", "yarn", "llama3"]
METHOD_NAMES = {"none": "none (extrapolate)", "linear": "linear (PI)", "dynamic": "dynamic NTK", "yarn": "YaRN",
                "llama3": "llama3"}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dsmoe", default=os.path.join(ROOT, "build", "dsmoe"))
    p.add_argument("--model", default=os.path.join(ROOT, "models", "dsmoe-kjv-9m"))
    p.add_argument("--extended", action="append", default=[],
                   help="NAME=DIR: a context-extended model, evaluated with its own config's RoPE (method 'file')")
    p.add_argument("--lengths", default="256,512,1024,2048,4096")
    p.add_argument("--depths", default="0,0.25,0.5,0.75,1")
    p.add_argument("--trials", default="256:10,512:10,1024:10,2048:6,4096:4",
                   help="passkey documents per depth at each length (LENGTH:K,...)")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--train-ctx", type=int, default=256,
                   help="the shipped model's training length: perplexity past it is reported on its own")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--work", default=os.path.join(ROOT, "out", "lab"))
    p.add_argument("--docs", default=os.path.join(ROOT, "docs"))
    p.add_argument("--notes", default=os.path.join(HERE, "long_context_notes.md"),
                   help="hand-written findings appended to the page")
    p.add_argument("--only-page", action="store_true", help="write the page from the recorded results only")
    return p.parse_args()


def training_length(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    scaling = config.get("rope_scaling") or {}
    return int(scaling.get("original_max_position_embeddings") or config["max_position_embeddings"])


def rope_flags(method, length, trained):
    if method == "file":
        return []
    factor = max(1.0, length / trained)
    if method == "none" or factor == 1.0:
        return ["--rope-scaling", "none"]
    flags = ["--rope-scaling", method, "--rope-scale", f"{factor:g}"]
    if method in ("yarn", "llama3"):
        flags += ["--yarn-orig-ctx", str(trained)]
    return flags


class Lab:
    def __init__(self, args):
        self.args = args
        os.makedirs(args.work, exist_ok=True)
        self.path = os.path.join(args.work, "results.json")
        self.results = {}
        if os.path.exists(self.path):
            with open(self.path) as f:
                self.results = json.load(f)

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.results, f, indent=1, sort_keys=True)
        os.replace(tmp, self.path)

    def run(self, key, command):
        if key in self.results:
            return self.results[key]
        started = time.time()
        out = subprocess.run(command, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"lab: {' '.join(command)} failed ({out.returncode}):\n{out.stderr}")
        result = json.loads(out.stdout)
        result["wall_seconds"] = time.time() - started
        result["command"] = " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in command)
        self.results[key] = result
        self.save()
        print(f"{key}: {time.time() - started:.1f} s", flush=True)
        return result


def held_out_text(args):
    path = os.path.join(args.work, "heldout.txt")
    if not os.path.exists(path):
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "train", "heldout_text.py"), "--out", path],
                       check=True)
    return path


def measure(args, lab, models):
    lengths = [int(x) for x in args.lengths.split(",")]
    trials = dict((int(k), int(v)) for k, v in (item.split(":") for item in args.trials.split(",")))
    text = held_out_text(args)
    for name, model_dir, methods in models:
        trained = training_length(model_dir)
        for length in lengths:
            for method in methods:
                common = [args.dsmoe, "-t", str(args.threads)]
                flags = rope_flags(method, length, trained)
                lab.run(f"{name}|{method}|{length}|perplexity",
                        common + ["perplexity", "-m", model_dir, "-f", text, "--ctx", str(length), "--json",
                                  "--train-ctx", str(args.train_ctx)] + flags)
                lab.run(f"{name}|{method}|{length}|passkey",
                        common + ["passkey", "-m", model_dir, "--ctx", str(length), "--depths", args.depths,
                                  "--trials", str(trials.get(length, 4)), "--seed", str(args.seed), "--json"] + flags)


if __name__ == "__main__":
    args = parse_args()
    lab = Lab(args)
    models = [("shipped", args.model, METHODS)]
    for item in args.extended:
        name, directory = item.split("=", 1)
        models.append((name, directory, ["file"]))
    if not args.only_page:
        measure(args, lab, models)
    sys.path.insert(0, HERE)
    import long_context_page
    long_context_page.write(args, lab.results, models)
