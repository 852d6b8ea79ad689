#!/usr/bin/python3
"""Self-checks of the NumPy reference, the safetensors writer and the check_case.py driver.

Run: /usr/bin/python3 tests/reference/test_reference.py   (plain asserts; prints "N passed, M failed")
The reference is only worth something if it is right on its own, so each test pins one property from
DEEPSEEK.md by an independent route (a naive loop, an equivalent model, an invariance).
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference_forward as ref  # noqa: E402
import reference_rope as rr  # noqa: E402
import tiny_model as tm  # noqa: E402

TMP = tempfile.mkdtemp(prefix="dsmoe_reftest_")


def tiny(name, **options):
    """Write a tiny model under TMP/name and read it back: (config, weights)."""
    path = os.path.join(TMP, name)
    tm.write_model(path, **options)
    return tm.load_model(path)


def random_ids(cfg, batch, seq, seed=7):
    return np.random.default_rng(seed).integers(0, cfg["vocab_size"], (batch, seq))


def rel_err(a, b):
    return float(np.max(np.abs(a.astype(np.float64) - b)) / np.max(np.abs(b)))


# ---------------------------------------------------------------- safetensors + config
def test_safetensors_roundtrip_f32_and_sharded():
    cfg = tm.build_config(dict(tm.DEFAULT_OPTIONS))
    weights = tm.make_weights(cfg, seed=3)
    for shards in (1, 4):
        path = os.path.join(TMP, f"rt{shards}")
        tm.save_model(path, cfg, weights, "f32", shards)
        cfg2, back = tm.load_model(path)
        assert cfg2 == cfg
        assert list(back) == list(weights) or set(back) == set(weights)
        for name, w in weights.items():
            assert back[name].shape == w.shape and np.array_equal(back[name], w), name
    with open(os.path.join(TMP, "rt4", "model.safetensors.index.json")) as f:
        index = json.load(f)
    assert set(index["weight_map"]) == set(weights)
    assert index["metadata"]["total_size"] == sum(w.size * 4 for w in weights.values())
    files = sorted(set(index["weight_map"].values()))
    assert files == [f"model-{i:05d}-of-00004.safetensors" for i in range(1, 5)]
    order = [index["weight_map"][n] for n in weights]  # split in order: file names non-decreasing
    assert order == sorted(order)


def test_safetensors_header_layout():
    path = os.path.join(TMP, "hdr.safetensors")
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    tm.write_safetensors(path, [("a", a), ("b", a[0])], "f32")
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0 and len(raw) == 8 + n + 4 * 9
    header = json.loads(raw[8:8 + n])
    assert header["__metadata__"] == {"format": "pt"}
    assert header["a"] == {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
    assert header["b"] == {"dtype": "F32", "shape": [3], "data_offsets": [24, 36]}


def test_bf16_round_to_nearest_even():
    one_ulp = 2.0 ** -7  # bf16 has 7 explicit mantissa bits
    x = np.array([1.0, 1 + one_ulp / 2, 1 + 1.5 * one_ulp, 1 + 0.6 * one_ulp, -2.5, 3e38, 1e-40],
                 dtype=np.float32)
    back = tm.bf16_bits_to_f32(tm.f32_to_bf16_bits(x))
    expect = [1.0, 1.0, 1 + 2 * one_ulp, 1 + one_ulp, -2.5]  # ties go to the even mantissa
    assert np.array_equal(back[:5], np.array(expect, np.float32)), back
    assert abs(back[5] / 3e38 - 1) < 2 ** -8 and np.isfinite(back[5])
    assert np.isnan(tm.bf16_bits_to_f32(tm.f32_to_bf16_bits(np.array([np.nan], np.float32))))[0]


def test_bf16_f16_files_decode_to_rounded_values():
    _, w32 = tiny("d32", seed=11)
    _, w16 = tiny("dbf16", seed=11, dtype="bf16")
    _, wh = tiny("df16", seed=11, dtype="f16")
    for name, w in w32.items():
        assert np.all(w16[name].view(np.uint32) & 0xFFFF == 0), name  # exactly bf16 values
        assert np.max(np.abs(w16[name] - w)) <= np.max(np.abs(w)) * 2 ** -8
        assert np.array_equal(wh[name], w.astype(np.float16).astype(np.float32)), name


def test_config_keys_match_real_deepseek_config():
    real = json.load(open("/work/shared/configs/deepseek-moe-16b-base.json"))
    cfg = tm.build_config(dict(tm.DEFAULT_OPTIONS))
    assert set(cfg) == set(real), set(cfg) ^ set(real)
    assert cfg["model_type"] == "deepseek" and cfg["architectures"] == ["DeepseekForCausalLM"]
    none = tm.build_config(dict(tm.DEFAULT_OPTIONS, shared=0))
    assert none["n_shared_experts"] is None
    llama = tm.build_config(dict(tm.DEFAULT_OPTIONS, arch="llama", head_dim=8, tie=True))
    assert llama["head_dim"] == 8 and llama["tie_word_embeddings"] and "n_routed_experts" not in llama


def test_tensor_names_and_shapes():
    cfg, w = tiny("names", layers=3, first_dense=1, shared=2, experts=4, moe_inter=16)
    assert w["model.layers.0.mlp.gate_proj.weight"].shape == (96, 64)
    assert "model.layers.0.mlp.gate.weight" not in w
    assert w["model.layers.1.mlp.gate.weight"].shape == (4, 64)
    assert w["model.layers.2.mlp.experts.3.down_proj.weight"].shape == (64, 16)
    assert w["model.layers.1.mlp.shared_experts.up_proj.weight"].shape == (32, 64)  # one MLP, 2*16
    _, w = tiny("names_tied", arch="llama", tie=True, hidden=48, heads=4, kv_heads=1, head_dim=8)
    assert "lm_head.weight" not in w
    assert w["model.layers.0.self_attn.q_proj.weight"].shape == (32, 48)
    assert w["model.layers.0.self_attn.k_proj.weight"].shape == (8, 48)
    assert w["model.layers.0.self_attn.o_proj.weight"].shape == (48, 32)


def test_layer_kind_rule():
    cfg = tm.build_config(dict(tm.DEFAULT_OPTIONS, layers=5, first_dense=1, moe_freq=2))
    assert [tm.is_moe_layer(cfg, i) for i in range(5)] == [False, False, True, False, True]
    cfg = tm.build_config(dict(tm.DEFAULT_OPTIONS, first_dense=0))
    assert all(tm.is_moe_layer(cfg, i) for i in range(3))
    llama = tm.build_config(dict(tm.DEFAULT_OPTIONS, arch="llama"))
    assert not any(tm.is_moe_layer(llama, i) for i in range(3))


# ---------------------------------------------------------------- forward pass properties
def test_hidden_state_zero_is_embedding_and_last_is_normed():
    cfg, w = tiny("emb", seed=2)
    ids = random_ids(cfg, 2, 9)
    out = ref.forward(cfg, w, ids)
    L = cfg["num_hidden_layers"]
    assert out["hidden_states"].shape == (L + 1, 2, 9, cfg["hidden_size"])
    assert np.array_equal(out["hidden_states"][0], w["model.embed_tokens.weight"][ids])
    logits = out["hidden_states"][L].astype(np.float64) @ w["lm_head.weight"].T.astype(np.float64)
    assert rel_err(out["logits"], logits) < 1e-6
    assert out["logits"].dtype == np.float32 and out["logits"].shape == (2, 9, cfg["vocab_size"])


def test_causal_mask_and_prefix_consistency():
    cfg, w = tiny("causal", seed=4, max_pos=8)
    ids = random_ids(cfg, 2, 20)  # also runs past max_position_embeddings
    full = ref.forward(cfg, w, ids)["logits"]
    changed = ids.copy()
    changed[:, 13] = (changed[:, 13] + 1) % cfg["vocab_size"]
    other = ref.forward(cfg, w, changed)["logits"]
    assert np.allclose(other[:, :13], full[:, :13], rtol=0, atol=1e-6)
    assert not np.allclose(other[:, 13:], full[:, 13:], atol=1e-3)
    for t in (1, 5, 17):  # a correct KV cache reproduces these
        assert np.allclose(ref.forward(cfg, w, ids[:, :t])["logits"], full[:, :t], atol=1e-6)


def naive_attention(x, w, prefix, cfg):
    """Per-position loop with RoPE applied to explicit (j, j + D/2) pairs at angles in float64."""
    B, S, _ = x.shape
    nh, nkv, D = cfg["num_attention_heads"], cfg["num_key_value_heads"], tm.head_dim_of(cfg)
    q = (x @ w[prefix + ".q_proj.weight"].T.astype(np.float64)).reshape(B, S, nh, D)
    k = (x @ w[prefix + ".k_proj.weight"].T.astype(np.float64)).reshape(B, S, nkv, D)
    v = (x @ w[prefix + ".v_proj.weight"].T.astype(np.float64)).reshape(B, S, nkv, D)
    half = D // 2
    inv = cfg["rope_theta"] ** (-np.arange(half) * 2.0 / D)

    def rotate(vec, pos):
        c, s = np.cos(pos * inv), np.sin(pos * inv)
        a, b = vec[..., :half], vec[..., half:]
        return np.concatenate([a * c - b * s, a * s + b * c], axis=-1)

    out = np.zeros((B, S, nh, D))
    for b in range(B):
        for h in range(nh):
            g = h // (nh // nkv)
            keys = np.stack([rotate(k[b, p, g], p) for p in range(S)])
            for t in range(S):
                sc = keys[:t + 1] @ rotate(q[b, t, h], t) / np.sqrt(D)
                p = np.exp(sc - sc.max())
                out[b, t, h] = (p / p.sum()) @ v[b, :t + 1, g]
    return out.reshape(B, S, nh * D) @ w[prefix + ".o_proj.weight"].T.astype(np.float64)


def test_attention_matches_naive_loop():
    for name, opts in [("att_mha", {}), ("att_gqa", dict(arch="llama", kv_heads=2)),
                       ("att_hd", dict(arch="llama", kv_heads=1, head_dim=8, hidden=48))]:
        cfg, w = tiny(name, seed=5, **opts)
        x = np.random.default_rng(1).standard_normal((2, 11, cfg["hidden_size"])).astype(np.float32)
        cos, sin = rr.rope_cos_sin(rr.rope_plan(cfg, 11), np.arange(11))
        ours = ref.attention(x, w, "model.layers.1.self_attn", cfg, cos, sin)
        assert rel_err(ours, naive_attention(x, w, "model.layers.1.self_attn", cfg)) < 1e-5, name


def test_gqa_equals_mha_with_repeated_kv_weights():
    cfg, w = tiny("gqa", arch="llama", heads=4, kv_heads=2, seed=8)
    D = tm.head_dim_of(cfg)
    mha_cfg, mha_w = dict(cfg, num_key_value_heads=4), dict(w)
    for i in range(cfg["num_hidden_layers"]):
        for kv in ("k_proj", "v_proj"):
            name = f"model.layers.{i}.self_attn.{kv}.weight"
            per_head = w[name].reshape(2, D, -1)
            mha_w[name] = np.repeat(per_head, 2, axis=0).reshape(4 * D, -1)  # head h -> kv h // 2
    ids = random_ids(cfg, 1, 10)
    assert rel_err(ref.forward(cfg, w, ids)["logits"], ref.forward(mha_cfg, mha_w, ids)["logits"]) < 1e-6


def test_tied_head_uses_embeddings():
    cfg, w = tiny("tied", arch="llama", tie=True, seed=9)
    untied = dict(w, **{"lm_head.weight": w["model.embed_tokens.weight"].copy()})
    ids = random_ids(cfg, 1, 6)
    a = ref.forward(cfg, w, ids)["logits"]
    b = ref.forward(dict(cfg, tie_word_embeddings=False), untied, ids)["logits"]
    assert np.array_equal(a, b)


def test_single_expert_top1_equals_dense_model():
    cfg, w = tiny("one_expert", experts=1, top_k=1, shared=0, first_dense=0, seed=10)
    dense_cfg = dict(cfg, n_routed_experts=None, intermediate_size=cfg["moe_intermediate_size"])
    dense_w = {n.replace(".mlp.experts.0.", ".mlp."): a for n, a in w.items() if ".mlp.gate." not in n}
    ids = random_ids(cfg, 2, 8)
    moe, dense = ref.forward(cfg, w, ids), ref.forward(dense_cfg, dense_w, ids)
    assert np.allclose(moe["hidden_states"], dense["hidden_states"], rtol=0, atol=1e-6)
    assert all(np.all(r["weights"] == 1.0) for r in moe["routing"].values())


def test_routing_weights_and_renormalisation():
    for k, norm in [(3, True), (2, False), (1, True)]:
        cfg, w = tiny(f"route{k}{norm}", top_k=k, norm_topk=norm, seed=12)
        out = ref.forward(cfg, w, random_ids(cfg, 2, 10))
        for layer, r in out["routing"].items():
            sums = r["weights"].astype(np.float64).sum(-1)
            assert r["experts"].shape == (2, 10, k) and np.all(np.diff(r["experts"], axis=-1) > 0)
            if k > 1 and norm:
                assert np.allclose(sums, 1.0, atol=1e-6)
            else:  # raw softmax probabilities (k=1 is never renormalised): sum < 1
                assert np.all(sums < 1.0) and np.all(sums > 0)


def naive_moe(x, w, prefix, cfg):
    """Token by token: softmax, pick k best, add weighted experts in increasing id, then shared."""
    out = np.zeros(x.shape)
    for t, xt in enumerate(x.astype(np.float64)):
        logits = w[prefix + ".gate.weight"].astype(np.float64) @ xt
        p = np.exp(logits - logits.max())
        p /= p.sum()
        k = cfg["num_experts_per_tok"]
        chosen = sorted(sorted(range(len(p)), key=lambda e: -p[e])[:k])
        scale = sum(p[e] for e in chosen) if k > 1 and cfg["norm_topk_prob"] else 1.0
        names = [(f"{prefix}.experts.{e}", p[e] / scale) for e in chosen]
        if cfg.get("n_shared_experts"):
            names.append((prefix + ".shared_experts", 1.0))
        for name, weight in names:
            g = w[name + ".gate_proj.weight"] @ xt
            u = w[name + ".up_proj.weight"] @ xt
            out[t] += weight * (w[name + ".down_proj.weight"] @ (g / (1 + np.exp(-g)) * u))
    return out


def test_moe_matches_naive_per_token_loop():
    for shared, k, norm in [(1, 2, False), (2, 3, True), (0, 1, True)]:
        cfg, w = tiny(f"moe{shared}{k}", shared=shared, top_k=k, norm_topk=norm, seed=13)
        x = np.random.default_rng(2).standard_normal((3, 7, cfg["hidden_size"])).astype(np.float32)
        ours, _ = ref.moe(x, w, "model.layers.1.mlp", cfg)
        expect = naive_moe(x.reshape(21, -1), w, "model.layers.1.mlp", cfg)
        assert rel_err(ours.reshape(21, -1), expect) < 1e-5, (shared, k, norm)


def rope_cfg(head_dim=16, theta=10000.0, max_pos=16, scaling=None, partial=None):
    cfg = {"hidden_size": head_dim, "num_attention_heads": 1, "rope_theta": theta,
           "max_position_embeddings": max_pos, "rope_scaling": scaling}
    if partial is not None:
        cfg["partial_rotary_factor"] = partial
    return cfg


def exact_cos(angles):
    """cos of [n, d/2] float64 angles laid out as HF's cat(freqs, freqs)."""
    return np.cos(np.concatenate([angles, angles], axis=-1))


