#!/usr/bin/python3
"""Random tiny DeepSeek-MoE / Llama checkpoints in HuggingFace layout, written and read without torch.

The writer produces config.json + safetensors (single file or sharded with model.safetensors.index.json),
so the C++ engine loads it exactly like a real HF download. `load_model(dir)` reads such a directory back
into float32 numpy arrays for the NumPy reference (tests/reference/reference_forward.py).

CLI: python3 tests/reference/tiny_model.py --out DIR [--arch deepseek|llama] [--dtype f32|bf16|f16] ...
(run with --help for the full list).
"""
import argparse
import json
import math
import os
import struct

import numpy as np

# Defaults of the CLI; check_case.py builds option dicts over the same keys.
DEFAULT_OPTIONS = dict(
    arch="deepseek", dtype="f32", shards=1, seed=0, vocab=97, hidden=64, layers=3, heads=4,
    kv_heads=None, head_dim=None, inter=96, moe_inter=32, experts=8, top_k=2, shared=1,
    first_dense=1, moe_freq=1, norm_topk=False, max_pos=32, theta=10000.0, tie=False, eps=1e-6, rope_linear=None,
    rope_scaling=None, partial_rotary=None,
)

TORCH_DTYPE_NAME = {"f32": "float32", "bf16": "bfloat16", "f16": "float16"}
SAFETENSORS_DTYPE = {"f32": "F32", "bf16": "BF16", "f16": "F16"}


# ----------------------------------------------------------------------------------------------
# config.json
# ----------------------------------------------------------------------------------------------
def _number(x):
    """Write integral floats as ints (the real config has "rope_theta": 10000), others as floats."""
    return int(x) if float(x).is_integer() else float(x)


def build_config(opt):
    """config.json contents for the options; deepseek mirrors every key of deepseek-moe-16b-base."""
    kv_heads = opt["kv_heads"] if opt["kv_heads"] is not None else opt["heads"]
    common = {
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 0,
        "eos_token_id": 1,
        "hidden_act": "silu",
        "hidden_size": opt["hidden"],
        "initializer_range": 0.02,
        "intermediate_size": opt["inter"],
        "max_position_embeddings": opt["max_pos"],
        "num_attention_heads": opt["heads"],
        "num_hidden_layers": opt["layers"],
        "num_key_value_heads": kv_heads,
        "pretraining_tp": 1,
        "rms_norm_eps": opt["eps"],
        "rope_scaling": rope_scaling_entry(opt),
        "rope_theta": _number(opt["theta"]),
        "tie_word_embeddings": bool(opt["tie"]),
        "torch_dtype": TORCH_DTYPE_NAME[opt["dtype"]],
        "transformers_version": "4.36.0",
        "use_cache": True,
        "vocab_size": opt["vocab"],
    }
    if opt["arch"] == "llama":
        cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "mlp_bias": False}
        cfg.update(common)
        if opt["head_dim"] is not None:
            cfg["head_dim"] = opt["head_dim"]
        if opt["partial_rotary"] is not None:
            cfg["partial_rotary_factor"] = float(opt["partial_rotary"])
        return dict(sorted(cfg.items()))
    if opt["arch"] != "deepseek":
        raise ValueError(f"unknown arch {opt['arch']!r}")
    if opt["head_dim"] is not None:
        raise ValueError("--head-dim is llama only (DeepseekAttention uses hidden_size / num_heads)")
    if opt["partial_rotary"] is not None:
        raise ValueError("--partial-rotary is llama only (DeepSeek v1 rotates whole heads and ignores the key)")
    routed = opt["experts"] if opt["experts"] else None  # 0 -> null: HF then builds only dense MLPs
    cfg = {
        "architectures": ["DeepseekForCausalLM"],
        "model_type": "deepseek",
        "auto_map": {
            "AutoConfig": "configuration_deepseek.DeepseekConfig",
            "AutoModel": "modeling_deepseek.DeepseekModel",
            "AutoModelForCausalLM": "modeling_deepseek.DeepseekForCausalLM",
        },
        "aux_loss_alpha": 0.001,
        "first_k_dense_replace": opt["first_dense"],
        "moe_intermediate_size": opt["moe_inter"],
        "moe_layer_freq": opt["moe_freq"],
        "n_routed_experts": routed,
        # HF tests `n_shared_experts is not None`; null is the faithful "no shared experts".
        "n_shared_experts": opt["shared"] if opt["shared"] else None,
        "norm_topk_prob": bool(opt["norm_topk"]),
        "num_experts_per_tok": opt["top_k"] if routed else None,
        "scoring_func": "softmax",
        "seq_aux": True,
    }
    cfg.update(common)
    return dict(sorted(cfg.items()))


