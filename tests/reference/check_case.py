#!/usr/bin/python3
"""Compare the dsmoe binary with the NumPy reference on one random tiny model (a ctest case).

Usage: /usr/bin/python3 tests/reference/check_case.py --dsmoe PATH --case NAME [--seed N] [--workdir DIR]
       /usr/bin/python3 tests/reference/check_case.py --list

The seed (fresh from os.urandom unless given, always printed) drives both the weights and the input ids,
so any failure is reproduced by re-running with the printed --seed. Exit status 0 iff every check passes.

RoPE cases (rope_*): a tiny model with a small max_position_embeddings run on 2-4x longer sequences, the scaling
given by config.json (rope_scaling, written by tiny_model.py) or by dsmoe's --rope-* flags, which
reference_config() applies to the reference's config the way the flags are documented. With --prefill, the
decode logits are compared with the reference's simulation of HF's incremental decoding (reference_forward.decode
under the policy of --rope-dynamic); where that policy makes them differ from the full pass (dynamic NTK, 'grow',
past max_pos) the case also asserts that they do differ by more than POLICY_MIN_GAP, and otherwise that the
engine's decode logits equal the reference's full pass.

Tolerance: 1e-4 relative (max|ours - ref| / max|ref| per tensor). The reference accumulates in float64,
so this only has to cover the engine's float32 rounding. bf16/f16 cases use the same tolerance: the
reference decodes the very same stored bf16/f16 values to float32 and computes in float32, exactly as the
engine is expected to; HF itself would compute in bf16 and is NOT what these cases compare against.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_forward import decode, forward, min_routing_margin, routing_arrays  # noqa: E402
from tiny_model import load_model, write_model  # noqa: E402

DEFAULT_TOL = 1e-4
# Gate-probability gap below which the reference's top-k choice could legitimately flip under float32
# rounding in the engine (its probability errors are ~1e-6). Such ids are redrawn, deterministically.
MIN_ROUTING_MARGIN = 1e-4
MAX_ID_DRAWS = 50
# Smallest relative gap between HF-style 'grow' decode logits and the full pass that shows the cached keys' old
# rotation matters (DEEPSEEK.md measured 1.2e-2 on a tiny model); 10x the comparison tolerance.
POLICY_MIN_GAP = 1e-3


def case(batch=1, seq=12, prefill=(), tol=DEFAULT_TOL, flags=(), **model):
    return {"batch": batch, "seq": seq, "prefill": list(prefill), "tol": tol, "flags": list(flags),
            "model": model}


def dynamic(factor):
    return {"type": "dynamic", "factor": factor}


def yarn(factor, **keys):
    return dict({"type": "yarn", "factor": factor}, **keys)


# Model options not given take tiny_model.DEFAULT_OPTIONS (deepseek, H 64, 3 layers, 8 experts, top-2,
# 1 shared, first_dense 1, norm_topk false, max_pos 32, f32).
CASES = {
    "deepseek_basic": case(first_dense=1, top_k=2, shared=1, norm_topk=False),
    "deepseek_norm_topk": case(norm_topk=True, top_k=3),
    # HF renormalises only when top_k > 1: with k=1 the weight stays the raw softmax probability.
    "deepseek_topk1": case(top_k=1, norm_topk=True),
    "deepseek_first_dense0": case(first_dense=0),
    "deepseek_first_dense2": case(first_dense=2, layers=4),
    # layer_idx % 2 == 0 and >= 1: layers 2 and 4 MoE, 0, 1 and 3 dense.
    "deepseek_moe_freq2": case(moe_freq=2, first_dense=1, layers=5),
    "deepseek_shared0": case(shared=0),
    "deepseek_shared2": case(shared=2),
    "deepseek_gqa": case(kv_heads=2),
    "deepseek_batch3": case(batch=3),
    # Plain RoPE just extends past max_position_embeddings.
    "deepseek_long": case(max_pos=16, seq=40),
    # Llama-3-like theta and a larger eps: an engine that ignored either key would fail here.
    "deepseek_theta_eps": case(theta=500000.0, eps=1e-5, max_pos=16, seq=30),
    # HF's linear scaling divides positions by the factor, here past max_position_embeddings too.
    "deepseek_rope_linear": case(rope_linear=4.0, max_pos=16, seq=40, prefill=(7,)),
    "deepseek_sharded": case(shards=3),
    "deepseek_bf16": case(dtype="bf16"),
    "deepseek_f16": case(dtype="f16"),
    "llama_gqa": case(arch="llama", heads=4, kv_heads=2),
    # head_dim 8 != hidden/heads = 12: q/o projections are [32, 48] / [48, 32].
    "llama_tied": case(arch="llama", tie=True, kv_heads=1, head_dim=8, hidden=48, heads=4),
    "kv_cache": case(batch=2, seq=14, prefill=(1, 5, 13)),
    # --- RoPE past max_position_embeddings (16 or 32 here), sequences 2-4x longer ---
    # No scaling: plain extrapolation, 4x, with a KV cache crossing max_pos.
    "rope_none_4x": case(max_pos=16, seq=64, prefill=(10,)),
    # Linear given by flags on a file without rope_scaling.
    "rope_linear_flags": case(max_pos=16, seq=48, prefill=(20,),
                              flags=("--rope-scaling", "linear", "--rope-scale", "3")),
    # Dynamic NTK from config.json, default policy 'grow' (HF): prefill below and above max_pos, then decode.
    "rope_dynamic_grow": case(max_pos=16, seq=48, prefill=(8, 30), rope_scaling=dynamic(2.0)),
    # The same by flags on a GQA Llama, 3x max_pos 32, factor 4, policy named explicitly.
    "rope_dynamic_grow_flags": case(arch="llama", kv_heads=2, max_pos=32, seq=96, prefill=(40,),
                                    flags=("--rope-scaling", "dynamic", "--rope-scale", "4",
                                           "--rope-dynamic", "grow")),
    # Policy 'fixed': one base for the session's context S, so decode equals the full pass of length S.
    "rope_dynamic_fixed": case(max_pos=16, seq=48, prefill=(8, 30), rope_scaling=dynamic(2.0),
                               flags=("--rope-dynamic", "fixed")),
    # YaRN from config.json: betas that put pairs 1 and 2 inside the ramp (head_dim 16, L0 = max_pos 16),
    # no floor/ceil (truncate false).
    "rope_yarn": case(arch="llama", max_pos=16, seq=64, prefill=(6,),
                      rope_scaling=yarn(4.0, beta_fast=4.0, beta_slow=0.25, truncate=False)),
    # attention_factor from mscale / mscale_all_dim when both are truthy.
    "rope_yarn_mscale": case(arch="llama", max_pos=16, seq=48,
                             rope_scaling=yarn(4.0, mscale=1.0, mscale_all_dim=0.5)),
    # mscale_all_dim 0 is falsy: transformers falls back to 0.1 ln s + 1 and ignores mscale 0.707.
    "rope_yarn_mscale_zero": case(arch="llama", max_pos=16, seq=48,
                                  rope_scaling=yarn(4.0, mscale=0.707, mscale_all_dim=0.0)),
    # YaRN by flags: L0 = 8 (--yarn-orig-ctx; factor 4 = max_pos / L0, so every transformers version agrees),
    # betas that ramp pairs 1 and 2 (corr(2) -> 0, corr(0.1) -> 3) and a given attention factor.
    "rope_yarn_flags": case(max_pos=32, seq=96, prefill=(12,),
                            flags=("--rope-scaling", "yarn", "--rope-scale", "4", "--yarn-orig-ctx", "8",
                                   "--yarn-beta-fast", "2", "--yarn-beta-slow", "0.1",
                                   "--yarn-attn-factor", "1.25")),
    # Partial rotary (Phi/StableLM-style partial_rotary_factor): half of each head rotates, the rest passes.
    "rope_partial": case(arch="llama", partial_rotary=0.5, max_pos=16, seq=40),
    # Partial rotary with dynamic NTK: the exponent d/(d-2) uses the rotary dim 8, not head_dim 16.
    "rope_partial_dynamic": case(arch="llama", partial_rotary=0.5, max_pos=16, seq=48, prefill=(12,),
                                 rope_scaling=dynamic(3.0)),
}

# dsmoe's --rope-* flags and the config.json key each one stands for (llama.cpp's spelling).
FLAG_KEYS = {"--rope-scale": "factor", "--yarn-orig-ctx": "original_max_position_embeddings",
             "--yarn-beta-fast": "beta_fast", "--yarn-beta-slow": "beta_slow",
             "--yarn-attn-factor": "attention_factor"}


def reference_config(cfg, flags):
    """(config the reference should see, dynamic policy) for the engine's config plus --rope-* flags."""
    cfg = dict(cfg)
    scaling = dict(cfg.get("rope_scaling") or {})
    policy = "grow"
    it = iter(flags)
    for flag in it:
        value = next(it)
        if flag == "--rope-scaling":
            scaling.pop("rope_type", None)
            scaling["type"] = value
        elif flag == "--rope-freq-base":
            cfg["rope_theta"] = float(value)
        elif flag == "--rope-dynamic":
            policy = value
        elif flag == "--yarn-orig-ctx":
            scaling[FLAG_KEYS[flag]] = int(value)
        elif flag in FLAG_KEYS:
            scaling[FLAG_KEYS[flag]] = float(value)
        else:
            raise ValueError(f"reference_config does not know the flag {flag}")
    cfg["rope_scaling"] = scaling or None
    return cfg, policy