def test_rope_cache_matches_double_precision():
    plan = rr.rope_plan(rope_cfg(max_pos=64), 64)
    cos, sin = rr.rope_cos_sin(plan, np.arange(64))
    angles = np.arange(64)[:, None] * 10000.0 ** (-np.arange(0, 16, 2) / 16.0)
    angles = np.concatenate([angles, angles], axis=-1)
    assert np.max(np.abs(cos - np.cos(angles))) < 2e-5 and np.max(np.abs(sin - np.sin(angles))) < 2e-5
    assert np.all(cos[0] == 1) and np.all(sin[0] == 0)


# ---------------------------------------------------------------- RoPE scaling, by independent float64 formulas
def test_linear_and_dynamic_angles():
    p, j = np.arange(48)[:, None], np.arange(8)
    inv = 10000.0 ** (-2.0 * j / 16)
    plan = rr.rope_plan(rope_cfg(scaling={"type": "linear", "factor": 3.0}), 48)
    assert np.max(np.abs(rr.rope_cos_sin(plan, np.arange(48))[0] - exact_cos(p / 3.0 * inv))) < 2e-5
    dyn = rope_cfg(scaling={"rope_type": "dynamic", "factor": 2.0})
    for seq in (1, 16):  # up to max_pos: the plain theta
        assert rr.rope_plan(dyn, seq)["base"] == 10000.0
    base = 10000.0 * 5.0 ** (16 / 14)  # seq 48 = 3 max_pos: 2 * 3 - (2 - 1) = 5
    plan = rr.rope_plan(dyn, 48)
    assert abs(plan["base"] / base - 1) < 1e-12
    assert np.max(np.abs(rr.rope_cos_sin(plan, np.arange(48))[0] - exact_cos(p * base ** (-2.0 * j / 16)))) < 2e-5


