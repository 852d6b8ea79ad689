#!/usr/bin/env python3
"""`dsmoe inspect rope` against an independent NumPy computation.

The per-pair table (wavelength = 2 pi / inv_freq, turn counts, verdicts), the YaRN frequencies, the decay
table, the 2-D translation-invariance figures, the SVG files --plot writes, and the errors for bad arguments.
Tolerances: dsmoe's inverse frequencies are float32 (as HF), NumPy's float64, so they agree to ~1e-7 relative;
the table prints 8 significant digits; 1e-5 relative leaves room for both.

Usage: check_inspect_rope.py --dsmoe BUILD/dsmoe
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.dom.minidom

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "dsmoe-kjv-9m")
FAILURES = []


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print("FAIL:", message)


def run(dsmoe, *args):
    result = subprocess.run([dsmoe, "inspect", "rope", *args], capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout, result.stderr


def pair_table(text):
    """The per-pair table as a list of dicts keyed by the header's column names."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["j", "inv_freq"])
    names = lines[start].split()
    rows = []
    for line in lines[start + 1:]:
        fields = line.split()
        if len(fields) != len(names):
            break
        rows.append(dict(zip(names, fields)))
    return rows


def decay_table(text):
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["r", "all_ones"])
    rows = []
    for line in lines[start + 1:]:
        fields = line.split()
        if not fields or not re.fullmatch(r"\d+", fields[0]):
            break
        rows.append([float(f) for f in fields])
    return np.array(rows)


def figure(text, label, between=r".*?= "):
    """The number after `label` and then `between` (by default the first '= ')."""
    match = re.search(re.escape(label) + between + r"([0-9.e+-]+)", text)
    assert match, f"no '{label}' in the output"
    return float(match.group(1))