def policy_matters(cfg, policy, seq):
    """True when HF-style decoding must differ from the full pass: dynamic NTK grown past max_pos."""
    scaling = cfg.get("rope_scaling") or {}
    kind = scaling.get("rope_type") or scaling.get("type")
    return kind == "dynamic" and policy == "grow" and seq > cfg["max_position_embeddings"]


class Report:
    """Collects one PASS/FAIL line per compared quantity."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, line):
        print(f"{line}{'' if ok else '  FAIL'}")
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    def rel_err(self, name, ours, ref, tol):
        if ours.shape != ref.shape:
            return self.check(False, f"{name} shape {list(ours.shape)} != reference {list(ref.shape)}")
        scale = float(np.max(np.abs(ref.astype(np.float64))))
        diff = float(np.max(np.abs(ours.astype(np.float64) - ref.astype(np.float64)), initial=0.0))
        err = diff / scale if scale > 0 else diff
        return self.check(bool(err <= tol), f"{name} rel_err={err:.1e} (tol {tol:.0e})")


def draw_ids(seed, cfg, weights, batch, seq, prefills=(), policy="grow"):
    """Uniform ids in [0, V); redrawn while some routing choice of the full pass or of an incremental decode
    (one per prefill) is a near-tie (see MIN_ROUTING_MARGIN).
    Returns (ids, full pass, {prefill: decode logits})."""
    for attempt in range(MAX_ID_DRAWS):
        ids = np.random.default_rng([seed, 1, attempt]).integers(0, cfg["vocab_size"], (batch, seq))
        ref = forward(cfg, weights, ids)
        margin, decoded = min_routing_margin(ref), {}
        for k in prefills:
            decoded[k], decode_margin, _ = decode(cfg, weights, ids, k, policy)
            margin = min(margin, decode_margin)
        if margin >= MIN_ROUTING_MARGIN:
            return ids, ref, decoded
        print(f"note: ids draw {attempt} has a routing near-tie (gate prob gap {margin:.1e}); redrawing")
    raise RuntimeError(f"no ids without a routing near-tie in {MAX_ID_DRAWS} draws")


def ids_argument(ids):
    return ";".join(",".join(str(int(t)) for t in row) for row in ids)


def run_dsmoe(dsmoe, model_dir, ids, out_dir, prefill, flags=()):
    os.makedirs(out_dir, exist_ok=True)
    cmd = [dsmoe, "logits", "-m", model_dir, "--ids", ids_argument(ids), "--out", out_dir,
           "--hidden-states", "--routing"] + list(flags)
    if prefill is not None:
        cmd += ["--prefill", str(prefill)]
    print("run: " + " ".join(f'"{c}"' if ";" in c else c for c in cmd))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as err:
        return False, str(err)
    return proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}"


def relative_gap(ours, ref):
    return float(np.max(np.abs(ours.astype(np.float64) - ref)) / np.max(np.abs(ref.astype(np.float64))))


def load_npy(out_dir, name):
    path = os.path.join(out_dir, name)
    return np.load(path) if os.path.exists(path) else None


def compare_routing(report, out_dir, ref, tol, required):
    ref_layers, ref_experts, ref_weights = routing_arrays(ref)
    layers = load_npy(out_dir, "routing_layers.npy")
    if layers is None:
        if required:
            report.check(False, "routing_layers.npy missing")
        return
    if not report.check(list(layers) == list(ref_layers),
                        f"routing_layers {list(layers)} (reference {list(ref_layers)})"):
        return
    if len(ref_layers) == 0:
        return  # no MoE layer: the expert/weight arrays have nothing to say
    experts = load_npy(out_dir, "routing_experts.npy")
    weights = load_npy(out_dir, "routing_weights.npy")
    if experts is None or weights is None:
        report.check(False, "routing_experts.npy / routing_weights.npy missing")
        return
    if experts.shape != ref_experts.shape or weights.shape != ref_weights.shape:
        report.check(False, f"routing shapes experts {list(experts.shape)} weights {list(weights.shape)}"
                            f" != reference {list(ref_experts.shape)}")
        return
    # Slot order within the top-k is unspecified (topk sorted=False): canonicalise by expert id.
    order = np.argsort(experts, axis=-1, kind="stable")
    experts = np.take_along_axis(experts, order, -1)
    weights = np.take_along_axis(weights, order, -1)
    for m, layer in enumerate(ref_layers):
        bad = np.argwhere(np.any(experts[m] != ref_experts[m], axis=-1))
        if report.check(len(bad) == 0, f"routing_experts[layer {layer}] "
                                       f"{'match' if len(bad) == 0 else f'{len(bad)} tokens differ'}"):
            report.rel_err(f"routing_weights[layer {layer}]", weights[m], ref_weights[m], tol)
            continue
        margin = ref["routing"][int(layer)]["margin"]
        for b, s in bad[:5]:
            print(f"  token b={b} s={s}: ours {list(experts[m, b, s])} reference "
                  f"{list(ref_experts[m, b, s])} (reference gate gap {margin[b, s]:.1e})")


def compare_run(report, out_dir, ref, tol, prefill, decoded=None, differs=False):
    """Compare every output of one dsmoe run; full-pass outputs are mandatory without --prefill.
    decoded: the reference's incremental-decoding logits for this prefill; differs: they must differ from the
    full pass (the RoPE policy matters), else the engine's decode logits must also equal the full pass."""
    required = prefill is None
    tag = "" if prefill is None else f" [prefill {prefill}]"
    logits = load_npy(out_dir, "logits.npy")
    if logits is not None:
        report.rel_err("logits" + tag, logits, ref["logits"], tol)
    elif required:
        report.check(False, "logits.npy missing")
    hidden = load_npy(out_dir, "hidden_states.npy")
    if hidden is not None:
        ref_hidden = ref["hidden_states"]
        if hidden.shape != ref_hidden.shape:
            report.check(False, f"hidden_states shape {list(hidden.shape)} != {list(ref_hidden.shape)}")
        else:
            for i in range(ref_hidden.shape[0]):
                report.rel_err(f"hidden_states[{i}]{tag}", hidden[i], ref_hidden[i], tol)
    elif required:
        report.check(False, "hidden_states.npy missing")
    compare_routing(report, out_dir, ref, tol, required)
    if prefill is not None:
        ours = load_npy(out_dir, "logits_decode.npy")
        if ours is None:
            report.check(False, f"logits_decode.npy missing{tag}")
        else:
            report.rel_err(f"logits_decode vs reference decode{tag}", ours, decoded, tol)
            if differs:
                gap = relative_gap(decoded, ref["logits"])
                report.check(gap > POLICY_MIN_GAP, f"reference decode differs from the full pass{tag}: "
                                                   f"rel {gap:.1e} (must exceed {POLICY_MIN_GAP:.0e})")
                gap = relative_gap(ours, ref["logits"])
                report.check(gap > POLICY_MIN_GAP, f"logits_decode differs from the full pass{tag}: rel {gap:.1e}")
            else:
                report.rel_err(f"logits_decode vs reference full pass{tag}", ours, ref["logits"], tol)