def test_yarn_ramp_and_attention_factor():
    # head_dim 16, theta 1e4, L0 32: corr(4) = 0.21 -> floor 0, corr(0.25) = 2.62 -> ceil 3, so pair j keeps
    # (1 - min(j / 3, 1)) of its frequency; by hand, not by the reference's correction_dim.
    scaling = {"type": "yarn", "factor": 4.0, "beta_fast": 4.0, "beta_slow": 0.25}
    plan = rr.rope_plan(rope_cfg(max_pos=32, scaling=scaling), 1)
    inv = 10000.0 ** (-2.0 * np.arange(8) / 16)
    ramp = np.minimum(np.arange(8) / 3.0, 1.0)
    assert np.allclose(plan["inv_freq"], inv * (1 - ramp) + inv / 4.0 * ramp, rtol=1e-6, atol=0)
    assert abs(plan["attention_factor"] - (0.1 * np.log(4.0) + 1)) < 1e-12
    cos = rr.rope_cos_sin(plan, [5])[0]
    assert np.allclose(cos, plan["attention_factor"] * exact_cos(5 * plan["inv_freq"][None].astype(np.float64)),
                       atol=1e-6)
    # truncate false: the ramp runs between the unrounded correction dims.
    plan = rr.rope_plan(rope_cfg(max_pos=32, scaling=dict(scaling, truncate=False)), 1)
    low, high = [16 * np.log(32 / (r * 2 * np.pi)) / (2 * np.log(10000.0)) for r in (4.0, 0.25)]
    ramp = np.clip((np.arange(8) - low) / (high - low), 0, 1)
    assert 0 < ramp[1] < ramp[2] < 1 and ramp[3] == 1
    assert np.allclose(plan["inv_freq"], inv * (1 - ramp) + inv / 4.0 * ramp, rtol=1e-6, atol=0)

    def factor(**keys):
        return rr.rope_plan(rope_cfg(scaling=dict({"type": "yarn", "factor": 4.0}, **keys)), 1)["attention_factor"]

    g = lambda m: 0.1 * m * np.log(4.0) + 1  # noqa: E731
    assert factor(attention_factor=1.25) == 1.25
    assert abs(factor(mscale=1.0, mscale_all_dim=0.5) - g(1.0) / g(0.5)) < 1e-12
    # transformers tests `mscale and mscale_all_dim` by truthiness: a 0 or a missing one means g(s, 1).
    assert abs(factor(mscale=0.707, mscale_all_dim=0.0) - g(1.0)) < 1e-12
    assert abs(factor(mscale=0.707) - g(1.0)) < 1e-12


