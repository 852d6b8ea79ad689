"""DeepSeek-MoE (HF model_type "deepseek") in PyTorch, with the HF module tree so parameter names match.

Mirrors modeling_deepseek.py (see /work/shared/DEEPSEEK.md): RMSNorm that casts back before the weight
multiply, rotate-half RoPE with float32 inv_freq/positions, softmax gate + top-k (no renormalisation when
norm_topk_prob is false), routed SwiGLU experts plus ONE shared MLP of width n_shared * moe_intermediate_size,
first_k_dense_replace dense layers. The routed sum is accumulated expert by expert in increasing id order,
as `DeepseekMoE.moe_infer` does, in training and inference alike (the training path only adds the
sequence-level aux loss), so exported weights reproduce what the engine computes.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn


class DeepseekRMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * xf.to(x.dtype)  # HF: cast back first, then the weight multiply


def rope_cos_sin(n_positions, head_dim, theta, dtype, scaling=None):
    """HF DeepseekRotaryEmbedding: inv_freq, t and freqs in float32; emb = cat(freqs, freqs).

    scaling is the config's rope_scaling (None: the plain rotation, as trained). "linear" is HF DeepSeek's
    DeepseekLinearScalingRotaryEmbedding (positions t / factor, in float32); "yarn" is transformers'
    _compute_yarn_parameters (rope_yarn_inv_freq) with cos and sin multiplied by its attention factor.
    """
    kind = rope_scaling_type(scaling)
    attention_factor = 1.0
    if kind == "yarn":
        inv_freq, attention_factor = rope_yarn_inv_freq(head_dim, theta, scaling)
    else:
        inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2).float() / head_dim))
    t = torch.arange(n_positions, dtype=torch.float32)
    if kind == "linear":
        t = t / float(scaling["factor"])
    freqs = torch.outer(t, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    if attention_factor == 1.0:
        return emb.cos().to(dtype), emb.sin().to(dtype)  # [n_positions, head_dim] each
    return (emb.cos() * attention_factor).to(dtype), (emb.sin() * attention_factor).to(dtype)


def rope_scaling_type(scaling):
    """None, "linear" or "yarn" from a config's rope_scaling (key rope_type, or the older type)."""
    if not scaling:
        return None
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind in (None, "default"):
        return None
    if kind not in ("linear", "yarn"):
        raise ValueError(f"rope_scaling type {kind!r} is not supported here (linear, yarn)")
    return kind


def yarn_magnitude(factor, mscale=1.0):
    """YaRN's attention factor g(s, m) = 0.1 m ln s + 1 (1 for s <= 1)."""
    return 1.0 if factor <= 1 else 0.1 * mscale * math.log(factor) + 1.0