def yarn_inv_freq(theta, d, factor, l0, beta_fast=32.0, beta_slow=1.0):
    """transformers' _compute_yarn_parameters (truncate=True), in float64."""
    base = 1.0 / theta ** (np.arange(0, d, 2) / d)

    def corr(turns):
        return d * np.log(l0 / (turns * 2 * np.pi)) / (2 * np.log(theta))

    low = max(np.floor(corr(beta_fast)), 0)
    high = min(np.ceil(corr(beta_slow)), d - 1)
    if low == high:
        high += 0.001
    ramp = np.clip((np.arange(d // 2) - low) / (high - low), 0, 1)
    keep = 1 - ramp
    return base / factor * (1 - keep) + base * keep


def check_table(rows, inv_used, inv_orig, train, ctx, what):
    check(len(rows) == len(inv_used), f"{what}: {len(rows)} rows, expected {len(inv_used)}")
    got_inv = np.array([float(r["inv_freq"]) for r in rows])
    got_wave = np.array([float(r["wavelength"]) for r in rows])
    wave = 2 * np.pi / inv_used
    wave_orig = 2 * np.pi / inv_orig
    check(np.allclose(got_inv, inv_used, rtol=1e-5, atol=0), f"{what}: inv_freq differs from NumPy")
    check(np.allclose(got_wave, wave, rtol=1e-5, atol=0), f"{what}: wavelength != 2 pi / inv_freq")
    got_turns_l = np.array([float(r["turns_in_L"]) for r in rows])
    got_turns_ctx = np.array([float(r["turns_in_ctx"]) for r in rows])
    check(np.allclose(got_turns_l, (train - 1) / wave_orig, rtol=1e-5), f"{what}: turns_in_L != (L-1)/wavelength")
    check(np.allclose(got_turns_ctx, (ctx - 1) / wave, rtol=1e-5), f"{what}: turns_in_ctx != (ctx-1)/wavelength")
    verdicts = [r["verdict"] for r in rows]
    expected = ["full-turn" if w <= train - 1 else "never-turns" for w in wave_orig]
    check(verdicts == expected, f"{what}: verdicts {verdicts} != {expected}")
    return expected.count("never-turns")


def test_shipped_model(dsmoe):
    config = json.load(open(os.path.join(MODEL, "config.json")))
    d = config["hidden_size"] // config["num_attention_heads"]
    theta, train = float(config["rope_theta"]), config["max_position_embeddings"]
    inv = 1.0 / theta ** (np.arange(0, d, 2) / d)

    status, out, err = run(dsmoe, "-m", MODEL, "--ctx", "4096")
    check(status == 0, f"plain run failed: {err}")
    never = check_table(pair_table(out), inv, inv, train, 4096, "unscaled")
    check(f"pairs that never turn in L:   {never} of {d // 2}" in out, "summary count of never-turning pairs")
    check(all(r["angles_at_ctx"] == ("UNSEEN" if r["verdict"] == "never-turns" else "all-seen")
              for r in pair_table(out)), "unscaled: every never-turning pair reaches unseen angles at 4096")
    print(f"shipped model, ctx 4096: {never} of {d // 2} pairs never turn in {train} tokens")

    # Decay: all-ones q.k with D = d is mean_j cos(r theta_j); the bound mean_j |S_j| / ((d/2+1)/2).
    decay = decay_table(out)
    r = decay[:, 0]
    check(r[0] == 0 and r[-1] == 4095, "decay distances run from 0 to ctx-1")
    angles = np.outer(r, inv)
    check(np.allclose(decay[:, 1], np.cos(angles).mean(axis=1), atol=2e-5), "decay all_ones != mean cos(r theta)")
    partial = np.abs(np.cumsum(np.exp(1j * angles), axis=1)).mean(axis=1) / ((d // 2 + 1) / 2)
    check(np.allclose(decay[:, 2], partial, atol=2e-5), "decay bound != RoFormer mean |partial sums|")

    # 2-D: axial RoPE is translation invariant, sinusoidal absolute encoding is not.
    for extra in ([], ["--seed", "7"]):
        status, out, err = run(dsmoe, "-m", MODEL, *extra)
        check(status == 0, f"2-D run {extra} failed: {err}")
        rope_diff = figure(out, "rope_2d max |score")
        sin_diff = figure(out, "sinusoidal max |score")
        check(rope_diff < 1e-4, f"2-D RoPE {extra}: anchors differ by {rope_diff}")
        check(sin_diff > 0.1, f"sinusoidal {extra}: anchors differ by only {sin_diff}")

    # YaRN x16: NumPy's ramp, the original beside it, the ratio.
    status, out, err = run(dsmoe, "-m", MODEL, "--ctx", "4096", "--rope-scaling", "yarn", "--rope-scale", "16")
    check(status == 0, f"yarn run failed: {err}")
    rows = pair_table(out)
    yarn = yarn_inv_freq(theta, d, 16.0, train)
    check_table(rows, yarn, inv, train, 4096, "yarn x16")
    ratio = np.array([float(row["ratio"]) for row in rows])
    check(np.allclose(ratio, yarn / inv, rtol=1e-4), "yarn ratio != scaled / original")
    check(np.allclose([float(row["orig_inv_freq"]) for row in rows], inv, rtol=1e-5), "yarn orig_inv_freq")
    factor = figure(out, "attention factor on cos/sin:", r" ")
    check(abs(factor - (0.1 * np.log(16) + 1)) < 1e-5, f"yarn attention factor {factor}")
    unseen = sum(row["angles_at_ctx"] == "UNSEEN" for row in rows)
    print(f"yarn x16 at 4096: {unseen} pairs reach unseen angles")


def test_turn_boundary(dsmoe):
    """Pair 0 has inv_freq 1, wavelength 2 pi = 6.28: L = 7 reaches angle 6 < 2 pi, L = 8 reaches 7 > 2 pi."""
    config = json.load(open(os.path.join(MODEL, "config.json")))
    config.update(hidden_size=8, num_attention_heads=2, num_key_value_heads=2)
    with tempfile.TemporaryDirectory() as tmp:
        for train, verdict in ((7, "never-turns"), (8, "full-turn")):
            config["max_position_embeddings"] = train
            path = os.path.join(tmp, f"config{train}.json")
            json.dump(config, open(path, "w"))
            status, out, err = run(dsmoe, "--config", path, "--ctx", "8", "--grid", "17x17")
            check(status == 0, f"boundary L={train}: {err}")
            row = pair_table(out)[0]
            check(row["verdict"] == verdict, f"L={train}: pair 0 is {row['verdict']}, expected {verdict}")
            turns = (train - 1) / (2 * np.pi)
            check(abs(float(row["turns_in_L"]) - turns) < 1e-5 * turns, f"L={train}: turns_in_L")


def test_plots(dsmoe):
    with tempfile.TemporaryDirectory() as tmp:
        plot_dir = os.path.join(tmp, "plots")
        status, out, err = run(dsmoe, "-m", MODEL, "--ctx", "1024", "--plot", plot_dir, "--rope-scaling", "linear",
                               "--rope-scale", "4")
        check(status == 0, f"--plot failed: {err}")
        for name in ("frequencies.svg", "decay.svg", "score_2d_rope.svg", "score_2d_sinusoidal.svg"):
            path = os.path.join(plot_dir, name)
            check(os.path.isfile(path), f"--plot did not write {name}")
            if os.path.isfile(path):
                document = xml.dom.minidom.parse(path)
                check(document.documentElement.tagName == "svg", f"{name}: root is not <svg>")
                check(len(document.getElementsByTagName("text")) > 5, f"{name}: no axis labels")


def test_bad_arguments(dsmoe):
    cases = [
        (["-m", MODEL, "--ctx", "0"], "--ctx must be in [2, 2^31)"),
        (["-m", MODEL, "--rope-scaling", "bogus"], "--rope-scaling: 'bogus' is not one of"),
        (["-m", MODEL, "--grid", "4x4"], "--grid 4x4"),
        (["-m", MODEL, "--config", "x.json"], "exactly one of -m DIR or --config FILE"),
    ]
    for args, message in cases:
        status, out, err = run(dsmoe, *args)
        check(status == 1, f"{args}: exit status {status}, expected 1")
        check(message in err and "error" in err, f"{args}: stderr lacks '{message}': {err.strip()}")


def test_plain_inspect_unchanged(dsmoe):
    result = subprocess.run([dsmoe, "inspect", "--config", os.path.join(ROOT, "configs", "deepseek-moe-16b-base.json")],
                            capture_output=True, text=True, timeout=120)
    check(result.returncode == 0, f"plain inspect failed: {result.stderr}")
    check("DeepseekForCausalLM" in result.stdout and "Per rotary pair" not in result.stdout,
          "plain inspect prints the module tree, not the RoPE report")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsmoe", required=True)
    dsmoe = parser.parse_args().dsmoe
    for test in (test_shipped_model, test_turn_boundary, test_plots, test_bad_arguments, test_plain_inspect_unchanged):
        test(dsmoe)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        sys.exit(1)
    print("all inspect rope checks passed")


if __name__ == "__main__":
    main()