def test_partial_rotary_rotates_the_first_dims_only():
    cfg = rope_cfg(partial=0.5)
    assert rr.rotary_dim(cfg) == 8
    plan = rr.rope_plan(cfg, 12)
    assert plan["inv_freq"].shape == (4,)  # inv_freq over the rotary dim: 1 / theta^(2j / 8)
    assert np.allclose(plan["inv_freq"], 10000.0 ** (-2.0 * np.arange(4) / 8), rtol=1e-6)
    x = np.random.default_rng(3).standard_normal((1, 2, 12, 16)).astype(np.float32)
    cos, sin = rr.rope_cos_sin(plan, np.arange(12))
    y = rr.apply_rope(x, cos, sin)
    assert np.array_equal(y[..., 8:], x[..., 8:])
    a, b = x[..., :4].astype(np.float64), x[..., 4:8].astype(np.float64)
    angle = np.arange(12)[:, None] * 10000.0 ** (-2.0 * np.arange(4) / 8)
    assert np.allclose(y[..., :4], a * np.cos(angle) - b * np.sin(angle), atol=1e-5)
    assert np.allclose(y[..., 4:8], a * np.sin(angle) + b * np.cos(angle), atol=1e-5)
    full = rr.rope_plan(rope_cfg(partial=1.0), 12)
    assert np.array_equal(full["inv_freq"], rr.rope_plan(rope_cfg(), 12)["inv_freq"])


