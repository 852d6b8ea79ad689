#!/usr/bin/python3
"""NumPy forward pass of DeepSeek-MoE v1 / Llama, written from /work/shared/DEEPSEEK.md.

It mirrors what the HuggingFace modeling code computes for a float32 model (eval mode, eager attention,
no padding, positions 0..S-1, or continuing a KV cache as HF's incremental decoding does; RoPE and its
scaling types live in reference_rope.py). Activations are float32 between operations; matmuls and reductions
accumulate in float64 and round to float32 once, so the reference is at least as accurate as any float32
engine and the comparison tolerance (1e-4 relative) only has to absorb the engine's own rounding.
"""
import numpy as np

from reference_rope import KvRope, apply_rope, rope_cos_sin, rope_plan, scaling_of
from tiny_model import head_dim_of, is_moe_layer

F32, F64 = np.float32, np.float64


def linear(x, weight):
    """nn.Linear without bias: x @ W^T with W [out, in]; f64 accumulation, one rounding to f32."""
    return (x.astype(F64) @ weight.astype(F64).T).astype(F32)


def rms_norm(x, weight, eps):
    """HF RMSNorm: x * rsqrt(mean(x^2) + eps) in f32, cast to the model dtype, THEN times weight."""
    xf = x.astype(F32)
    var = np.mean(xf.astype(F64) ** 2, axis=-1, keepdims=True).astype(F32)
    normed = (xf * (F32(1.0) / np.sqrt(var + F32(eps)))).astype(F32)
    return (weight.astype(F32) * normed).astype(F32)


def silu(x):
    return (x.astype(F64) / (1.0 + np.exp(-x.astype(F64)))).astype(F32)


def softmax(x, axis=-1):
    x64 = x.astype(F64)
    e = np.exp(x64 - np.max(x64, axis=axis, keepdims=True))
    return (e / np.sum(e, axis=axis, keepdims=True)).astype(F32)


def mlp(x, weights, prefix):
    """DeepseekMLP / LlamaMLP: down(silu(gate x) * up x)."""
    gate = linear(x, weights[prefix + ".gate_proj.weight"])
    up = linear(x, weights[prefix + ".up_proj.weight"])
    return linear((silu(gate) * up).astype(F32), weights[prefix + ".down_proj.weight"])


