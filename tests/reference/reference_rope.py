#!/usr/bin/python3
"""RoPE for the NumPy reference: cos/sin per rope_scaling type, written from /work/shared/DEEPSEEK.md and ROPE.md.

What is modelled, and whose behaviour it pins:
  none     DeepseekRotaryEmbedding: inv_freq = 1 / theta^(2j/d), float32.
  linear   DeepseekLinearScalingRotaryEmbedding: the positions are divided, t = t / factor (float32).
  dynamic  DeepseekDynamicNTKScalingRotaryEmbedding: for a table of seq_len > max_pos rows,
           base' = theta * (factor * seq_len / max_pos - (factor - 1))^(d / (d - 2)) (Python double), and the
           new inv_freq replaces the old one. Which seq_len a call uses is the caller's business (KvRope below).
  yarn     transformers' modeling_rope_utils flavour (DeepSeek v1 itself raises on yarn): inv_freq blended
           between interpolation (/factor) and extrapolation by a ramp over the pair index between the
           floor/ceil correction dims; cos/sin times attention_factor (given, else g(s, mscale)/g(s, mscale_all_dim)
           when both are truthy, else g(s, 1)); softmax scale unchanged; `factor` is the config's (the
           "factor = max_pos / original_max_pos" override of some 4.5x versions is not modelled).
  partial  partial_rotary_factor (Phi/StableLM-style, not DeepSeek v1): only the first
           d = int(head_dim * factor) coordinates of a head rotate, pairs (j, j + d/2) among them.

Angles follow HF's float32 recipe: float32(position) * inv_freq rounded to float32, cos/sin of that in float32.
(The engine instead rounds double(p) * double(inv_freq) once; below position 200 the two angles differ by at
most half a float32 ulp of 200, 7.6e-6 rad, far inside the 1e-4 logits tolerance.)
"""
import math

import numpy as np

from tiny_model import head_dim_of

F32 = np.float32

SCALING_TYPES = ("none", "linear", "dynamic", "yarn")


def rotary_dim(cfg):
    """int(head_dim * partial_rotary_factor), as transformers truncates it."""
    return int(head_dim_of(cfg) * float(cfg.get("partial_rotary_factor", 1.0)))


def scaling_of(cfg):
    """The rope_scaling dict with its type under 'type' (old key) whichever spelling the file used; None if none."""
    s = cfg.get("rope_scaling")
    if not s:
        return None
    s = dict(s)
    kind = s.pop("rope_type", None) or s.get("type")
    s["type"] = "none" if kind == "default" else kind
    if s["type"] not in SCALING_TYPES:
        raise NotImplementedError(f"the reference does not model rope_scaling type {kind!r}")
    return None if s["type"] == "none" else s


def default_inv_freq(base, d):
    """1 / base ** (arange(0, d, 2).float() / d), every step in float32 (torch wraps the scalar base as float32)."""
    exponent = np.arange(0, d, 2, dtype=np.int64).astype(F32) / F32(d)
    return (F32(1.0) / (F32(base) ** exponent)).astype(F32)


def dynamic_base(theta, factor, d, seq_len, max_pos):
    """DeepSeek v1's NTK base for a cache of seq_len rows; the plain theta up to max_pos."""
    if seq_len <= max_pos:
        return float(theta)
    return float(theta) * ((factor * seq_len / max_pos) - (factor - 1)) ** (d / (d - 2))