def test_kv_decode_equals_full_pass_unless_dynamic_grows():
    for name, opts in [("dec_none", {}), ("dec_linear", dict(rope_linear=2.0)),
                       ("dec_yarn", dict(arch="llama", rope_scaling={"type": "yarn", "factor": 4.0})),
                       ("dec_dyn", dict(rope_scaling={"type": "dynamic", "factor": 2.0}))]:
        cfg, w = tiny(name, max_pos=16, seed=14, **opts)
        for seq in (12, 30):
            ids = random_ids(cfg, 2, seq)
            full = ref.forward(cfg, w, ids)["logits"]
            for policy in ("grow", "fixed"):
                logits, _, _ = ref.decode(cfg, w, ids, 5, policy)
                grows = name == "dec_dyn" and policy == "grow" and seq > 16
                assert (rel_err(logits, full) > 1e-3) if grows else (rel_err(logits, full) < 1e-6), \
                    (name, seq, policy, rel_err(logits, full))


def test_grow_decode_keeps_each_key_rotated_with_its_steps_base():
    """Layer 0's keys do not depend on attention, so each cached one can be recomputed by hand: position p,
    stored by the call whose kv length was max(p + 1, prefill), rotated with that length's NTK base."""
    cfg, w = tiny("grow_keys", max_pos=16, seed=15, rope_scaling={"type": "dynamic", "factor": 2.0})
    ids, prefill, D = random_ids(cfg, 1, 30), 10, tm.head_dim_of(cfg)
    cache = ref.KvCache(rr.KvRope("grow"))
    bases = [ref.forward(cfg, w, ids[:, :prefill], cache)["rope_base"]]
    bases += [ref.forward(cfg, w, ids[:, t:t + 1], cache)["rope_base"] for t in range(prefill, 30)]
    ntk = lambda n: 10000.0 * (2.0 * n / 16 - 1.0) ** (D / (D - 2)) if n > 16 else 10000.0  # noqa: E731
    assert np.allclose(bases, [ntk(prefill)] + [ntk(t + 1) for t in range(prefill, 30)], rtol=1e-12)
    x = w["model.embed_tokens.weight"][ids[0]].astype(np.float64)
    x = x / np.sqrt(np.mean(x * x, -1, keepdims=True) + cfg["rms_norm_eps"])
    x = x * w["model.layers.0.input_layernorm.weight"]
    k = (x @ w["model.layers.0.self_attn.k_proj.weight"].T.astype(np.float64)).reshape(30, -1, D)
    got = cache.keys["model.layers.0.self_attn"][0].transpose(1, 0, 2)  # [S, n_kv, D]
    half = D // 2
    for p in range(30):
        angle = p * ntk(max(p + 1, prefill)) ** (-2.0 * np.arange(half) / D)
        a, b = k[p, :, :half], k[p, :, half:]
        expect = np.concatenate([a * np.cos(angle) - b * np.sin(angle), a * np.sin(angle) + b * np.cos(angle)], -1)
        assert np.max(np.abs(got[p] - expect)) < 1e-4 * np.max(np.abs(expect)), p


