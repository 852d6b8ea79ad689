#!/usr/bin/python3
"""src/rope against an independent NumPy oracle, on fresh random parameters each run.

The references (rope_oracle.py) are written from the formulas of /work/shared/ROPE.md in float64, not from
the C++ code.
The library is reached through rope_probe (tests/rope/rope_probe/), which answers JSON requests.

  check_rope.py --probe build/tests/rope_probe --part frequencies [--seed N]

The seed is printed first; pass it back with --seed to replay a failure.

Tolerances, and why:
  REL_FREQ 2e-6   inverse frequencies. HF computes them in float32: the exponent 2j/d is rounded to float32
                  (error <= 2^-25), which moves b^(-2j/d) by ln(b) * 2^-25 <= 5e-7 for b <= 1e7, plus a few
                  roundings of the blend (yarn, llama3) or division (linear, longrope) at 6e-8 each;
                  llama3 and yarn add input_slack (below), what HF's own float32 steps amplify.
  REL_FACTOR 1e-6 attention factor, softmax multiplier: one float32 rounding (6e-8).
  ABS_COS 1e-6    cos/sin at any position: float64 angle and cos, rounded to float32 once (<= 6e-8 * factor).
  REL_SCORE 1e-6  q.k after rotation, relative to sum_pairs |q_pair||k_pair| (the magnitudes the score is made
                  of): each rotated float32 component carries ~3 roundings (2e-7) of its pair's norm.
"""
import argparse
import json
import math
import subprocess
import sys

import numpy as np

from rope_oracle import exact_score, input_slack, ladder, mrope_reference, pair_index, ref_alibi_slopes, \
    ref_frequencies

REL_FREQ = 2e-6
REL_FACTOR = 1e-6
ABS_COS = 1e-6
REL_SCORE = 1e-6
MAX_POSITION = 1_000_000


class Checker:
    """Collects comparisons; a part fails if any comparison is outside its tolerance."""

    def __init__(self):
        self.failures = []
        self.count = 0
        self.worst = 0.0

    def close(self, label, got, want, atol=0.0, rtol=0.0):
        got = np.asarray(got, dtype=np.float64)
        want = np.asarray(want, dtype=np.float64)
        if got.shape != want.shape:
            self.failures.append(f"{label}: shape {got.shape}, expected {want.shape}")
            return
        bound = atol + rtol * np.abs(want)
        err = np.abs(got - want)
        self.count += got.size
        if got.size:
            ratio = float(np.max(err / np.maximum(bound, 1e-300)))
            self.worst = max(self.worst, ratio)
            if not np.all(err <= bound):
                i = int(np.argmax(err - bound))
                self.failures.append(f"{label}: at flat index {i} got {got.flat[i]!r}, expected {want.flat[i]!r} "
                                     f"(error {err.flat[i]:.3g}, tolerance {bound.flat[i]:.3g})")

    def true(self, label, condition, detail=""):
        self.count += 1
        if not condition:
            self.failures.append(f"{label}: {detail}")


class Probe:
    def __init__(self, path):
        self.path = path

    def __call__(self, ops):
        done = subprocess.run([self.path], input=json.dumps({"ops": ops}), capture_output=True, text=True,
                              timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"rope_probe exited {done.returncode}: {done.stderr}")
        return json.loads(done.stdout)["results"]


# ---------------------------------------------------------------- random parameters