def yarn_mscale(scale, mscale=1.0):
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def yarn_inv_freq(theta, d, s, max_pos):
    """transformers' _compute_yarn_parameters: (inv_freq float32 [d/2], attention_factor)."""
    factor = float(s["factor"])
    l0 = s.get("original_max_position_embeddings") or max_pos
    beta_fast = s.get("beta_fast") or 32
    beta_slow = s.get("beta_slow") or 1

    def correction_dim(rotations):  # the pair index that turns `rotations` times over l0 positions
        return d * math.log(l0 / (rotations * 2 * math.pi)) / (2 * math.log(theta))

    low, high = correction_dim(beta_fast), correction_dim(beta_slow)
    if s.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, d - 1)
    if low == high:
        high += 0.001
    pos_freqs = (F32(theta) ** (np.arange(0, d, 2, dtype=np.int64).astype(F32) / F32(d))).astype(F32)
    extrapolation = (F32(1.0) / pos_freqs).astype(F32)
    interpolation = (F32(1.0) / (F32(factor) * pos_freqs)).astype(F32)
    ramp = np.clip((np.arange(d // 2, dtype=F32) - F32(low)) / F32(high - low), 0, 1).astype(F32)
    keep = (F32(1.0) - ramp).astype(F32)  # weight of the original (extrapolated) frequency
    inv_freq = (interpolation * (F32(1.0) - keep) + extrapolation * keep).astype(F32)

    attention_factor = s.get("attention_factor")
    if attention_factor is None:
        mscale, mscale_all_dim = s.get("mscale"), s.get("mscale_all_dim")
        if mscale and mscale_all_dim:  # Python truthiness: 0 or absent falls back to g(s, 1)
            attention_factor = yarn_mscale(factor, mscale) / yarn_mscale(factor, mscale_all_dim)
        else:
            attention_factor = yarn_mscale(factor)
    return inv_freq, float(attention_factor)


def rope_plan(cfg, seq_len):
    """What the rotary module holds after building its table for seq_len rows:
    dict(inv_freq [d/2] float32, attention_factor, position_divisor (linear's t / factor, else None), base)."""
    theta = float(cfg.get("rope_theta", 10000.0))
    d = rotary_dim(cfg)
    max_pos = int(cfg.get("max_position_embeddings", 2048))
    s = scaling_of(cfg)
    plan = {"inv_freq": default_inv_freq(theta, d), "attention_factor": 1.0, "position_divisor": None,
            "base": theta}
    if s is None:
        return plan
    if s["type"] == "linear":
        plan["position_divisor"] = float(s["factor"])
    elif s["type"] == "dynamic":
        plan["base"] = dynamic_base(theta, float(s["factor"]), d, seq_len, max_pos)
        plan["inv_freq"] = default_inv_freq(plan["base"], d)
    elif s["type"] == "yarn":
        plan["inv_freq"], plan["attention_factor"] = yarn_inv_freq(theta, d, s, max_pos)
    return plan


def rope_cos_sin(plan, positions):
    """cos/sin [n, d] for the given positions: HF's cat(freqs, freqs) rows, times the attention factor."""
    t = np.asarray(positions, dtype=np.int64).astype(F32)
    if plan["position_divisor"] is not None:
        t = (t / F32(plan["position_divisor"])).astype(F32)
    freqs = np.outer(t, plan["inv_freq"]).astype(F32)  # one float32 product per element, as torch.outer
    emb = np.concatenate([freqs, freqs], axis=-1)
    factor = F32(plan["attention_factor"])
    return (np.cos(emb).astype(F32) * factor).astype(F32), (np.sin(emb).astype(F32) * factor).astype(F32)


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def apply_rope(x, cos, sin):
    """x [B, heads, S, D]; cos/sin [S, d] with d <= D: the first d coordinates rotate, the rest pass through."""
    d = cos.shape[-1]
    rotated = (x[..., :d] * cos + rotate_half(x[..., :d]) * sin).astype(F32)
    return np.concatenate([rotated, x[..., d:]], axis=-1).astype(F32)


class KvRope:
    """Which table length each call of a cached session builds its rotary table for.

    policy 'grow' (HF): the module rebuilds whenever the kv length passes the longest it has built, so a call
    uses max(past + n_new, longest so far); keys already cached keep the rotation they were stored with.
    policy 'fixed': one length for the whole session (its context), as vLLM does for dynamic NTK."""

    def __init__(self, policy="grow", context=None):
        if policy not in ("grow", "fixed") or (policy == "fixed" and not context):
            raise ValueError("policy must be 'grow', or 'fixed' with a context")
        self.policy, self.context, self.longest = policy, context, 0

    def table_length(self, kv_length):
        if self.policy == "fixed":
            return self.context
        self.longest = max(self.longest, kv_length)
        return self.longest