# ---------------------------------------------------------------- the driver can pass and fail
def run_driver(case, broken=""):
    env = dict(os.environ, DSMOE_FAKE_BREAK=broken)
    work = os.path.join(TMP, f"drv_{case}_{broken or 'ok'}")
    cmd = [sys.executable, os.path.join(HERE, "check_case.py"), "--dsmoe",
           os.path.join(HERE, "fake_dsmoe.py"), "--case", case, "--seed", "21", "--workdir", work]
    return subprocess.run(cmd, env=env, capture_output=True, text=True)


def test_driver_passes_a_correct_engine_and_fails_broken_ones():
    for case in ("deepseek_basic", "llama_gqa", "kv_cache"):
        proc = run_driver(case)
        assert proc.returncode == 0 and " 0 failed" in proc.stdout, proc.stdout + proc.stderr
    for broken in ("logits", "hidden", "routing_experts", "routing_weights", "routing_slots",
                   "decode", "crash"):
        proc = run_driver("kv_cache", broken)
        assert proc.returncode != 0 and "FAIL" in proc.stdout, (broken, proc.stdout[-2000:])


def main():
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and callable(f)]
    passed, failed = 0, 0
    for name, fn in tests:
        try:
            fn()
            passed += 1
            print(f"ok   {name}")
        except Exception as err:  # report every failing test, not only the first
            failed += 1
            print(f"FAIL {name}: {type(err).__name__}: {str(err)[:2000]}")
    print(f"{passed} passed, {failed} failed")
    if failed == 0:
        shutil.rmtree(TMP, ignore_errors=True)
    else:
        print(f"files kept in {TMP}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