def rand_dim(rng, low=4):
    return int(rng.choice([low, 16, 32, 64, 128, 2 * int(rng.integers(low // 2, 97))]))


def rand_theta(rng):
    return float(10 ** rng.uniform(2.7, 6.5))


def params(rng, scaling, d=None, theta=None, max_pos=None, pairing=None):
    return {"rotary_dim": rand_dim(rng) if d is None else d, "theta": theta or rand_theta(rng),
            "pairing": pairing or str(rng.choice(["rotate_half", "interleaved"])),
            "max_position_embeddings": max_pos or int(rng.integers(256, 65536)), "scaling": scaling}


def frequency_cases(rng):
    """(label, params, seq_len): every scaling type, and every branch of yarn's magnitude, on random values."""
    cases = []
    for i in range(8):
        cases.append(("none", params(rng, {"type": "none"}), int(rng.integers(1, 10**6))))
        cases.append(("linear", params(rng, {"type": "linear", "factor": float(rng.uniform(0.5, 40))}), 1))
    for i in range(16):
        p = params(rng, {"type": "dynamic", "factor": float(rng.uniform(1.1, 16))})
        lmax = p["max_position_embeddings"]
        seq = int(rng.integers(1, lmax + 1)) if i % 2 else int(rng.integers(lmax + 1, 10 * lmax))
        cases.append((f"dynamic seq_len {seq} vs max {lmax}", p, seq))
    for flavor in ("transformers", "deepseek_v2"):
        for truncate in (True, False):
            for ms in (None, 0.0, "r"):
                for msa in (None, 0.0, "r"):
                    for given in (False, True):
                        s = float(rng.choice([rng.uniform(1.2, 64), rng.uniform(0.3, 1.0)], p=[0.85, 0.15]))
                        l0 = int(rng.integers(256, 16384))
                        sc = {"type": "yarn", "factor": s, "flavor": flavor, "truncate": truncate,
                              "original_max_position_embeddings": l0 if rng.random() < 0.7 else 0,
                              "beta_fast": float(rng.uniform(8, 64)), "beta_slow": float(rng.uniform(0.5, 2))}
                        for key, v in (("mscale", ms), ("mscale_all_dim", msa)):
                            if v is not None:
                                sc[key] = float(rng.uniform(0.3, 1.5)) if v == "r" else v
                        if given:
                            sc["attention_factor"] = float(rng.uniform(0.5, 2.0))
                        label = (f"yarn {flavor} truncate={truncate} mscale={sc.get('mscale')} "
                                 f"mscale_all_dim={sc.get('mscale_all_dim')} "
                                 f"attention_factor={sc.get('attention_factor')}")
                        cases.append((label, params(rng, sc, max_pos=int(l0 * max(s, 1))), 1))
    llama31 = {"type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 8192}
    cases.append(("llama3 (Llama 3.1 values)", params(rng, llama31, d=128, theta=500000.0, max_pos=131072), 1))
    for i in range(12):
        lff = float(rng.uniform(0.5, 2.0))
        sc = {"type": "llama3", "factor": float(rng.uniform(1.5, 32)), "low_freq_factor": lff,
              "high_freq_factor": lff + float(rng.uniform(0.5, 6)),
              "original_max_position_embeddings": int(rng.integers(1024, 16384))}
        cases.append(("llama3", params(rng, sc), 1))
    for i in range(16):
        d = rand_dim(rng)
        l0 = int(rng.integers(1024, 8192))
        sc = {"type": "longrope", "short_factor": list(rng.uniform(1.0, 1.5, d // 2)),
              "long_factor": sorted(rng.uniform(1.0, 40.0, d // 2)), "factor_given": bool(i % 2),
              "factor": float(rng.choice([rng.uniform(1.5, 40), 0.8])),
              "original_max_position_embeddings": l0 if i % 4 < 3 else 0}
        if rng.random() < 0.3:
            sc["attention_factor"] = float(rng.uniform(0.8, 1.6))
        seq = [l0 - int(rng.integers(1, l0)), l0, l0 + 1, l0 * 8][i % 4]  # short up to L0, long after
        cases.append((f"longrope seq_len {seq} L0 {l0}", params(rng, sc, d=d, max_pos=l0 * int(rng.integers(2, 33))),
                      seq))
    return cases


# ---------------------------------------------------------------- parts

def part_frequencies(probe, rng, ck):
    cases = frequency_cases(rng)
    got = probe([{"op": "frequencies", "params": p, "seq_len": n} for _, p, n in cases])
    bands = {"llama3 kept": 0, "llama3 divided": 0, "llama3 blended": 0, "yarn ramp inside (0, 1)": 0}
    for (label, p, seq_len), r in zip(cases, got):
        sc = p["scaling"]
        if sc["type"] == "llama3":  # random cases must reach every branch, or a broken one would go unseen
            w, l0 = 2 * math.pi / ladder(p["theta"], p["rotary_dim"]), sc["original_max_position_embeddings"]
            kept, divided = w < l0 / sc["high_freq_factor"], w > l0 / sc["low_freq_factor"]
            bands["llama3 kept"] += int(kept.sum())
            bands["llama3 divided"] += int(divided.sum())
            bands["llama3 blended"] += int((~kept & ~divided).sum())
        if sc["type"] == "yarn" and sc["factor"] > 1:
            inv, mixed = ladder(p["theta"], p["rotary_dim"]), ref_frequencies(p, seq_len)[0]
            bands["yarn ramp inside (0, 1)"] += int(np.sum((mixed < inv * (1 - 1e-9)) &
                                                           (mixed > inv / sc["factor"] * (1 + 1e-9))))
        if "error" in r:
            ck.true(label, False, r["error"])
            continue
        inv, af, softmax, base, factor = ref_frequencies(p, seq_len)
        slack = input_slack(p, seq_len)
        ck.close(f"{label}: inv_freq", r["inv_freq"], inv, atol=slack, rtol=REL_FREQ)
        ck.close(f"{label}: attention_factor", r["attention_factor"], af, rtol=REL_FACTOR)
        ck.close(f"{label}: softmax multiplier", r["softmax_scale"], softmax, rtol=REL_FACTOR)
        ck.close(f"{label}: base", r["base"], base, rtol=1e-12)
        kind = p["scaling"]["type"]
        if kind != "none":
            ck.close(f"{label}: factor", r["factor"], factor, rtol=1e-12)
        if kind == "dynamic" and seq_len <= p["max_position_embeddings"]:
            ck.true(f"{label}: base equals theta up to max_position_embeddings", r["base"] == p["theta"],
                    f"{r['base']!r} != {p['theta']!r}")
        if kind == "longrope":
            l0 = p["scaling"]["original_max_position_embeddings"] or p["max_position_embeddings"]
            ck.true(f"{label}: long factors iff seq_len > L0", r["long_factors"] == (seq_len > l0))
    for band, n in bands.items():
        ck.true(f"coverage: some pairs fall in {band}", n > 0, "none did; widen the random parameters")
    # Dynamic NTK up to max_position_embeddings is exactly the unscaled plan (not just up to rounding).
    p = params(rng, {"type": "dynamic", "factor": float(rng.uniform(1.1, 16))})
    plain = dict(p, scaling={"type": "none"})
    a, b = probe([{"op": "frequencies", "params": p, "seq_len": p["max_position_embeddings"]},
                  {"op": "frequencies", "params": plain, "seq_len": 1}])
    ck.true("dynamic at max_position_embeddings is the unscaled inv_freq", a["inv_freq"] == b["inv_freq"])
    # Parameters that cannot give a plan are refused, not guessed.
    bad = [params(rng, {"type": "longrope", "short_factor": [1.0], "long_factor": [1.0]}, d=8),
           params(rng, {"type": "none"}, d=7), params(rng, {"type": "none"}, d=0)]
    for p, r in zip(bad, probe([{"op": "frequencies", "params": p, "seq_len": 1} for p in bad])):
        ck.true(f"refuses {p['rotary_dim']=} {p['scaling']}", "error" in r, "no error raised")


def test_positions(rng):
    return [0, 1, int(rng.integers(2, 4096)), 4095, 4096, int(rng.integers(4096, MAX_POSITION)), 999_999,
            MAX_POSITION, 2**20 - 1]


def part_cos_sin(probe, rng, ck):
    cases = frequency_cases(rng)
    picked = [cases[int(i)] for i in rng.choice(len(cases), 24, replace=False)]
    ops = []
    for _, p, seq_len in picked:
        ops.append({"op": "cos_sin", "params": p, "seq_len": seq_len, "positions": test_positions(rng),
                    "first": int(rng.integers(0, MAX_POSITION)), "count": 3})
    for (label, p, seq_len), op, r in zip(picked, ops, probe(ops)):
        inv_ref, af_ref, *_ = ref_frequencies(p, seq_len)
        slack = input_slack(p, seq_len)
        ck.close(f"{label}: inv_freq", r["inv_freq"], inv_ref, atol=slack, rtol=REL_FREQ)
        ck.close(f"{label}: attention_factor", r["attention_factor"], af_ref, rtol=REL_FACTOR)
        # The angle is exact for the float32 frequency the library holds, so the reference takes those bits.
        inv, af = np.array(r["inv_freq"]), r["attention_factor"]
        angle = np.array(op["positions"], dtype=np.float64)[:, None] * inv[None, :]
        ck.close(f"{label}: cos", r["cos"], np.cos(angle) * af, atol=ABS_COS)
        ck.close(f"{label}: sin", r["sin"], np.sin(angle) * af, atol=ABS_COS)
        table_angle = np.arange(op["first"], op["first"] + 3, dtype=np.float64)[:, None] * inv[None, :]
        ck.close(f"{label}: table cos", r["table_cos"], np.cos(table_angle) * af, atol=ABS_COS)
        ck.close(f"{label}: table sin", r["table_sin"], np.sin(table_angle) * af, atol=ABS_COS)
    # Why the angle is formed in float64: HF's recipe rounds float32(p) * inv_freq to float32 (ulp 0.0625 at
    # 1e6) and loses about 0.03 rad; the library stays within float32 rounding of the exact value.
    p = params(rng, {"type": "none"}, d=128, theta=10000.0)
    positions = [int(x) for x in rng.integers(900_000, MAX_POSITION + 1, 8)]
    r = probe([{"op": "cos_sin", "params": p, "seq_len": 1, "positions": positions}])[0]
    inv32 = np.array(r["inv_freq"], dtype=np.float32)
    exact = np.array(positions, dtype=np.float64)[:, None] * inv32.astype(np.float64)[None, :]
    hf_angle = np.array(positions, dtype=np.float32)[:, None] * inv32[None, :]  # float32 product, as HF
    hf_err = float(np.max(np.abs(np.cos(hf_angle).astype(np.float64) - np.cos(exact))))
    lib_err = float(np.max(np.abs(np.array(r["cos"]) - np.cos(exact))))
    print(f"  positions ~1e6: HF float32-angle cos error {hf_err:.3g}, library {lib_err:.3g}")
    ck.true("HF float32 angles are far off at 1e6 (> 1e-3)", hf_err > 1e-3, f"only {hf_err:.3g}")
    ck.true("library angles at 1e6 within 1e-6", lib_err <= ABS_COS, f"{lib_err:.3g}")


def rotate_ops(x_rows, cos_rows, sin_rows, head_dim, rotary_dim, pairing):
    return [{"op": "apply", "x": [float(v) for v in x], "n_heads": 1, "head_dim": head_dim, "cos": c, "sin": s,
             "rotary_dim": rotary_dim, "pairing": pairing} for x, c, s in zip(x_rows, cos_rows, sin_rows)]


def part_relative_position(probe, rng, ck):
    """q at m against k at n depends only on m - n: 1-D up to 1e6, and per axis for every N-D layout."""
    cases = [c for c in frequency_cases(rng) if c[1]["scaling"]["type"] != "longrope"]
    picked = [cases[int(i)] for i in rng.choice(len(cases), 12, replace=False)]
    ops, jobs = [], []
    for label, p, seq_len in picked:
        m, n = (int(x) for x in rng.integers(0, MAX_POSITION, 2))
        delta = int(rng.integers(-min(m, n), MAX_POSITION - max(m, n) + 1))
        ops.append({"op": "cos_sin", "params": p, "seq_len": seq_len, "positions": [m, n, m + delta, n + delta]})
        jobs.append((label, p, m, n, delta))
    tables = probe(ops)
    apply_ops, vectors = [], []
    for (label, p, m, n, delta), t in zip(jobs, tables):
        d = p["rotary_dim"]
        head_dim = d + 2 * int(rng.integers(0, 4))
        q, k = (rng.standard_normal(head_dim).astype(np.float32) for _ in range(2))
        vectors.append((q, k, head_dim, np.array(t["inv_freq"]), t["attention_factor"]))
        apply_ops += rotate_ops([q, k, q, k], t["cos"], t["sin"], head_dim, d, p["pairing"])
    rotated = [np.array(r["x"]) for r in probe(apply_ops)]
    for i, ((label, p, m, n, delta), (q, k, head_dim, inv, af)) in enumerate(zip(jobs, vectors)):
        qm, kn, qm2, kn2 = rotated[4 * i:4 * i + 4]
        want, scale = exact_score(q, k, (n - m) * inv, af, p["rotary_dim"], p["pairing"])
        tag = f"{label}: q at {m}, k at {n}, shift {delta}"
        ck.close(f"{tag}: score", np.dot(qm, kn), want, atol=REL_SCORE * scale)
        ck.close(f"{tag}: shifted score", np.dot(qm2, kn2), want, atol=REL_SCORE * scale)
    relative_position_axes(probe, rng, ck)


def relative_position_axes(probe, rng, ck):
    ops, jobs = [], []
    for kind, layout in layout_cases(rng):
        n_axes = len(layout["axes_ref"])
        for axis in range(n_axes):
            P, Q = (rng.integers(0, MAX_POSITION, n_axes) for _ in range(2))
            delta = int(rng.integers(-int(min(P[axis], Q[axis])), MAX_POSITION - int(max(P[axis], Q[axis])) + 1))
            step = np.eye(n_axes, dtype=np.int64)[axis] * delta
            points = [[int(v) for v in x] for x in (P, Q, P + step, Q + step)]
            ops.append(dict(layout["request"], points=points))
            jobs.append((f"{kind} axis {axis}", layout, P, Q))
    tables = probe(ops)
    apply_ops, vectors = [], []
    for t in tables:
        d = 2 * len(t["axis_of_pair"])
        q, k = (rng.standard_normal(d).astype(np.float32) for _ in range(2))
        vectors.append((q, k, d))
        apply_ops += rotate_ops([q, k, q, k], t["cos"], t["sin"], d, d, "rotate_half")
    rotated = [np.array(r["x"]) for r in probe(apply_ops)]
    for i, ((tag, layout, P, Q), (q, k, d), t) in enumerate(zip(jobs, vectors, tables)):
        qm, kn, qm2, kn2 = rotated[4 * i:4 * i + 4]
        # The reference's own layout, with the library's float32 frequency for each pair (checked in "layouts").
        inv = np.array(t["inv_freq"])[np.array(t["freq_of_pair"])]
        phi = (Q - P).astype(np.float64)[np.array(layout["axis_ref"])] * inv
        want, scale = exact_score(q, k, phi, 1.0, d, "rotate_half")
        ck.close(f"{tag}: score", np.dot(qm, kn), want, atol=REL_SCORE * scale)
        ck.close(f"{tag}: score shifted along the axis", np.dot(qm2, kn2), want, atol=REL_SCORE * scale)


# ---------------------------------------------------------------- N-D layouts (ROPE.md section 5)

def layout_cases(rng):
    """Each case: the probe request, and the reference's per-pair axis and frequency built as the models do."""
    out = []
    theta = rand_theta(rng)
    # Qwen2-VL's and Qwen3-VL's own sections, then random ones (which may leave the tail of h or w short).
    mrope = [([16, 24, 24], False), ([24, 20, 20], True)]
    mrope += [([int(x) for x in rng.integers(1, 25, 3)], interleaved) for interleaved in (False, True, False, True)]
    for section, interleaved in mrope:
        axis, freq = mrope_reference(section, interleaved, theta)
        out.append((f"mrope section {section} interleaved={interleaved}",
                    {"request": {"op": "layout", "kind": "mrope", "section": section, "interleaved": interleaved,
                                 "theta": theta}, "axes_ref": [0, 1, 2], "axis_ref": axis, "freq_ref": freq}))
    head_dim = 4 * int(rng.integers(1, 33))
    # Qwen2-VL vision: VisionRotaryEmbedding(head_dim / 2); rot_pos_emb concatenates [freq(h), freq(w)].
    fv = ladder(theta, head_dim // 2)
    out.append((f"vision head_dim {head_dim}",
                {"request": {"op": "layout", "kind": "vision", "head_dim": head_dim, "theta": theta},
                 "axes_ref": [0, 1], "axis_ref": np.repeat([0, 1], len(fv)), "freq_ref": np.concatenate([fv, fv])}))
    # Pixtral: freqs over the full head_dim; rows take freqs[0::2], columns freqs[1::2], concatenated.
    fp = ladder(theta, head_dim)
    out.append((f"pixtral head_dim {head_dim}",
                {"request": {"op": "layout", "kind": "pixtral", "head_dim": head_dim, "theta": theta},
                 "axes_ref": [0, 1], "axis_ref": np.repeat([0, 1], len(fp) // 2),
                 "freq_ref": np.concatenate([fp[0::2], fp[1::2]])}))
    for restart in (False, True):
        sizes = [int(x) for x in rng.integers(1, 17, int(rng.integers(2, 4)))]
        axis = np.repeat(np.arange(len(sizes)), sizes)
        if restart:  # each axis its own ladder over 2 * its pairs (lucidrains 'lang', ggml VISION)
            freq = np.concatenate([ladder(theta, 2 * n) for n in sizes])
        else:  # one ladder over all pairs, shared out in order
            freq = ladder(theta, 2 * sum(sizes))
        out.append((f"axial {sizes} restart={restart}",
                    {"request": {"op": "layout", "kind": "axial", "pairs_per_axis": sizes, "restart": restart,
                                 "theta": theta}, "axes_ref": list(range(len(sizes))), "axis_ref": axis,
                     "freq_ref": freq}))
    return out


def part_layouts(probe, rng, ck):
    cases = layout_cases(rng)
    ops = []
    for _, layout in cases:
        n_axes = len(layout["axes_ref"])
        points = [[int(v) for v in rng.integers(0, MAX_POSITION, n_axes)] for _ in range(4)] + [[0] * n_axes]
        ops.append(dict(layout["request"], points=points))
    for (label, layout), op, r in zip(cases, ops, probe(ops)):
        if "error" in r:
            ck.true(label, False, r["error"])
            continue
        ck.true(f"{label}: n_axes", r["n_axes"] == len(layout["axes_ref"]))
        want_axes = [int(a) for a in layout["axis_ref"]]
        got_axes = list(r["axis_of_pair"])
        wrong = [j for j, (a, b) in enumerate(zip(got_axes, want_axes)) if a != b] + [-1]
        ck.true(f"{label}: axis of each pair", got_axes == want_axes,
                f"{len(got_axes)} pairs (expected {len(want_axes)}); first wrong pair {wrong[0]}: "
                f"axis {got_axes[wrong[0]]}, expected {want_axes[wrong[0]]}")
        lib_freq = np.array(r["inv_freq"])[np.array(r["freq_of_pair"], dtype=np.int64)]
        ck.close(f"{label}: frequency of each pair", lib_freq, layout["freq_ref"], rtol=REL_FREQ)
        angle = np.array(op["points"], dtype=np.float64)[:, np.array(layout["axis_ref"])] * lib_freq[None, :]
        ck.close(f"{label}: cos", r["cos"], np.cos(angle), atol=ABS_COS)
        ck.close(f"{label}: sin", r["sin"], np.sin(angle), atol=ABS_COS)
    # DeepSeek-style 1-D RoPE is the one-axis layout: the same frequencies as the plain ladder.
    d = rand_dim(rng)
    r = probe([{"op": "layout", "kind": "axial", "pairs_per_axis": [d // 2], "restart": False, "theta": 1e4,
                "points": []}])[0]
    ck.close("one-axis layout is 1-D RoPE", r["inv_freq"], ladder(1e4, d), rtol=REL_FREQ)
    bad = [{"op": "layout", "kind": "mrope", "section": [8, 8], "interleaved": False, "theta": 1e4, "points": []},
           {"op": "layout", "kind": "vision", "head_dim": 6, "theta": 1e4, "points": []},
           {"op": "layout", "kind": "axial", "pairs_per_axis": [4, 0], "restart": True, "theta": 1e4, "points": []}]
    for op, r in zip(bad, probe(bad)):
        ck.true(f"refuses {op}", "error" in r, "no error raised")


# ---------------------------------------------------------------- the rotation itself (ROPE.md section 1)

def part_rotation(probe, rng, ck):
    ops, jobs = [], []
    for i in range(12):
        d = rand_dim(rng, low=2)
        head_dim, n_heads = d + 2 * int(rng.integers(0, 9)) * (i % 2), int(rng.integers(1, 5))
        sc = {"type": "yarn", "factor": float(rng.uniform(2, 40))} if i % 3 == 0 else {"type": "none"}
        p = params(rng, sc, d=d)
        pos = int(rng.integers(0, MAX_POSITION))
        t = probe([{"op": "cos_sin", "params": p, "seq_len": 1, "positions": [pos]}])[0]
        x = rng.standard_normal((n_heads, head_dim)).astype(np.float32)
        ops.append({"op": "apply", "x": [float(v) for v in x.ravel()], "n_heads": n_heads, "head_dim": head_dim,
                    "cos": t["cos"][0], "sin": t["sin"][0], "rotary_dim": d, "pairing": p["pairing"]})
        jobs.append((f"d={d} head_dim={head_dim} {p['pairing']} {sc['type']}", x, t, p))
    for (label, x, t, p), r in zip(jobs, probe(ops)):
        d, pairing, af = p["rotary_dim"], p["pairing"], t["attention_factor"]
        y = np.array(r["x"]).reshape(x.shape)
        c, s = np.array(t["cos"][0]), np.array(t["sin"][0])
        a, b = pair_index(d, pairing)
        xa, xb = x[:, a].astype(np.float64), x[:, b].astype(np.float64)
        pair_norm = np.hypot(xa, xb)
        # The rotation as ROPE.md writes it, in float64 on the same float32 cos/sin.
        ck.close(f"{label}: a' = a cos - b sin", y[:, a], xa * c - xb * s, atol=4e-7 * af * pair_norm)
        ck.close(f"{label}: b' = a sin + b cos", y[:, b], xa * s + xb * c, atol=4e-7 * af * pair_norm)
        ck.close(f"{label}: each pair's norm times the attention factor", np.hypot(y[:, a], y[:, b]),
                 af * pair_norm, rtol=1e-6)
        ck.true(f"{label}: coordinates past rotary_dim untouched", np.array_equal(y[:, d:], x[:, d:]))
    # Interleaved on x equals rotate-half on x permuted by rotate_half_from_interleaved: y[i] = x[perm[i]].
    for d in (2, 8, rand_dim(rng, low=2)):
        perm = probe([{"op": "perm", "rotary_dim": d}])[0]["perm"]
        j = np.arange(d // 2)
        ck.true(f"perm d={d}: perm[j] = 2j, perm[j + d/2] = 2j + 1", perm == list(np.concatenate([2 * j, 2 * j + 1])))
        head_dim = d + 4
        t = probe([{"op": "cos_sin", "params": params(rng, {"type": "none"}, d=d), "seq_len": 1,
                    "positions": [int(rng.integers(0, MAX_POSITION))]}])[0]
        x = rng.standard_normal(head_dim).astype(np.float32)
        y = x.copy()
        y[:d] = x[np.array(perm)]
        inter, half = probe(rotate_ops([x], t["cos"], t["sin"], head_dim, d, "interleaved") +
                            rotate_ops([y], t["cos"], t["sin"], head_dim, d, "rotate_half"))
        inter, half = np.array(inter["x"]), np.array(half["x"])
        ck.true(f"perm d={d}: rotate-half of permuted x is interleaved of x, permuted",
                np.array_equal(half[:d], inter[np.array(perm)]) and np.array_equal(half[d:], inter[d:]))


# ---------------------------------------------------------------- sinusoidal and ALiBi


def part_baselines(probe, rng, ck):
    ops = [{"op": "alibi", "n_heads": n,
            "bias": [[0.125, int(i), int(j)] for i, j in rng.integers(0, MAX_POSITION, (3, 2))]}
           for n in range(1, 81)]
    for op, r in zip(ops, probe(ops)):
        n = op["n_heads"]
        ck.close(f"ALiBi slopes n_heads={n}", r["slopes"], ref_alibi_slopes(n), rtol=1e-12)
        ck.close(f"ALiBi bias n_heads={n}", r["bias"], [-m * (i - j) for m, i, j in op["bias"]], rtol=1e-15)
    r = probe([{"op": "alibi", "n_heads": 8}])[0]
    ck.true("ALiBi 8 heads are 1/2 ... 1/256", r["slopes"] == [2.0 ** -k for k in range(1, 9)], str(r["slopes"]))
    ops = []
    for _ in range(12):
        base = float(rng.choice([10000.0, rand_theta(rng)]))
        ops.append({"op": "sinusoidal", "position": int(rng.choice([0, rng.integers(1, MAX_POSITION + 1)])),
                    "d_model": 2 * int(rng.integers(1, 257)), "base": base})
    for op, r in zip(ops, probe(ops)):
        d, pos, base = op["d_model"], op["position"], op["base"]
        angle = pos / base ** (2.0 * np.arange(d // 2) / d)
        want = np.empty(d)
        want[0::2], want[1::2] = np.sin(angle), np.cos(angle)  # PE(p, 2i) = sin, PE(p, 2i + 1) = cos
        ck.close(f"sinusoidal d={d} p={pos} base={base:.6g}", r["values"], want, atol=ABS_COS)
    r = probe([{"op": "sinusoidal", "position": 3, "d_model": 5}])[0]
    ck.true("sinusoidal refuses an odd d_model", "error" in r)


PARTS = {"frequencies": part_frequencies, "cos_sin": part_cos_sin, "relative_position": part_relative_position,
         "rotation": part_rotation, "layouts": part_layouts, "baselines": part_baselines}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probe", required=True, help="path of the rope_probe executable")
    ap.add_argument("--part", choices=sorted(PARTS) + ["all"], default="all")
    ap.add_argument("--seed", type=int, help="replay a run (default: a fresh seed)")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int(np.random.SeedSequence().entropy % 2**63)
    print(f"seed {seed} (replay with --seed {seed})")
    probe, failed = Probe(args.probe), False
    for name in PARTS if args.part == "all" else [args.part]:
        ck = Checker()
        PARTS[name](probe, np.random.default_rng(seed), ck)
        print(f"{name}: {ck.count} values compared, worst error/tolerance {ck.worst:.3g}, "
              f"{len(ck.failures)} failures")
        for f in ck.failures[:20]:
            print("  FAIL", f)
        failed |= bool(ck.failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