def rope_scaling_entry(opt):
    """config.json's rope_scaling: a dict as given (--rope-scaling JSON), or linear's shorthand --rope-linear F
    (HF DeepseekLinearScalingRotaryEmbedding: {"type": "linear", "factor": F} divides positions by F)."""
    if opt["rope_scaling"] is not None and opt["rope_linear"] is not None:
        raise ValueError("give --rope-scaling or --rope-linear, not both")
    if opt["rope_linear"] is not None:
        return {"type": "linear", "factor": float(opt["rope_linear"])}
    if isinstance(opt["rope_scaling"], str):
        return json.loads(opt["rope_scaling"])
    return opt["rope_scaling"]


def is_moe_layer(cfg, layer_idx):
    """DeepseekDecoderLayer's rule (note `layer_idx % freq`, not `(layer_idx - k) % freq`)."""
    return (cfg.get("n_routed_experts") is not None
            and layer_idx >= cfg.get("first_k_dense_replace", 0)
            and layer_idx % cfg.get("moe_layer_freq", 1) == 0)


def head_dim_of(cfg):
    """Llama honours an explicit head_dim key; DeepSeek v1 always uses hidden/heads."""
    if cfg.get("head_dim") is not None:
        return int(cfg["head_dim"])
    return cfg["hidden_size"] // cfg["num_attention_heads"]


# ----------------------------------------------------------------------------------------------
# random weights
# ----------------------------------------------------------------------------------------------
def _linear(rng, out_dim, in_dim, gain):
    """[out, in] like nn.Linear.weight; std gain/sqrt(fan_in) keeps activations O(1)."""
    return (rng.standard_normal((out_dim, in_dim)) * (gain / math.sqrt(in_dim))).astype(np.float32)


def _norm_weight(rng, dim):
    # Around 1 but not exactly 1, so a missing/misplaced weight multiply is caught.
    return (1.0 + 0.1 * rng.standard_normal(dim)).astype(np.float32)


def _mlp(rng, prefix, hidden, width, out):
    out[prefix + ".gate_proj.weight"] = _linear(rng, width, hidden, 1.0)
    out[prefix + ".up_proj.weight"] = _linear(rng, width, hidden, 1.0)
    out[prefix + ".down_proj.weight"] = _linear(rng, hidden, width, 0.5)


def make_weights(cfg, seed):
    """{HF name: float32 array} in module order (the order shards are split in)."""
    rng = np.random.default_rng([seed, 0])
    H, V = cfg["hidden_size"], cfg["vocab_size"]
    nh, nkv, D = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim_of(cfg)
    w = {"model.embed_tokens.weight": rng.standard_normal((V, H)).astype(np.float32)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}"
        w[p + ".input_layernorm.weight"] = _norm_weight(rng, H)
        # q/k gain 1: scores q.k/sqrt(D) come out O(1), so attention is neither uniform nor one-hot.
        w[p + ".self_attn.q_proj.weight"] = _linear(rng, nh * D, H, 1.0)
        w[p + ".self_attn.k_proj.weight"] = _linear(rng, nkv * D, H, 1.0)
        w[p + ".self_attn.v_proj.weight"] = _linear(rng, nkv * D, H, 1.0)
        w[p + ".self_attn.o_proj.weight"] = _linear(rng, H, nh * D, 0.5)
        w[p + ".post_attention_layernorm.weight"] = _norm_weight(rng, H)
        if is_moe_layer(cfg, i):
            # Gate std 2/sqrt(H): logits std ~2, so top-k choices are well separated (few near-ties).
            w[p + ".mlp.gate.weight"] = _linear(rng, cfg["n_routed_experts"], H, 2.0)
            for e in range(cfg["n_routed_experts"]):
                _mlp(rng, f"{p}.mlp.experts.{e}", H, cfg["moe_intermediate_size"], w)
            if cfg.get("n_shared_experts"):
                # DeepseekMoE builds ONE MLP of width n_shared * moe_intermediate_size.
                width = cfg["n_shared_experts"] * cfg["moe_intermediate_size"]
                _mlp(rng, f"{p}.mlp.shared_experts", H, width, w)
        else:
            _mlp(rng, f"{p}.mlp", H, cfg["intermediate_size"], w)
    w["model.norm.weight"] = _norm_weight(rng, H)
    if not cfg.get("tie_word_embeddings", False):
        w["lm_head.weight"] = _linear(rng, V, H, 1.0)
    return w