# ----------------------------------------------------------------------------------------------
# attention
# ----------------------------------------------------------------------------------------------
def attention(x, weights, prefix, cfg, cos, sin, cache=None):
    """Causal multi-head attention with GQA; x [B, S, H] -> [B, S, H].

    cos/sin [S, d] rotate the S new positions. cache: a KvCache whose rotated keys and values of the past
    positions come before the new ones (HF caches keys after RoPE), extended here by this layer's new ones."""
    B, S, _ = x.shape
    n_heads = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_heads
    D = head_dim_of(cfg)
    if cfg.get("attention_bias"):
        raise NotImplementedError("attention_bias=true is not modelled by the reference")

    def heads(name, n):  # [B, S, n*D] -> [B, n, S, D]
        return linear(x, weights[f"{prefix}.{name}.weight"]).reshape(B, S, n, D).transpose(0, 2, 1, 3)

    q = apply_rope(heads("q_proj", n_heads), cos, sin)
    k = apply_rope(heads("k_proj", n_kv), cos, sin)
    v = heads("v_proj", n_kv)
    if cache is not None:
        k, v = cache.extend(prefix, k, v)
    past = k.shape[2] - S
    # repeat_kv: query head h reads kv head h // (n_heads / n_kv).
    k = np.repeat(k, n_heads // n_kv, axis=1)
    v = np.repeat(v, n_heads // n_kv, axis=1)
    scores = (q.astype(F64) @ k.astype(F64).transpose(0, 1, 3, 2)) / np.sqrt(F64(D))
    future = np.triu(np.ones((S, past + S), dtype=bool), k=past + 1)  # query i sits at position past + i
    scores[..., future] = -np.inf  # HF adds finfo.min: exp underflows to exactly 0 the same way
    probs = softmax(scores.astype(F32), axis=-1)
    out = (probs.astype(F64) @ v.astype(F64)).astype(F32)  # [B, heads, S, D]
    out = out.transpose(0, 2, 1, 3).reshape(B, S, n_heads * D)
    return linear(out, weights[f"{prefix}.o_proj.weight"])


class KvCache:
    """HF's incremental decoding state: rotated keys and values per layer, and the rotary table's history."""

    def __init__(self, rope=None):
        self.rope = rope or KvRope("grow")
        self.length = 0
        self.keys, self.values = {}, {}

    def extend(self, prefix, k, v):
        """Append [B, n_kv, S, D] keys/values of one layer; returns the whole cached sequence."""
        if prefix in self.keys:
            k = np.concatenate([self.keys[prefix], k], axis=2)
            v = np.concatenate([self.values[prefix], v], axis=2)
        self.keys[prefix], self.values[prefix] = k, v
        return k, v


# ----------------------------------------------------------------------------------------------
# MoE
# ----------------------------------------------------------------------------------------------
def route(x_tokens, gate_weight, top_k, norm_topk_prob):
    """MoEGate: softmax over experts, top-k, optional renormalisation (only when top_k > 1).

    Returns (experts [T, K] sorted by expert id, weights [T, K], margin [T]) where margin is the gap
    between the k-th and (k+1)-th probability: small margins are near-ties whose choice may flip."""
    scores = softmax(linear(x_tokens, gate_weight), axis=-1)  # [T, E]
    order = np.argsort(-scores, axis=-1, kind="stable")
    chosen = order[:, :top_k]
    n_experts = scores.shape[-1]
    if top_k < n_experts:
        kth = np.take_along_axis(scores, order[:, top_k - 1:top_k], -1)[:, 0]
        nxt = np.take_along_axis(scores, order[:, top_k:top_k + 1], -1)[:, 0]
        margin = (kth - nxt).astype(F64)
    else:
        margin = np.full(scores.shape[0], np.inf)
    experts = np.sort(chosen, axis=-1)  # slot order is unspecified upstream; canonical = by expert id
    weights = np.take_along_axis(scores, experts, axis=-1).astype(F32)
    if top_k > 1 and norm_topk_prob:
        denom = (weights.astype(F64).sum(-1, keepdims=True) + 1e-20)
        weights = (weights / denom).astype(F32)
    return experts, weights, margin


def moe(x, weights, prefix, cfg):
    """DeepseekMoE.moe_infer: routed experts summed in increasing expert id, then + shared experts."""
    B, S, H = x.shape
    tokens = x.reshape(B * S, H)
    experts, gate_w, margin = route(tokens, weights[prefix + ".gate.weight"],
                                    cfg["num_experts_per_tok"], cfg.get("norm_topk_prob", False))
    routed = np.zeros_like(tokens, dtype=F32)
    for e in np.unique(experts):  # increasing id; each token sees its experts in that order
        tok, slot = np.nonzero(experts == e)
        out = mlp(tokens[tok], weights, f"{prefix}.experts.{e}")
        routed[tok] = (routed[tok] + out * gate_w[tok, slot][:, None]).astype(F32)
    y = routed
    if cfg.get("n_shared_experts"):
        y = (y + mlp(tokens, weights, prefix + ".shared_experts")).astype(F32)
    K = experts.shape[-1]
    routing = {"experts": experts.reshape(B, S, K).astype(np.int32),
               "weights": gate_w.reshape(B, S, K), "margin": margin.reshape(B, S)}
    return y.reshape(B, S, H), routing


# ----------------------------------------------------------------------------------------------
# whole model
# ----------------------------------------------------------------------------------------------
def check_supported(cfg):
    scaling_of(cfg)  # raises for a rope_scaling type the reference does not model
    if cfg.get("hidden_act", "silu") != "silu":
        raise NotImplementedError(f"hidden_act {cfg['hidden_act']!r}")
    if cfg.get("n_routed_experts") is not None and cfg.get("scoring_func", "softmax") != "softmax":
        raise NotImplementedError(f"scoring_func {cfg['scoring_func']!r}")


def forward(cfg, weights, ids, cache=None):
    """ids int [B, S] -> dict(logits [B,S,V], hidden_states [L+1,B,S,H], routing {layer: dict}, rope_base).

    Without a cache: one full pass over positions 0..S-1. With a KvCache: the S tokens continue its sequence
    (positions past..past+S-1) and the cache is extended, as one call of HF's model with past_key_values."""
    check_supported(cfg)
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 2:
        raise ValueError("ids must be [B, S]")
    B, S = ids.shape
    eps = cfg.get("rms_norm_eps", 1e-6)
    n_layers = cfg["num_hidden_layers"]
    past = cache.length if cache is not None else 0
    # The rotary module builds its table for the kv length (HF: rotary_emb(v, seq_len=kv_seq_len)).
    plan = rope_plan(cfg, cache.rope.table_length(past + S) if cache is not None else S)
    cos, sin = rope_cos_sin(plan, np.arange(past, past + S))

    x = weights["model.embed_tokens.weight"][ids].astype(F32)
    hidden_states, routing = [x], {}
    for i in range(n_layers):
        p = f"model.layers.{i}"
        h = (x + attention(rms_norm(x, weights[p + ".input_layernorm.weight"], eps),
                           weights, p + ".self_attn", cfg, cos, sin, cache)).astype(F32)
        normed = rms_norm(h, weights[p + ".post_attention_layernorm.weight"], eps)
        if is_moe_layer(cfg, i):
            ffn, routing[i] = moe(normed, weights, p + ".mlp", cfg)
        else:
            ffn = mlp(normed, weights, p + ".mlp")
        x = (h + ffn).astype(F32)
        if i < n_layers - 1:
            hidden_states.append(x)
    x = rms_norm(x, weights["model.norm.weight"], eps)
    hidden_states.append(x)  # HF's last hidden state is the normed one
    head = weights.get("lm_head.weight")
    if head is None or cfg.get("tie_word_embeddings", False):
        head = weights["model.embed_tokens.weight"]
    logits = linear(x, head)
    if cache is not None:
        cache.length += S
    return {"logits": logits, "hidden_states": np.stack(hidden_states).astype(F32),
            "routing": routing, "rope_base": plan["base"]}


def decode(cfg, weights, ids, prefill, policy="grow"):
    """Logits [B, S, V] of HF-style incremental decoding: the first `prefill` tokens in one call, then one
    token per call, with a KV cache of rotated keys. policy: KvRope's ('fixed' uses the context S).
    Also returns the smallest routing margin over all calls and the RoPE base each call used."""
    ids = np.asarray(ids, dtype=np.int64)
    B, S = ids.shape
    if not 0 < prefill <= S:
        raise ValueError(f"prefill {prefill} must be in [1, {S}]")
    cache = KvCache(KvRope(policy, context=S))
    steps = [(0, prefill)] + [(t, t + 1) for t in range(prefill, S)]
    logits, margins, bases = [], [], []
    for begin, end in steps:
        out = forward(cfg, weights, ids[:, begin:end], cache)
        logits.append(out["logits"])
        margins.append(min_routing_margin(out))
        bases.append(out["rope_base"])
    return np.concatenate(logits, axis=1), min(margins), bases


def routing_arrays(result):
    """Pack routing the way the engine writes it: layers [M], experts [M,B,S,K], weights [M,B,S,K]."""
    layers = sorted(result["routing"])
    if not layers:
        return np.zeros(0, np.int32), None, None
    experts = np.stack([result["routing"][i]["experts"] for i in layers]).astype(np.int32)
    weights = np.stack([result["routing"][i]["weights"] for i in layers]).astype(F32)
    return np.array(layers, dtype=np.int32), experts, weights


def min_routing_margin(result):
    """Smallest k-th vs (k+1)-th gate probability gap over all MoE layers and tokens (inf if none)."""
    margins = [float(np.min(r["margin"])) for r in result["routing"].values()]
    return min(margins) if margins else float("inf")
