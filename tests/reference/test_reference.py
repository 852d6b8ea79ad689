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
        cos, sin = ref.rope_cos_sin(11, tm.head_dim_of(cfg), cfg["rope_theta"])
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


def test_rope_cache_matches_double_precision():
    cos, sin = ref.rope_cos_sin(64, 16, 10000.0)
    angles = np.arange(64)[:, None] * 10000.0 ** (-np.arange(0, 16, 2) / 16.0)
    angles = np.concatenate([angles, angles], axis=-1)
    assert np.max(np.abs(cos - np.cos(angles))) < 2e-5 and np.max(np.abs(sin - np.sin(angles))) < 2e-5
    assert np.all(cos[0] == 1) and np.all(sin[0] == 0)


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
