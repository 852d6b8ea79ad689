#!/usr/bin/python3
"""Seed corpora for the fuzz targets, from the project's own files: one folder per target under --out.

Model files come from `dsmoe make-model` (a Release build's binary) at a tiny shape, so that every seed stays
small enough for the fuzzer to mutate; the rest are the configs, tokenizers, chat templates, messages and texts
the test suite already uses.
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = os.path.join(ROOT, "models", "dsmoe-kjv-9m")
SYNTHETIC = os.path.join(ROOT, "tests", "tokenizer_compat", "synthetic")
TOKENIZER_NAMES = ["added_tokens", "metaspace_first", "metaspace_always", "whitespace", "split_behaviors"]


def tiny_config(architecture, vocab, hidden=32):
    """The shipped model's config at a shape of kilobytes (block formats need rows of 32; K-quants fall back)."""
    config = json.load(open(os.path.join(SHIPPED, "config.json")))
    config.update(hidden_size=hidden, intermediate_size=2 * hidden, moe_intermediate_size=hidden, num_hidden_layers=2,
                  num_attention_heads=2, num_key_value_heads=2, n_routed_experts=4, num_experts_per_tok=2,
                  vocab_size=vocab, bos_token_id=vocab - 2, eos_token_id=vocab - 1, max_position_embeddings=64)
    if architecture == "llama":
        config.update(model_type="llama", architectures=["LlamaForCausalLM"])
        for key in ["n_routed_experts", "n_shared_experts", "num_experts_per_tok", "moe_intermediate_size",
                    "first_k_dense_replace", "moe_layer_freq", "norm_topk_prob", "scoring_func", "seq_aux",
                    "aux_loss_alpha"]:
            config.pop(key, None)
    return config


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def small_tokenizer(work, keep):
    """The shipped byte-level BPE with only its first `keep` tokens (the merges that stay inside them) and its
    two special tokens after them: a folder with tokenizer.json and tokenizer_config.json."""
    spec = json.load(open(os.path.join(SHIPPED, "tokenizer.json"), encoding="utf-8"))
    vocab = {token: i for token, i in spec["model"]["vocab"].items() if i < keep}
    merges = []
    for merge in spec["model"]["merges"]:
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        if left in vocab and right in vocab and left + right in vocab:
            merges.append(merge)
    spec["model"]["vocab"], spec["model"]["merges"] = vocab, merges
    for i, added in enumerate(spec["added_tokens"]):
        added["id"] = keep + i
    folder = os.path.join(work, "tok")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f, ensure_ascii=False)
    shutil.copy(os.path.join(SHIPPED, "tokenizer_config.json"), folder)
    return folder


def copy_into(folder, source, name):
    os.makedirs(folder, exist_ok=True)
    shutil.copy(source, os.path.join(folder, name))