def run_case(dsmoe, name, seed, workdir):
    spec = CASES[name]
    model_dir = os.path.join(workdir, "model")
    model_opts = dict(spec["model"], seed=seed)
    write_model(model_dir, **model_opts)
    opts = " ".join(f"--{k.replace('_', '-')}" + ("" if v is True else f" '{json.dumps(v)}'" if isinstance(v, dict)
                                                  else f" {v}")
                    for k, v in model_opts.items() if v is not False and v is not None)
    print(f"model: tiny_model.py --out {model_dir} {opts}")
    # The reference reads the files back, so bf16/f16 rounding is exactly what the engine sees.
    engine_cfg, weights = load_model(model_dir)
    cfg, policy = reference_config(engine_cfg, spec["flags"])
    if spec["flags"]:
        print(f"flags: {' '.join(spec['flags'])}  (reference rope_scaling {cfg['rope_scaling']}, policy {policy})")
    ids, ref, decoded = draw_ids(seed, cfg, weights, spec["batch"], spec["seq"], spec["prefill"], policy)
    np.save(os.path.join(workdir, "ids.npy"), ids.astype(np.int32))
    differs = policy_matters(cfg, policy, spec["seq"])
    report = Report()
    for prefill in (spec["prefill"] or [None]):
        out_dir = os.path.join(workdir, "out" if prefill is None else f"out_prefill{prefill}")
        ok, log = run_dsmoe(dsmoe, model_dir, ids, out_dir, prefill, spec["flags"])
        if not report.check(ok, f"dsmoe ran{'' if prefill is None else f' [prefill {prefill}]'}"):
            print(log)
            continue
        compare_run(report, out_dir, ref, spec["tol"], prefill, decoded.get(prefill), differs)
    print(f"{report.passed} passed, {report.failed} failed")
    return report.failed == 0


def main(argv=None):
    p = argparse.ArgumentParser(description="dsmoe vs NumPy reference on a random tiny model")
    p.add_argument("--dsmoe", help="path of the dsmoe binary")
    p.add_argument("--case", choices=sorted(CASES))
    p.add_argument("--seed", type=int, help="default: fresh from os.urandom (printed)")
    p.add_argument("--workdir", help="keep files here (default: temp dir, removed on success)")
    p.add_argument("--list", action="store_true", help="print the case names and exit")
    args = p.parse_args(argv)
    if args.list:
        print("\n".join(CASES))
        return 0
    if not args.dsmoe or not args.case:
        p.error("--dsmoe and --case are required (or --list)")
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    print(f"case {args.case} seed {seed}  (reproduce: {sys.executable} {sys.argv[0]} --dsmoe {args.dsmoe} "
          f"--case {args.case} --seed {seed})")
    workdir = args.workdir or tempfile.mkdtemp(prefix=f"dsmoe_{args.case}_")
    os.makedirs(workdir, exist_ok=True)
    ok = run_case(args.dsmoe, args.case, seed, workdir)
    if ok and not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    elif not ok:
        print(f"files kept in {workdir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
