#!/usr/bin/python3
"""Self-check of the llama.cpp driver (llama_driver.py) that needs nothing of dsmoe's: it writes small GGUF files with
llama.cpp's own gguf-py (random F32 weights, the byte-level BPE vocabulary of models/dsmoe-kjv-9m/tokenizer.json,
pre-tokenizer "gpt-2") and checks what llama.cpp makes of them against NumPy written here from the math.

  check_llama_driver.py --peer PEER [--part tokenize|errors|llama|deepseek|all] [--seed N] [--keep DIR]

  tokenize  lines (ASCII, Unicode, newlines, a special token's text, empty) give ids inside the vocabulary that
            detokenize back to the line (with BOS added by add_bos_token and dropped again); --no-special drops
            BOS; --parse-special turns the BOS text into its id; info reports the hyperparameters written.
  llama     arch "llama" (GQA, 2 layers): `logits` at every position equals a float64 NumPy forward pass (RMSNorm,
            adjacent-pair "NORM" RoPE, causal softmax attention, SwiGLU) within 1e-4 relative to the largest
            logit; `generate` equals the argmax of repeated `logits` calls (and of NumPy).
  errors    a missing file, an unknown option, ids outside the vocabulary, a line that is not JSON: exit 1 with a
            "llama_driver: ..." message.
  deepseek  arch "deepseek" (DeepSeek-MoE v1: a leading dense layer, then MoE layers with a softmax router over all
            experts, top-k without renormalisation, expert_weights_scale, one shared SwiGLU expert): the same logits
            check against NumPy, and greedy generation.
Exits 1 on any mismatch, and when the peer is missing (never a skip).
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import llama_cpp_peer  # noqa: E402
import llama_driver  # noqa: E402

TOKENIZER_JSON = os.path.join(ROOT, "models", "dsmoe-kjv-9m", "tokenizer.json")
REL_TOL = 1e-4
FAILURES = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        FAILURES.append(what)


# ---------------------------------------------------------------- vocabulary

def load_vocab():
    """Tokens in id order, merges, token types and BOS/EOS ids from the shipped HF tokenizer.json."""
    with open(TOKENIZER_JSON, encoding="utf-8") as f:
        tj = json.load(f)
    vocab = dict(tj["model"]["vocab"])
    special = {}
    for t in tj["added_tokens"]:
        vocab[t["content"]] = t["id"]
        special[t["id"]] = t["content"]
    n = max(vocab.values()) + 1
    tokens = [None] * n
    for text, i in vocab.items():
        tokens[i] = text
    types = []
    for i, t in enumerate(tokens):
        if t is None:
            tokens[i] = f"[PAD{i}]"
            types.append(5)  # unused
        else:
            types.append(3 if i in special else 1)  # control or normal
    merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]
    names = {v: k for k, v in special.items()}
    bos = names.get("<｜begin▁of▁sentence｜>", 0)
    eos = names.get("<｜end▁of▁sentence｜>", 1)
    return tokens, types, merges, bos, eos


# ---------------------------------------------------------------- model configs and GGUF writing

LLAMA = dict(arch="llama", n_embd=64, n_head=4, n_head_kv=2, n_layer=2, n_ff=96, ctx=128, eps=1e-5, base=10000.0)
DEEPSEEK = dict(arch="deepseek", n_embd=64, n_head=4, n_head_kv=4, n_layer=3, n_ff=96, ctx=128, eps=1e-6,
                base=10000.0, n_expert=6, n_expert_used=2, n_shared=1, n_ff_exp=32, n_dense=1, w_scale=1.5)


def random_weights(cfg, n_vocab, rng):
    """NumPy arrays in the GGUF/PyTorch orientation: [out, in] (gguf-py writes ne0 = the last axis = in)."""
    H, hd = cfg["n_embd"], cfg["n_embd"] // cfg["n_head"]
    kv = cfg["n_head_kv"] * hd

    def lin(out_dim, in_dim):
        return (rng.standard_normal((out_dim, in_dim)) / np.sqrt(in_dim)).astype(np.float32)

    def norm(dim):
        return (1.0 + 0.2 * rng.standard_normal(dim)).astype(np.float32)

    w = {"token_embd.weight": rng.standard_normal((n_vocab, H)).astype(np.float32),
         "output_norm.weight": norm(H), "output.weight": lin(n_vocab, H)}
    for i in range(cfg["n_layer"]):
        p = f"blk.{i}."
        w[p + "attn_norm.weight"] = norm(H)
        w[p + "attn_q.weight"] = lin(H, H) * 2.0  # sharper attention than uniform
        w[p + "attn_k.weight"] = lin(kv, H) * 2.0
        w[p + "attn_v.weight"] = lin(kv, H)
        w[p + "attn_output.weight"] = lin(H, H)
        w[p + "ffn_norm.weight"] = norm(H)
        if cfg["arch"] == "llama" or i < cfg["n_dense"]:
            w[p + "ffn_gate.weight"] = lin(cfg["n_ff"], H)
            w[p + "ffn_up.weight"] = lin(cfg["n_ff"], H)
            w[p + "ffn_down.weight"] = lin(H, cfg["n_ff"])
        else:
            E, Fe, S = cfg["n_expert"], cfg["n_ff_exp"], cfg["n_shared"]
            w[p + "ffn_gate_inp.weight"] = lin(E, H) * 3.0  # a router with clear winners
            w[p + "ffn_gate_exps.weight"] = np.stack([lin(Fe, H) for _ in range(E)])  # [E, Fe, H]
            w[p + "ffn_up_exps.weight"] = np.stack([lin(Fe, H) for _ in range(E)])
            w[p + "ffn_down_exps.weight"] = np.stack([lin(H, Fe) for _ in range(E)])  # [E, H, Fe]
            w[p + "ffn_gate_shexp.weight"] = lin(Fe * S, H)
            w[p + "ffn_up_shexp.weight"] = lin(Fe * S, H)
            w[p + "ffn_down_shexp.weight"] = lin(H, Fe * S)
    return w


def write_gguf(gguf, path, cfg, vocab, weights):
    tokens, types, merges, bos, eos = vocab
    arch = cfg["arch"]
    wr = gguf.GGUFWriter(path, arch)
    wr.add_name(f"driver self-check {arch}")
    wr.add_file_type(0)  # ALL_F32
    wr.add_context_length(cfg["ctx"])
    wr.add_embedding_length(cfg["n_embd"])
    wr.add_block_count(cfg["n_layer"])
    wr.add_feed_forward_length(cfg["n_ff"])
    wr.add_head_count(cfg["n_head"])
    wr.add_head_count_kv(cfg["n_head_kv"])
    wr.add_layer_norm_rms_eps(cfg["eps"])
    wr.add_rope_dimension_count(cfg["n_embd"] // cfg["n_head"])
    wr.add_rope_freq_base(cfg["base"])
    wr.add_vocab_size(len(tokens))
    if arch == "deepseek":
        wr.add_leading_dense_block_count(cfg["n_dense"])
        wr.add_expert_feed_forward_length(cfg["n_ff_exp"])
        wr.add_expert_count(cfg["n_expert"])
        wr.add_expert_used_count(cfg["n_expert_used"])
        wr.add_expert_shared_count(cfg["n_shared"])
        wr.add_expert_weights_scale(cfg["w_scale"])
    wr.add_tokenizer_model("gpt2")
    wr.add_tokenizer_pre("gpt-2")
    wr.add_token_list(tokens)
    wr.add_token_types(types)
    wr.add_token_merges(merges)
    wr.add_bos_token_id(bos)
    wr.add_eos_token_id(eos)
    wr.add_add_bos_token(True)
    for name, arr in weights.items():
        wr.add_tensor(name, arr)
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()


# ---------------------------------------------------------------- NumPy forward pass (float64)

def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope_adjacent(x, base, halves=False):
    """x [T, heads, hd]: rotate the adjacent pairs (2i, 2i+1) by pos * base^(-2i/hd) (GGML's "NORM" mode).
    halves=True pairs (i, i + hd/2) instead (NEOX / HF rotate-half): only a negative control here."""
    T, _, hd = x.shape
    inv = base ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)  # [hd/2]
    ang = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]  # [T, hd/2]
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    first, second = (slice(0, hd // 2), slice(hd // 2, hd)) if halves else (slice(0, hd, 2), slice(1, hd, 2))
    a, b = x[..., first], x[..., second]
    out = np.empty_like(x)
    out[..., first] = a * cos - b * sin
    out[..., second] = a * sin + b * cos
    return out


def silu(x):
    return x / (1.0 + np.exp(-x))


def swiglu(h, gate, up, down):
    return (silu(h @ gate.T) * (h @ up.T)) @ down.T


def attention(h, w, p, cfg):
    T = h.shape[0]
    nh, nkv = cfg["n_head"], cfg["n_head_kv"]
    hd = cfg["n_embd"] // nh
    halves = cfg.get("control") == "rope_halves"
    q = rope_adjacent((h @ w[p + "attn_q.weight"].T).reshape(T, nh, hd), cfg["base"], halves)
    k = rope_adjacent((h @ w[p + "attn_k.weight"].T).reshape(T, nkv, hd), cfg["base"], halves)
    v = (h @ w[p + "attn_v.weight"].T).reshape(T, nkv, hd)
    group = nh // nkv
    mask = np.triu(np.full((T, T), -np.inf), k=1)
    out = np.empty((T, nh, hd))
    for head in range(nh):
        kvh = head // group
        s = q[:, head, :] @ k[:, kvh, :].T / np.sqrt(hd) + mask
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        out[:, head, :] = (s / s.sum(axis=-1, keepdims=True)) @ v[:, kvh, :]
    return out.reshape(T, nh * hd) @ w[p + "attn_output.weight"].T


def moe(h, w, p, cfg, margins):
    logits = h @ w[p + "ffn_gate_inp.weight"].T  # [T, E]
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    k = cfg["n_expert_used"]
    out = np.zeros_like(h)
    for t in range(h.shape[0]):
        order = np.argsort(-probs[t], kind="stable")
        margins.append(probs[t, order[k - 1]] - probs[t, order[k]])
        chosen = probs[t, order[:k]]
        if cfg.get("control") == "renormalise":
            chosen = chosen / chosen.sum()
        scale = 1.0 if cfg.get("control") == "no_scale" else cfg["w_scale"]
        for e, prob in zip(order[:k], chosen):
            g = prob * scale  # the selected probabilities, not renormalised
            out[t] += g * swiglu(h[t:t + 1], w[p + "ffn_gate_exps.weight"][e], w[p + "ffn_up_exps.weight"][e],
                                 w[p + "ffn_down_exps.weight"][e])[0]
    shared = swiglu(h, w[p + "ffn_gate_shexp.weight"], w[p + "ffn_up_shexp.weight"], w[p + "ffn_down_shexp.weight"])
    return out + shared


def forward(tokens, w, cfg, margins=None):
    w = {k: v.astype(np.float64) for k, v in w.items()}
    margins = [] if margins is None else margins
    x = w["token_embd.weight"][np.asarray(tokens)]
    for i in range(cfg["n_layer"]):
        p = f"blk.{i}."
        x = x + attention(rms_norm(x, w[p + "attn_norm.weight"], cfg["eps"]), w, p, cfg)
        h = rms_norm(x, w[p + "ffn_norm.weight"], cfg["eps"])
        if cfg["arch"] == "llama" or i < cfg["n_dense"]:
            x = x + swiglu(h, w[p + "ffn_gate.weight"], w[p + "ffn_up.weight"], w[p + "ffn_down.weight"])
        else:
            x = x + moe(h, w, p, cfg, margins)
    return rms_norm(x, w["output_norm.weight"], cfg["eps"]) @ w["output.weight"].T


# ---------------------------------------------------------------- driver calls

def driver(peer, args, input=None):
    r = llama_driver.run_driver(peer, args, input=input, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"llama_driver {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stderr}")
    return r.stdout


def driver_logits(peer, path, tokens, tmp, extra=()):
    out = os.path.join(tmp, "logits.npy")
    summary = json.loads(driver(peer, ["logits", path, "--tokens", ",".join(map(str, tokens)), "--out", out]
                                + list(extra)))
    logits = np.load(out)
    if logits.shape != (summary["n_tokens"], summary["n_vocab"]):
        raise RuntimeError(f"logits shape {logits.shape} does not match the summary {summary}")
    return logits


def relative_error(got, want):
    return float(np.max(np.abs(got.astype(np.float64) - want)) / np.max(np.abs(want)))


# ---------------------------------------------------------------- parts

LINES = ["In the beginning God created the heaven and the earth.", "And God said, Let there be light: and there was light.",
         "  leading spaces,\ttabs\nand a newline", "Unicode: naïve café — 日本語 🙂", "12345 + 678 = 13023",
         "<｜begin▁of▁sentence｜>special text", ""]


def part_tokenize(peer, gguf, tmp, vocab):
    tokens, _, _, bos, eos = vocab
    path = os.path.join(tmp, "llama.gguf")
    rng = np.random.default_rng(0)
    write_gguf(gguf, path, LLAMA, vocab, random_weights(LLAMA, len(tokens), rng))
    stdin = "".join(json.dumps(line) + "\n" for line in LINES)
    with_bos = [json.loads(l) for l in driver(peer, ["tokenize", path], stdin).splitlines()]
    plain = [json.loads(l) for l in driver(peer, ["tokenize", path, "--no-special"], stdin).splitlines()]
    parsed = [json.loads(l) for l in driver(peer, ["tokenize", path, "--no-special", "--parse-special"],
                                             stdin).splitlines()]
    check(len(with_bos) == len(LINES) == len(plain) == len(parsed), "tokenize: one line of ids per line of text")
    for line, a, b in zip(LINES, with_bos, plain):
        check(a == [bos] + b, f"tokenize: BOS added by default and not with --no-special for {line[:24]!r}")
        check(bool(line) == bool(b) and all(0 <= i < len(tokens) for i in b),
              f"tokenize: {len(b)} ids inside the vocabulary for {line[:24]!r}")
    back = [json.loads(l) for l in driver(peer, ["detokenize", path],
                                           "".join(json.dumps(ids) + "\n" for ids in plain)).splitlines()]
    for line, text in zip(LINES, back):
        check(text == line, f"detokenize(tokenize(x)) == x for {line[:24]!r} (got {text[:24]!r})")
    special_line = LINES.index("<｜begin▁of▁sentence｜>special text")
    check(parsed[special_line][0] == bos and bos not in plain[special_line],
          "tokenize --parse-special turns the BOS text into its id; without it the text is plain")
    # A byte that is not UTF-8 reaches llama.cpp intact (a lone surrogate in the JSON line), and llama.cpp reads
    # each such byte as U+FFFD; the other way, pieces that end inside a character come back as surrogates.
    raw = b"caf\xe9 \xff"
    ids = json.loads(driver(peer, ["tokenize", path, "--no-special"],
                            json.dumps(raw.decode("utf-8", "surrogateescape")) + "\n"))
    replaced = json.loads(driver(peer, ["tokenize", path, "--no-special"], json.dumps("caf\ufffd \ufffd") + "\n"))
    check(ids == replaced, "tokenize: each invalid UTF-8 byte is tokenized as U+FFFD (llama.cpp's reading)")
    e_acute = json.loads(driver(peer, ["tokenize", path, "--no-special"], json.dumps("\u00e9") + "\n"))
    byte_ids = [i for i, t in enumerate(tokens) if t in ("\u00c3", "\u00a9")]  # byte-level symbols of 0xC3, 0xA9
    if len(byte_ids) == 2:
        half = json.loads(driver(peer, ["detokenize", path], json.dumps(byte_ids[:1] if tokens[byte_ids[0]] == "\u00c3"
                                                                          else byte_ids[1:]) + "\n"))
        check(half.encode("utf-8", "surrogateescape") == b"\xc3",
              f"detokenize: half a character comes back as its raw byte (\\udcc3), {e_acute} being the whole one")
    info = json.loads(driver(peer, ["info", path]))
    vocab_only = json.loads(driver(peer, ["info", path, "--vocab-only"]))
    check(vocab_only["n_vocab"] == len(tokens) and not vocab_only["weights_loaded"], "info --vocab-only: the vocabulary")
    check((info["n_vocab"], info["n_embd"], info["n_layer"], info["n_ctx_train"], info["bos"], info["eos"])
          == (len(tokens), LLAMA["n_embd"], LLAMA["n_layer"], LLAMA["ctx"], bos, eos),
          f"info: n_vocab {info['n_vocab']}, n_embd, n_layer, n_ctx_train, bos, eos as written ({info['desc']!r})")
    check(info["meta"].get("general.architecture") == "llama" and "llama.rope.freq_base" in info["meta"],
          f"info: {len(info['meta'])} metadata keys, general.architecture = llama")


def part_model(peer, gguf, tmp, vocab, cfg, seed):
    arch = cfg["arch"]
    n_vocab = len(vocab[0])
    rng = np.random.default_rng(seed)
    w = random_weights(cfg, n_vocab, rng)
    path = os.path.join(tmp, f"{arch}.gguf")
    write_gguf(gguf, path, cfg, vocab, w)
    prompt = [vocab[3]] + [int(t) for t in rng.integers(0, n_vocab - 2, 11)]
    got = driver_logits(peer, path, prompt, tmp)
    margins = []
    want = forward(prompt, w, cfg, margins)
    if margins:
        print(f"      {arch}: smallest router margin between the k-th and (k+1)-th expert: {min(margins):.3g}")
    err = relative_error(got, want)
    check(err < REL_TOL, f"{arch}: logits [{len(prompt)}, {n_vocab}] vs NumPy: max |diff| / max |logit| = {err:.3g}"
                         f" (tolerance {REL_TOL:g}; max |logit| {np.max(np.abs(want)):.3g})")
    check(np.array_equal(got.argmax(axis=1), want.argmax(axis=1)), f"{arch}: argmax at every position as NumPy")
    # The exact settings matter: with llama.cpp's own defaults (flash attention auto, F16 K/V cache) it is off.
    loose = relative_error(driver_logits(peer, path, prompt, tmp, ["--llama-defaults"]), want)
    check(loose > 10 * err and loose > 1e-5, f"{arch}: with --llama-defaults the logits are {loose:.3g} away instead "
                                             f"(flash attention off and an F32 cache are what make them exact)")
    # Negative controls: the comparison tells apart the variants a reader of the file could get wrong.
    controls = ["rope_halves"] + (["renormalise", "no_scale"] if arch == "deepseek" else [])
    for control in controls:
        wrong = relative_error(got, forward(prompt, w, dict(cfg, control=control)))
        check(wrong > 100 * REL_TOL, f"{arch}: NumPy with {control} instead is {wrong:.3g} away (must fail)")

    n = 8
    out = json.loads(driver(peer, ["generate", path, "--tokens", ",".join(map(str, prompt)), "-n", n,
                                   "--ignore-eos"]))
    seq, expected, numpy_expected = list(prompt), [], []
    for _ in range(n):
        step = driver_logits(peer, path, seq, tmp)
        nxt = int(np.argmax(step[-1]))
        numpy_expected.append(int(np.argmax(forward(seq, w, cfg)[-1])))
        expected.append(nxt)
        seq.append(nxt)
    check(out["tokens"] == expected, f"{arch}: generate -n {n} {out['tokens']} == argmax of repeated logits calls")
    check(expected == numpy_expected, f"{arch}: those tokens are NumPy's greedy tokens too")


def part_errors(peer, gguf, tmp, vocab):
    path = os.path.join(tmp, "llama.gguf")
    write_gguf(gguf, path, LLAMA, vocab, random_weights(LLAMA, len(vocab[0]), np.random.default_rng(0)))
    cases = [(["tokenize", os.path.join(tmp, "absent.gguf")], "", "cannot open"),
             (["tokenize", path, "--bogus"], "", "unknown option"),
             (["tokenize", path], "not json\n", "not one JSON string"),
             (["logits", path, "--tokens", f"1,{len(vocab[0])}", "--out", os.path.join(tmp, "x.npy")], None,
              "outside the vocabulary"),
             (["logits", path, "--tokens", "1,2"], None, "--out is required"),
             (["generate", path, "--tokens", "1,x", "-n", "2"], None, "bad id list"),
             (["logits", path, "--tokens", "1,2,3", "--ctx", "2", "--out", os.path.join(tmp, "x.npy")], None,
              "smaller than"),
             (["frobnicate", path], None, "unknown command")]
    for args, stdin, message in cases:
        r = llama_driver.run_driver(peer, args, input=stdin, timeout=120)
        check(r.returncode == 1 and "llama_driver: " in r.stderr and message in r.stderr,
              f"errors: {' '.join(args[:1] + args[2:])!s:.60} exits 1 saying {message!r} (rc {r.returncode})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer", required=True, help="the folder llama_cpp_peer.py installed into")
    parser.add_argument("--part", default="all", choices=["tokenize", "llama", "deepseek", "errors", "all"])
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--keep", help="write the GGUF files into this folder and keep them")
    args = parser.parse_args()
    for sub in ("lib", "include", "gguf-py"):
        if not os.path.isdir(os.path.join(args.peer, sub)):
            print(f"FAIL  the llama.cpp peer is missing: {os.path.join(args.peer, sub)} "
                  f"(run llama_cpp_peer.py install --dir {args.peer})")
            return 1
    gguf = llama_cpp_peer.import_gguf(args.peer)
    vocab = load_vocab()
    print(f"driver: {llama_driver.build_driver(args.peer)}")
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="llama_driver_check_") as tmp:
        tmp = args.keep or tmp
        try:
            if args.part in ("tokenize", "all"):
                part_tokenize(args.peer, gguf, tmp, vocab)
            if args.part in ("errors", "all"):
                part_errors(args.peer, gguf, tmp, vocab)
            if args.part in ("llama", "all"):
                part_model(args.peer, gguf, tmp, vocab, LLAMA, args.seed)
            if args.part in ("deepseek", "all"):
                part_model(args.peer, gguf, tmp, vocab, DEEPSEEK, args.seed + 1)
        except RuntimeError as e:
            check(False, str(e))
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