def safetensors_bytes(tensors, metadata=None):
    """tensors: name -> (dtype, shape, raw bytes), laid out in order."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def make_model(dsmoe, config, folder, fmt, dtype, tokenizer):
    config_path = os.path.join(folder, "config.json")
    with open(config_path, "w") as f:
        json.dump(config, f)
    out = os.path.join(folder, f"model-{dtype}.{'gguf' if fmt == 'gguf' else 'hf'}")
    made = subprocess.run([dsmoe, "make-model", "--config", config_path, "--type", dtype, "--format", fmt, "--out",
                           out, "--tokenizer", tokenizer], capture_output=True)
    if made.returncode != 0:
        raise SystemExit(f"make_corpus.py: dsmoe make-model failed: {made.stderr.decode(errors='replace')}")
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsmoe", required=True, help="a Release build's dsmoe, for make-model")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = args.out
    shutil.rmtree(out, ignore_errors=True)
    work = tempfile.mkdtemp(prefix="dsmoe-corpus-")
    try:
        # gguf_model: both architectures, float and block formats, without a tokenizer and with the shipped
        # model's cut to 258 tokens (seeds of tens of kilobytes keep the fuzzer fast).
        tok_dir = small_tokenizer(work, 258)
        for i, (arch, dtype, tokenizer) in enumerate(
                [("deepseek", "f32", "none"), ("deepseek", "q8_0", tok_dir), ("llama", "q4_k_m", "none"),
                 ("llama", "f16", tok_dir), ("deepseek", "q4_0", "none"), ("llama", "q4_0", tok_dir)]):
            vocab = 260 if tokenizer == tok_dir else 64
            hidden = 8 if dtype in ("f32", "f16") else 32
            path = make_model(args.dsmoe, tiny_config(arch, vocab, hidden), work, "gguf", dtype, tokenizer)
            copy_into(os.path.join(out, "gguf_model"), path, f"seed{i}.gguf")

        # safetensors_file: make-model's HF shards, and hand-made files with metadata and 16-bit types.
        for i, (arch, dtype) in enumerate([("deepseek", "f32"), ("llama", "bf16")]):
            folder = make_model(args.dsmoe, tiny_config(arch, 8), work, "hf", dtype, "none")
            for name in sorted(os.listdir(folder)):
                if name.endswith(".safetensors"):
                    copy_into(os.path.join(out, "safetensors_file"), os.path.join(folder, name), f"hf{i}-{name}")
        write(os.path.join(out, "safetensors_file"), "small.safetensors", safetensors_bytes(
            {"a": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)), "b": ("BF16", [3], b"\x80\x3f" * 3),
             "c": ("F16", [1, 2], b"\x00\x3c\x00\x40")}, {"format": "pt"}))
        write(os.path.join(out, "safetensors_file"), "empty.safetensors", safetensors_bytes({}))

        # safetensors_index: indexes naming the one shard the target provides (a.safetensors holds "w").
        index_dir = os.path.join(out, "safetensors_index")
        write(index_dir, "one", json.dumps({"metadata": {"total_size": 8}, "weight_map": {"w": "a.safetensors"}}))
        write(index_dir, "missing", json.dumps({"weight_map": {"w": "a.safetensors", "v": "b.safetensors"}}))
        write(index_dir, "outside", json.dumps({"weight_map": {"w": "../a.safetensors"}}))

        # model_config: the real 16B config, the shipped model's, and the tiny ones with RoPE scalings.
        config_dir = os.path.join(out, "model_config")
        copy_into(config_dir, os.path.join(ROOT, "configs", "deepseek-moe-16b-base.json"), "16b")
        copy_into(config_dir, os.path.join(SHIPPED, "config.json"), "shipped")
        scalings = [{"type": "linear", "factor": 2.0}, {"type": "dynamic", "factor": 4.0},
                    {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 64},
                    {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 64}]
        for i, scaling in enumerate(scalings):
            config = tiny_config("llama" if i % 2 else "deepseek", 64)
            config["rope_scaling"] = scaling
            write(config_dir, f"tiny{i}", json.dumps(config))

        # tokenizer_json: each tokenizer.json, NUL, a tokenizer_config.json.
        shipped_config = open(os.path.join(SHIPPED, "tokenizer_config.json"), "rb").read()
        for name in TOKENIZER_NAMES:
            text = open(os.path.join(SYNTHETIC, name + ".json"), "rb").read()
            write(os.path.join(out, "tokenizer_json"), name, text + b"\0" + b'{"bos_token": "<s>"}')
        write(os.path.join(out, "tokenizer_json"), "shipped_cut",
              open(os.path.join(tok_dir, "tokenizer.json"), "rb").read() + b"\0" + shipped_config)

        # chat_template: each template, NUL, each messages document in turn.
        templates = [os.path.join(ROOT, "tests", "chat_template", "templates", n)
                     for n in sorted(os.listdir(os.path.join(ROOT, "tests", "chat_template", "templates")))]
        templates.append(os.path.join(ROOT, "tests", "chat_template", "deepseek_moe_chat.jinja"))
        messages_dir = os.path.join(ROOT, "tests", "chat_template", "messages")
        messages = [os.path.join(messages_dir, n) for n in sorted(os.listdir(messages_dir))]
        for i, template in enumerate(templates):
            body = open(template, "rb").read()
            write(os.path.join(out, "chat_template"), f"t{i}", body + b"\0" + open(messages[i % len(messages)], "rb").read())
        write(os.path.join(out, "chat_template"), "shipped",
              json.loads(shipped_config)["chat_template"].encode() + b"\0" + open(messages[0], "rb").read())

        # tokenizer_text: the tokenizer compatibility corpus, each line for a different tokenizer.
        lines = [json.loads(line) for line in open(os.path.join(ROOT, "tests", "tokenizer_compat", "corpus.jsonl"),
                                                   encoding="utf-8") if line.strip()]
        for i, text in enumerate(lines[:200]):
            write(os.path.join(out, "tokenizer_text"), f"line{i}", bytes([i % 6]) + text.encode("utf-8", "replace"))

        # command_line: the commands the README and the tests type.
        commands = [
            ["run", "-p", "In the beginning", "-n", "48", "--temp", "0.7", "--top-p", "0.9", "--min-p", "0.05"],
            ["-t", "2", "run", "-c", "128", "--seed", "7", "--stop", "\n", "--cache-type", "q8_0"],
            ["chat", "--system", "Be brief.", "--rope-scaling", "yarn", "--rope-scale", "4", "--yarn-orig-ctx", "64"],
            ["bench", "-p", "512", "-n", "128", "-t", "1,2", "-r", "5", "-o", "json", "-d", "0,4096"],
            ["perplexity", "-f", "x.txt", "-c", "64", "--stride", "32", "-b", "2", "--train-ctx", "64"],
            ["passkey", "--depths", "0,0.5,1", "--trials", "3", "-c", "256"],
            ["tokenize", "--decode", "--skip-special", "-p", "1,2,3"],
            ["inspect", "--config", "configs/deepseek-moe-16b-base.json", "--seq", "4096", "--batch", "2"],
            ["inspect", "rope", "--ctx", "8192", "--grid", "16x16", "--seed", "3"],
            ["make-model", "--config", "c.json", "--type", "q4_k_m", "--out", "m.gguf", "--seed", "1"],
            ["quantize", "in", "out.gguf", "--type", "q8_0"],
            ["logits", "-m", "m", "--ids", "1,2;3,4", "--out", "o", "--prefill", "1"],
            ["template", "--template", "t.jinja", "--messages", "m.json", "--add-generation-prompt"],
        ]
        for i, command in enumerate(commands):
            write(os.path.join(out, "command_line"), f"cmd{i}", "\0".join(command))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for target in sorted(os.listdir(out)):
        print(f"{target}: {len(os.listdir(os.path.join(out, target)))} seeds")


if __name__ == "__main__":
    main()
