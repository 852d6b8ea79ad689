"""The NumPy oracle for src/rope: each formula written from /work/shared/ROPE.md in float64 (transformers'
modeling_rope_utils, DeepSeek-V2's YaRN, Qwen2-VL/Qwen3-VL M-RoPE, Pixtral, the ALiBi paper), never from the
C++ code. tests/rope/check_rope.py compares the library with it."""
import math

import numpy as np


def ladder(theta, d):
    """b^(-2j/d), j < d/2."""
    return theta ** (-2.0 * np.arange(d // 2) / d)


def g(s, m):
    """YaRN magnitude: 1 if s <= 1 else 0.1 m ln s + 1."""
    return 1.0 if s <= 1 else 0.1 * m * math.log(s) + 1.0


def ref_frequencies(p, seq_len):
    """(inv_freq, attention_factor, softmax multiplier, base, factor) as ROPE.md section 2 defines them."""
    d, b, sc = p["rotary_dim"], p["theta"], p.get("scaling", {})
    kind, s = sc.get("type", "none"), sc.get("factor", 1.0)
    l0 = sc.get("original_max_position_embeddings") or p["max_position_embeddings"]
    inv = ladder(b, d)
    if kind == "none":
        return inv, 1.0, 1.0, b, 1.0
    if kind == "linear":
        return inv / s, 1.0, 1.0, b, s
    if kind == "dynamic":
        lmax = p["max_position_embeddings"]
        if seq_len <= lmax:  # HF keeps (resets to) the original inv_freq up to the training context
            return inv, 1.0, 1.0, b, s
        base = b * ((s * seq_len / lmax) - (s - 1)) ** (d / (d - 2))
        return ladder(base, d), 1.0, 1.0, base, s
    if kind == "yarn":
        return ref_yarn(p, sc, inv, s, l0)
    if kind == "llama3":
        return llama3_blend(inv, sc, s, l0), 1.0, 1.0, b, s
    if kind == "longrope":
        ext = np.array(sc["long_factor"] if seq_len > l0 else sc["short_factor"])
        out = 1.0 / (ext * b ** (2.0 * np.arange(d // 2) / d))
        if not sc.get("factor_given", True):
            s = p["max_position_embeddings"] / l0
        af = sc.get("attention_factor")
        if af is None:
            af = 1.0 if s <= 1 else math.sqrt(1 + math.log(s) / math.log(l0))
        return out, af, 1.0, b, s
    raise ValueError(kind)


def llama3_blend(inv, sc, s, l0):
    """Llama 3.1: wavelengths under L0/high_freq_factor kept, over L0/low_freq_factor divided by s, blended
    between by sigma = (L0/w - low_freq_factor) / (high_freq_factor - low_freq_factor)."""
    low_w, high_w = l0 / sc["low_freq_factor"], l0 / sc["high_freq_factor"]
    w = 2 * math.pi / inv
    sigma = (l0 / w - sc["low_freq_factor"]) / (sc["high_freq_factor"] - sc["low_freq_factor"])
    mid = (1 - sigma) * inv / s + sigma * inv
    return np.where(w < high_w, inv, np.where(w > low_w, inv / s, mid))


def input_slack(p, seq_len):
    """Absolute slack for the inverse frequencies, beyond REL_FREQ, where HF's float32 recipe itself is that
    far from the exact value (the library follows HF):
      llama3: the blend weight depends on inv_freq, so the float32 ladder's error (<= 1e-6 relative, checked
              on its own in the "none" cases) moves the result by up to ~100x that for close factors, large s;
      yarn:   the ramp and 1 - ramp are float32 (2^-24 each), weighting inv_freq - inv_freq / s."""
    sc = p["scaling"]
    inv = ladder(p["theta"], p["rotary_dim"])
    if sc["type"] == "yarn":
        return 2 * 2.0**-24 * inv * abs(1 - 1 / sc["factor"])
    if sc["type"] != "llama3":
        return 0.0
    l0 = sc.get("original_max_position_embeddings") or p["max_position_embeddings"]
    want = ref_frequencies(p, seq_len)[0]
    return np.maximum(*(np.abs(llama3_blend(inv * (1 + e), sc, sc["factor"], l0) - want) for e in (1e-6, -1e-6)))


def ref_yarn(p, sc, inv, s, l0):
    d, b = p["rotary_dim"], p["theta"]
    deepseek = sc.get("flavor") == "deepseek_v2"

    def corr(rotations):
        return d * math.log(l0 / (2 * math.pi * rotations)) / (2 * math.log(b))

    low, high = corr(sc.get("beta_fast", 32.0)), corr(sc.get("beta_slow", 1.0))
    if sc.get("truncate", True) or deepseek:  # DeepSeek's yarn_find_correction_range always floors/ceils
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, d - 1)
    if low == high:
        high += 0.001
    ramp = np.clip((np.arange(d // 2) - low) / (high - low), 0, 1)
    keep = 1 - ramp
    out = (inv / s) * (1 - keep) + inv * keep
    ms, msa = sc.get("mscale"), sc.get("mscale_all_dim")
    if deepseek:
        # DeepseekV2YarnRotaryEmbedding: g(s, mscale) / g(s, mscale_all_dim), defaults 1 and 0; the attention
        # multiplies its softmax scale by g(s, mscale_all_dim)^2 when mscale_all_dim is truthy.
        ms = 1.0 if ms is None else ms
        msa = 0.0 if msa is None else msa
        softmax = g(s, msa) ** 2 if msa else 1.0
        return out, g(s, ms) / g(s, msa), softmax, b, s
    af = sc.get("attention_factor")
    if af is None:
        af = g(s, ms) / g(s, msa) if (ms and msa) else g(s, 1.0)  # Python truthiness, as transformers tests it
    return out, af, 1.0, b, s


def pair_index(d, pairing):
    """(a, b) coordinate indices of the d/2 pairs (ROPE.md section 1)."""
    j = np.arange(d // 2)
    return (j, j + d // 2) if pairing == "rotate_half" else (2 * j, 2 * j + 1)


def exact_score(q, k, phi, af, d, pairing):
    """q.k after rotating q by alpha and k by beta, phi = beta - alpha per pair: depends on phi only."""
    a, b = pair_index(d, pairing)
    q, k = q.astype(np.float64), k.astype(np.float64)
    rotated = (q[a] * k[a] + q[b] * k[b]) * np.cos(phi) + (q[b] * k[a] - q[a] * k[b]) * np.sin(phi)
    tail = np.dot(q[d:], k[d:])
    scale = af * af * np.sum(np.hypot(q[a], q[b]) * np.hypot(k[a], k[b])) + np.sum(np.abs(q[d:] * k[d:]))
    return af * af * np.sum(rotated) + tail, scale


def mrope_reference(section, interleaved, theta):
    """Per-pair (axis, frequency) of Qwen2-VL M-RoPE, derived the way the model code builds its angles."""
    half = sum(section)
    inv = ladder(theta, 2 * half)  # one ladder over the whole rotary dim, indices not reset per section
    # Run the model's construction on "angles" that encode the axis, so the result names each pair's axis.
    per_axis = [np.full(half, float(a)) for a in range(3)]
    if interleaved:
        # vLLM apply_interleaved_rope on the d/2 freqs: h at 1::3 below 3h, w at 2::3 below 3w, t elsewhere.
        x = per_axis[0].copy()
        x[1:3 * section[1]:3] = per_axis[1][1:3 * section[1]:3]
        x[2:3 * section[2]:3] = per_axis[2][2:3 * section[2]:3]
        emb = np.concatenate([x, x])
    else:
        # HF: emb = cat(freqs, freqs) per axis, split by mrope_section * 2, chunk i from axis i % 3.
        embs = [np.concatenate([f, f]) for f in per_axis]
        bounds = np.cumsum([0] + section * 2)
        emb = np.concatenate([embs[i % 3][bounds[i]:bounds[i + 1]] for i in range(6)])
    assert np.array_equal(emb[:half], emb[half:]), "rotate-half needs both halves of a pair to share an angle"
    return emb[:half].astype(np.int64), inv


def ref_alibi_slopes(n):
    """The ALiBi paper's reference: geometric for a power of two, else the nearest lower power of two's slopes
    followed by every other slope of twice that count."""
    def power_of_two(n):
        start = 2 ** (-2 ** -(math.log2(n) - 3))
        return [start * start ** i for i in range(n)]

    if math.log2(n).is_integer():
        return power_of_two(n)
    p = 2 ** math.floor(math.log2(n))
    return power_of_two(p) + ref_alibi_slopes(2 * p)[0::2][:n - p]
