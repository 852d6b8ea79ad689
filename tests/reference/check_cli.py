#!/usr/bin/python3
"""The dsmoe CLI on real files, as a user drives it: `inspect -m` counts what the files hold,
`logits --ids-file` equals `--ids`, and bad input ends in a clear error (exit 1), never a crash.

Usage: /usr/bin/python3 tests/reference/check_cli.py --dsmoe build/dsmoe
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_model  # noqa: E402

results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))


def dsmoe(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)


def check_inspect_counts_the_files(binary, work):
    # The parameter total from the config's arithmetic must equal the elements the writer stored.
    for opts in (dict(dtype="f32"), dict(dtype="bf16", shards=2), dict(arch="llama", tie=True, kv_heads=2)):
        model = os.path.join(work, "inspect_" + "_".join(f"{k}{v}" for k, v in opts.items()))
        tiny_model.write_model(model, seed=3, **opts)
        _, weights = tiny_model.load_model(model)
        numel = sum(w.size for w in weights.values())
        nbytes = numel * (4 if opts["dtype"] == "f32" else 2) if "dtype" in opts else numel * 4
        run = dsmoe(binary, "inspect", "-m", model, "--seq", "40")
        total = re.search(r"total\s+([\d,]+)", run.stdout)
        check(f"inspect -m {opts}: exit 0", run.returncode == 0, run.stderr)
        check(f"inspect -m {opts}: total = {numel} stored elements", total and int(total.group(1).replace(",", "")) == numel,
              total.group(0) if total else run.stdout[-400:])
        stored = re.search(r"(F32|BF16)\s+([\d,]+)", run.stdout.split("Weight bytes")[1])
        check(f"inspect -m {opts}: weight bytes = {nbytes}", stored and int(stored.group(2).replace(",", "")) == nbytes,
              stored.group(0) if stored else "")
        check(f"inspect -m {opts}: warns past max_position_embeddings", "warning: seq 40 exceeds" in run.stdout)


def check_ids_file_equals_ids(binary, work):
    model = os.path.join(work, "ids_model")
    tiny_model.write_model(model, seed=5)
    ids_file = os.path.join(work, "ids.txt")
    with open(ids_file, "w") as f:
        f.write("3, 9 17 4\n 8,2,2,60\n")
    a = dsmoe(binary, "logits", "-m", model, "--ids-file", ids_file, "--out", os.path.join(work, "a"))
    b = dsmoe(binary, "logits", "-m", model, "--ids", "3,9,17,4;8,2,2,60", "--out", os.path.join(work, "b"), "-t", "1")
    check("logits --ids-file and --ids both run", a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr)
    la = np.load(os.path.join(work, "a", "logits.npy"))
    lb = np.load(os.path.join(work, "b", "logits.npy"))
    check("--ids-file gives the same logits as --ids (and -t 1 the same bits as all threads)",
          la.shape == (2, 4, 97) and np.array_equal(la, lb))
    return model


def expect_error(binary, name, args, *needles):
    run = dsmoe(binary, *args)
    text = run.stdout + run.stderr
    ok = run.returncode == 1 and "error" in text and all(n in text for n in needles)
    check(f"error: {name}", ok, f"exit {run.returncode}: {text.strip()[-300:]}")


def check_bad_input(binary, work, model):
    out = os.path.join(work, "bad_out")
    expect_error(binary, "token id outside the vocabulary", ["logits", "-m", model, "--ids", "1,97", "--out", out],
                 "token id 97", "[0, 97)")
    expect_error(binary, "--prefill beyond the sequence", ["logits", "-m", model, "--ids", "1,2", "--out", out,
                                                            "--prefill", "3"], "--prefill 3")
    # A truncated weight file: the error names the file and a tensor whose bytes are gone.
    broken = os.path.join(work, "truncated")
    tiny_model.write_model(broken, seed=6)
    path = os.path.join(broken, "model.safetensors")
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size - 100)
    expect_error(binary, "truncated safetensors", ["logits", "-m", broken, "--ids", "1", "--out", out],
                 path, "outside the")
    # A config value that contradicts the weights: a shape mismatch naming file, tensor and both shapes.
    mismatch = os.path.join(work, "mismatch")
    tiny_model.write_model(mismatch, seed=7)
    cfg_path = os.path.join(mismatch, "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg["intermediate_size"] = 80
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    expect_error(binary, "shape mismatch", ["inspect", "-m", mismatch], "model.layers.0.mlp.gate_proj.weight",
                 "[96, 64]", "expected [80, 64]")
    # A config that is not JSON.
    with open(cfg_path, "w") as f:
        f.write('{"model_type": "deepseek", ')
    expect_error(binary, "invalid config JSON", ["inspect", "-m", mismatch], cfg_path, "invalid JSON")


def check_bench_runs(binary, model):
    # Behaviour only (speed is reported, never asserted): a small config runs prefill and decode.
    run = dsmoe(binary, "bench", "--config", os.path.join(model, "config.json"), "-p", "5", "-n", "3", "--layers", "2")
    check("bench runs on a tiny config", run.returncode == 0 and "| pp5 |" in run.stdout and "| tg3 |" in run.stdout
          and "(2/3 layers)" in run.stdout, run.stdout + run.stderr)
    for cache_type in ("f32", "bf16"):
        run = dsmoe(binary, "bench", "--config", os.path.join(model, "config.json"), "-p", "5", "-n", "3", "-r", "1",
                    "--cache-type", cache_type)
        check(f"bench runs with --cache-type {cache_type}", run.returncode == 0 and "| tg3 |" in run.stdout,
              run.stdout + run.stderr)
    expect_error(binary, "q8_0 cache with head_dim 16", ["bench", "--config", os.path.join(model, "config.json"),
                                                        "--cache-type", "q8_0"], "head_dim to be a multiple of 32")
    expect_error(binary, "bench with a bad cache type", ["bench", "--config", os.path.join(model, "config.json"),
                                                         "--cache-type", "q4_0"], "--cache-type")
    expect_error(binary, "bench with a bad dtype", ["bench", "--config", os.path.join(model, "config.json"),
                                                    "--dtype", "q3"], "--dtype")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsmoe", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dsmoe_cli_") as work:
        check_inspect_counts_the_files(args.dsmoe, work)
        model = check_ids_file_equals_ids(args.dsmoe, work)
        check_bench_runs(args.dsmoe, model)
        check_bad_input(args.dsmoe, work, model)
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