def rope_yarn_inv_freq(head_dim, theta, scaling):
    """(inv_freq [head_dim / 2] float32, attention factor) of YaRN as transformers computes it.

    A pair j that turns more than beta_fast times in the original context L0 keeps its frequency
    (extrapolation), one that turns fewer than beta_slow times is divided by the factor s (interpolation),
    with a linear ramp in j between low = floor(corr(beta_fast)) and high = ceil(corr(beta_slow)), where
    corr(r) = d ln(L0 / (2 pi r)) / (2 ln theta) is the pair that turns r times in L0.
    """
    factor = float(scaling["factor"])
    original = scaling["original_max_position_embeddings"]
    beta_fast, beta_slow = scaling.get("beta_fast", 32), scaling.get("beta_slow", 1)

    def correction_dim(rotations):
        return head_dim * math.log(original / (rotations * 2 * math.pi)) / (2 * math.log(theta))

    low, high = correction_dim(beta_fast), correction_dim(beta_slow)
    if scaling.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, head_dim - 1)
    if low == high:
        high += 0.001  # no division by zero
    pos_freqs = theta ** (torch.arange(0, head_dim, 2).float() / head_dim)
    extrapolation = 1.0 / pos_freqs
    interpolation = 1.0 / (factor * pos_freqs)
    ramp = ((torch.arange(head_dim // 2, dtype=torch.float32) - low) / (high - low)).clamp(0, 1)
    keep = 1 - ramp  # weight of the original frequency
    inv_freq = interpolation * (1 - keep) + extrapolation * keep
    if scaling.get("attention_factor") is not None:
        attention_factor = float(scaling["attention_factor"])
    elif scaling.get("mscale") is not None and scaling.get("mscale_all_dim") is not None:
        attention_factor = yarn_magnitude(factor, scaling["mscale"]) / yarn_magnitude(factor, scaling["mscale_all_dim"])
    else:
        attention_factor = yarn_magnitude(factor)
    return inv_freq, attention_factor


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class DeepseekMLP(nn.Module):
    """down(silu(gate(x)) * up(x)); used for the dense layers, each routed expert and the shared experts."""

    def __init__(self, hidden, width):
        super().__init__()
        self.gate_proj = nn.Linear(hidden, width, bias=False)
        self.up_proj = nn.Linear(hidden, width, bias=False)
        self.down_proj = nn.Linear(width, hidden, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class MoEGate(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.top_k = cfg["num_experts_per_tok"]
        self.n_routed_experts = cfg["n_routed_experts"]
        self.norm_topk_prob = cfg["norm_topk_prob"]
        self.alpha = cfg["aux_loss_alpha"]
        self.weight = nn.Parameter(torch.empty(self.n_routed_experts, cfg["hidden_size"]))  # [E, hidden]

    def forward(self, x):
        """x [B, S, hidden] -> (topk_idx [B*S, k], topk_weight [B*S, k], aux loss or None)."""
        bsz, seq_len, hidden = x.shape
        logits = F.linear(x.reshape(-1, hidden), self.weight)
        scores = logits.softmax(dim=-1)  # HF: no float32 upcast (we train in float32 anyway)
        topk_weight, topk_idx = torch.topk(scores, k=self.top_k, dim=-1, sorted=False)
        if self.top_k > 1 and self.norm_topk_prob:
            topk_weight = topk_weight / (topk_weight.sum(dim=-1, keepdim=True) + 1e-20)
        aux_loss = None
        if self.training and self.alpha > 0.0:
            # HF seq_aux: per sequence, (fraction of routed slots per expert * E) . (mean gate probability).
            idx = topk_idx.view(bsz, -1)
            ce = torch.zeros(bsz, self.n_routed_experts, device=x.device)
            ce.scatter_add_(1, idx, torch.ones(bsz, seq_len * self.top_k, device=x.device))
            ce = ce / (seq_len * self.top_k / self.n_routed_experts)
            aux_loss = (ce * scores.view(bsz, seq_len, -1).mean(dim=1)).sum(dim=1).mean() * self.alpha
        return topk_idx, topk_weight, aux_loss


class DeepseekMoE(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        hidden, width = cfg["hidden_size"], cfg["moe_intermediate_size"]
        self.experts = nn.ModuleList([DeepseekMLP(hidden, width) for _ in range(cfg["n_routed_experts"])])
        self.gate = MoEGate(cfg)
        self.shared_experts = None
        if cfg.get("n_shared_experts"):
            self.shared_experts = DeepseekMLP(hidden, width * cfg["n_shared_experts"])

    def forward(self, x):
        """x [B, S, hidden] -> (y [B, S, hidden], aux loss or None)."""
        shape = x.shape
        topk_idx, topk_weight, aux_loss = self.gate(x)
        flat = x.reshape(-1, shape[-1])  # [T, hidden]
        y = torch.zeros_like(flat)
        # moe_infer order: experts in increasing id, each adds its weighted output into the token's sum.
        for e, expert in enumerate(self.experts):
            token, slot = torch.nonzero(topk_idx == e, as_tuple=True)
            if token.numel() == 0:
                continue
            out = expert(flat.index_select(0, token)) * topk_weight[token, slot].unsqueeze(-1)
            y = y.index_add(0, token, out)
        y = y.view(shape)
        if self.shared_experts is not None:
            y = y + self.shared_experts(x)
        return y, aux_loss


class DeepseekAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        hidden = cfg["hidden_size"]
        self.num_heads = cfg["num_attention_heads"]
        self.num_kv_heads = cfg["num_key_value_heads"]
        self.head_dim = hidden // self.num_heads
        bias = cfg["attention_bias"]
        self.q_proj = nn.Linear(hidden, self.num_heads * self.head_dim, bias=bias)
        self.k_proj = nn.Linear(hidden, self.num_kv_heads * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(hidden, self.num_kv_heads * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(self.num_heads * self.head_dim, hidden, bias=bias)

    def forward(self, x, cos, sin, mask):
        """x [B, S, hidden]; cos/sin [S, head_dim]; mask [S, S] additive."""
        bsz, seq_len, _ = x.shape
        q = self.q_proj(x).view(bsz, seq_len, self.num_heads, self.head_dim).transpose(1, 2)  # [B, H, S, D]
        k = self.k_proj(x).view(bsz, seq_len, self.num_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(bsz, seq_len, self.num_kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if self.num_kv_heads != self.num_heads:  # repeat_kv
            rep = self.num_heads // self.num_kv_heads
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim) + mask
        probs = scores.softmax(dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(bsz, seq_len, -1)
        return self.o_proj(out)


def is_moe_layer(cfg, layer_idx):
    return (cfg.get("n_routed_experts") is not None and layer_idx >= cfg["first_k_dense_replace"]
            and layer_idx % cfg["moe_layer_freq"] == 0)


class DeepseekDecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):
        super().__init__()
        hidden = cfg["hidden_size"]
        self.self_attn = DeepseekAttention(cfg)
        self.is_moe = is_moe_layer(cfg, layer_idx)
        self.mlp = DeepseekMoE(cfg) if self.is_moe else DeepseekMLP(hidden, cfg["intermediate_size"])
        self.input_layernorm = DeepseekRMSNorm(hidden, cfg["rms_norm_eps"])
        self.post_attention_layernorm = DeepseekRMSNorm(hidden, cfg["rms_norm_eps"])

    def forward(self, x, cos, sin, mask):
        h = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        if self.is_moe:
            y, aux = self.mlp(self.post_attention_layernorm(h))
        else:
            y, aux = self.mlp(self.post_attention_layernorm(h)), None
        return h + y, aux


class DeepseekModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList([DeepseekDecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])
        self.norm = DeepseekRMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])


class DeepseekForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = DeepseekModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        self.head_dim = cfg["hidden_size"] // cfg["num_attention_heads"]
        self.reset_parameters()

    def reset_parameters(self):
        """HF _init_weights: normal(0, initializer_range) for linear and embedding weights, norms at one."""
        std = self.cfg["initializer_range"]
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=std)
                if getattr(module, "bias", None) is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, MoEGate):
                nn.init.normal_(module.weight, mean=0.0, std=std)

    def forward(self, input_ids):
        """input_ids [B, S] -> (logits [B, S, vocab] float32, summed aux loss or None). Positions 0..S-1."""
        seq_len = input_ids.shape[1]
        x = self.model.embed_tokens(input_ids)
        cos, sin = rope_cos_sin(seq_len, self.head_dim, float(self.cfg["rope_theta"]), x.dtype,
                                self.cfg.get("rope_scaling"))
        mask = torch.full((seq_len, seq_len), torch.finfo(x.dtype).min, dtype=x.dtype).triu(1)
        aux_total = None
        for layer in self.model.layers:
            x, aux = layer(x, cos, sin, mask)
            if aux is not None:
                aux_total = aux if aux_total is None else aux_total + aux
        logits = self.lm_head(self.model.norm(x)).float()
        return logits, aux_total

    @torch.no_grad()
    def greedy(self, ids, n_new, stop=None):
        """Greedy continuation (full recompute per step; the model is small): list of new ids."""
        ids = list(ids)
        new = []
        for _ in range(n_new):
            logits, _ = self(torch.tensor([ids]))
            nxt = int(logits[0, -1].argmax())
            new.append(nxt)
            ids.append(nxt)
            if stop is not None and stop(new):
                break
        return new


def count_parameters(cfg):
    """(total, active per token) from the config, like dsmoe's inspect counts them."""
    H, V, L = cfg["hidden_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    D = H // cfg["num_attention_heads"]
    attn = H * cfg["num_attention_heads"] * D * 2 + H * cfg["num_key_value_heads"] * D * 2
    total = active = 2 * V * H + H  # embeddings, lm_head, final norm
    for i in range(L):
        total += attn + 2 * H
        active += attn + 2 * H
        if is_moe_layer(cfg, i):
            expert = 3 * H * cfg["moe_intermediate_size"]
            shared = expert * (cfg.get("n_shared_experts") or 0)
            gate = cfg["n_routed_experts"] * H
            total += cfg["n_routed_experts"] * expert + shared + gate
            active += cfg["num_experts_per_tok"] * expert + shared + gate
        else:
            total += 3 * H * cfg["intermediate_size"]
            active += 3 * H * cfg["intermediate_size"]
    return total, active
