#!/usr/bin/python3
"""`dsmoe quantize` against llama-quantize itself (llama_model_quantize in llama.cpp's prebuilt libllama, through
llama_driver.py): the same F32 GGUF quantized by both to every file type dsmoe writes must give the same tensors,
the same per-tensor types and the same bytes.

  check_quantize.py --dsmoe build/dsmoe --peer BUILD/llama_cpp_peer [--model models/dsmoe-kjv-9m]

The input is the shipped model converted to F32 by `dsmoe convert` (its rows of 128 exercise the K-quants'
fallbacks), and a random tiny DeepSeek-MoE made by `dsmoe make-model` with 256-wide expert rows, a different
seed every run (printed). Both quantizers are deterministic (no importance matrix), so anything but equality
is a failure.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import llama_cpp_peer  # noqa: E402
import llama_driver  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
# dsmoe --type -> llama_ftype (llama.h)
FTYPES = {"f16": 1, "bf16": 32, "q8_0": 7, "q4_0": 2, "q4_1": 3, "q5_0": 8, "q5_1": 9, "q4_k_s": 14, "q4_k_m": 15,
          "q5_k_s": 16, "q5_k_m": 17, "q6_k": 18}


def compare(gguf, ours_path, theirs_path, label):
    import numpy as np
    ours = {t.name: t for t in gguf.GGUFReader(ours_path).tensors}
    theirs = {t.name: t for t in gguf.GGUFReader(theirs_path).tensors}
    problems = []
    if set(ours) != set(theirs):
        problems.append(f"tensor names differ: {sorted(set(ours) ^ set(theirs))}")
    for name in sorted(set(ours) & set(theirs)):
        a, b = ours[name], theirs[name]
        if a.tensor_type != b.tensor_type:
            problems.append(f"{name}: dsmoe {a.tensor_type.name}, llama.cpp {b.tensor_type.name}")
        elif list(a.shape) != list(b.shape):
            problems.append(f"{name}: shape {list(a.shape)} vs {list(b.shape)}")
        elif not np.array_equal(np.asarray(a.data).view(np.uint8).ravel(), np.asarray(b.data).view(np.uint8).ravel()):
            problems.append(f"{name} ({a.tensor_type.name}): bytes differ")
    types = sorted({t.tensor_type.name for t in ours.values()})
    print(f"{label}: {len(ours)} tensors, types {types}: {'same' if not problems else 'DIFFERENT'}")
    for p in problems[:8]:
        print("   ", p)
    return not problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsmoe", required=True)
    parser.add_argument("--peer", required=True)
    parser.add_argument("--model", default=os.path.join(ROOT, "models", "dsmoe-kjv-9m"))
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    args = parser.parse_args()
    print(f"seed {args.seed}")
    gguf = llama_cpp_peer.import_gguf(args.peer)
    work = tempfile.mkdtemp(prefix="dsmoe_quantize_peer_")
    try:
        inputs = {}
        shipped = os.path.join(work, "shipped-f32.gguf")
        subprocess.run([args.dsmoe, "convert", args.model, shipped, "--type", "f32"], check=True, capture_output=True)
        inputs["shipped"] = shipped
        config = {"model_type": "deepseek", "vocab_size": 4096, "hidden_size": 256, "intermediate_size": 512,
                  "num_hidden_layers": 9, "num_attention_heads": 4, "moe_intermediate_size": 256,
                  "n_routed_experts": 4, "n_shared_experts": 1, "num_experts_per_tok": 2, "first_k_dense_replace": 1,
                  "max_position_embeddings": 128}
        config_path = os.path.join(work, "config.json")
        with open(config_path, "w") as f:
            json.dump(config, f)
        tiny = os.path.join(work, "tiny-f32.gguf")
        subprocess.run([args.dsmoe, "make-model", "--config", config_path, "--type", "f32", "--format", "gguf",
                        "--out", tiny, "--seed", str(args.seed)], check=True, capture_output=True)
        inputs["random 9-layer"] = tiny
        ok = True
        for label, source in inputs.items():
            for file_type, ftype in FTYPES.items():
                ours = os.path.join(work, f"ours-{file_type}.gguf")
                theirs = os.path.join(work, f"theirs-{file_type}.gguf")
                subprocess.run([args.dsmoe, "quantize", source, ours, "--type", file_type], check=True,
                               capture_output=True)
                result = llama_driver.run_driver(args.peer, ["quantize", source, theirs, str(ftype)])
                if result.returncode != 0:
                    print(result.stderr[-2000:])
                    ok = False
                    continue
                ok &= compare(gguf, ours, theirs, f"{label} {file_type}")
                os.remove(ours)
                os.remove(theirs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