# ----------------------------------------------------------------------------------------------
# safetensors by hand
# ----------------------------------------------------------------------------------------------
def f32_to_bf16_bits(x):
    """Round-to-nearest-even of the f32 bit pattern to its upper 16 bits (what torch's .to(bf16) does)."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    out = rounded.astype(np.uint16)
    nan = np.isnan(x)
    out[nan] = ((bits[nan] >> 16) | 0x40).astype(np.uint16)  # keep NaN a (quiet) NaN
    return out


def bf16_bits_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def encode(array, dtype):
    """Bytes of a float32 array stored as dtype ('f32' | 'bf16' | 'f16'), little-endian."""
    if dtype == "f32":
        return np.ascontiguousarray(array, dtype="<f4").tobytes()
    if dtype == "bf16":
        return f32_to_bf16_bits(array).astype("<u2").tobytes()
    if dtype == "f16":
        return np.ascontiguousarray(array, dtype=np.float32).astype("<f2").tobytes()
    raise ValueError(f"unknown dtype {dtype!r}")


def write_safetensors(path, tensors, dtype):
    """tensors: list of (name, float32 array). Returns the number of data bytes written."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, array in tensors:
        blob = encode(array, dtype)
        header[name] = {"dtype": SAFETENSORS_DTYPE[dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad so the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    return offset


def save_model(out_dir, cfg, weights, dtype, shards=1):
    """Write config.json and the weights (split into `shards` files, in order, when shards > 1)."""
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    items = list(weights.items())
    if shards <= 1:
        write_safetensors(os.path.join(out_dir, "model.safetensors"), items, dtype)
        return
    if shards > len(items):
        raise ValueError(f"{shards} shards for only {len(items)} tensors")
    bounds = np.linspace(0, len(items), shards + 1).round().astype(int)
    weight_map, total = {}, 0
    for s in range(shards):
        fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        chunk = items[bounds[s]:bounds[s + 1]]
        total += write_safetensors(os.path.join(out_dir, fname), chunk, dtype)
        weight_map.update({name: fname for name, _ in chunk})
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")


_DECODE = {"F32": ("<f4", None), "F16": ("<f2", None), "BF16": ("<u2", bf16_bits_to_f32),
           "F64": ("<f8", None)}


def read_safetensors(path):
    """{name: float32 array} from one safetensors file, validating offsets against shapes."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = memoryview(raw)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        np_dtype, convert = _DECODE[info["dtype"]]
        begin, end = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        if end - begin != count * np.dtype(np_dtype).itemsize or end > len(data):
            raise ValueError(f"{path}: tensor {name} has bad data_offsets {info['data_offsets']}")
        arr = np.frombuffer(data[begin:end], dtype=np_dtype, count=count)
        arr = convert(arr) if convert else arr
        out[name] = arr.astype(np.float32).reshape(info["shape"])
    return out


def load_model(model_dir):
    """(config dict, {name: float32 array}) from a HF directory, single-file or sharded."""
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    index_path = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index_path):
        with open(index_path) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    weights = {}
    for fname in files:
        weights.update(read_safetensors(os.path.join(model_dir, fname)))
    return cfg, weights


def write_model(out_dir, **options):
    """Build config + random weights for the options (DEFAULT_OPTIONS keys) and write them."""
    opt = dict(DEFAULT_OPTIONS)
    unknown = set(options) - set(opt)
    if unknown:
        raise ValueError(f"unknown tiny model options {sorted(unknown)}")
    opt.update(options)
    cfg = build_config(opt)
    save_model(out_dir, cfg, make_weights(cfg, opt["seed"]), opt["dtype"], opt["shards"])
    return cfg


def parse_args(argv=None):
    d = DEFAULT_OPTIONS
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--arch", choices=["deepseek", "llama"], default=d["arch"])
    p.add_argument("--dtype", choices=["f32", "bf16", "f16"], default=d["dtype"])
    p.add_argument("--shards", type=int, default=d["shards"])
    p.add_argument("--seed", type=int, default=d["seed"])
    for key in ["vocab", "hidden", "layers", "heads", "inter", "moe_inter", "experts", "top_k",
                "shared", "first_dense", "moe_freq", "max_pos"]:
        p.add_argument("--" + key.replace("_", "-"), type=int, default=d[key])
    p.add_argument("--kv-heads", type=int, default=None, help="default: --heads")
    p.add_argument("--head-dim", type=int, default=None, help="llama only: explicit head_dim key")
    p.add_argument("--norm-topk", action="store_true")
    p.add_argument("--theta", type=float, default=d["theta"])
    p.add_argument("--rope-linear", type=float, default=d["rope_linear"], help="linear RoPE scaling factor")
    p.add_argument("--rope-scaling", default=None,
                   help='rope_scaling as JSON, e.g. \'{"type": "dynamic", "factor": 2.0}\'')
    p.add_argument("--partial-rotary", type=float, default=None, help="llama only: partial_rotary_factor")
    p.add_argument("--tie", action="store_true", help="tie_word_embeddings (no lm_head.weight)")
    p.add_argument("--eps", type=float, default=d["eps"])
    return p.parse_args(argv)


def main(argv=None):
    args = vars(parse_args(argv))
    out = args.pop("out")
    cfg = write_model(out, **args)
    print(f"wrote {cfg['model_type']} model to {out}")


if __name__ == "__main__":
    main()
