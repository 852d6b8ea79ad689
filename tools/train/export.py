"""Exports the trained model as a HF-layout directory dsmoe loads: config.json (every key of the real
deepseek-moe-16b-base config, this model's values), model.safetensors (BF16), tokenizer.json,
tokenizer_config.json (DeepSeek-MoE chat template), generation_config.json, MODEL_CARD.md and
loss_curve.svg.

CLI: python3 export.py --work work --out ../../models/dsmoe-kjv-9m [--run-dir work/language]
"""
import argparse
import json
import os
import shutil

from model import count_parameters
from tokenizer import Tokenizer
from weights import load_trained, write_safetensors_bf16
import model_card

HERE = os.path.dirname(os.path.abspath(__file__))
REAL_CONFIG = os.path.join(HERE, "..", "..", "configs", "deepseek-moe-16b-base.json")
MAX_BYTES = 30 * 1000 * 1000


def hf_config(cfg):
    out = {
        "architectures": ["DeepseekForCausalLM"],
        "auto_map": {
            "AutoConfig": "configuration_deepseek.DeepseekConfig",
            "AutoModel": "modeling_deepseek.DeepseekModel",
            "AutoModelForCausalLM": "modeling_deepseek.DeepseekForCausalLM",
        },
        "model_type": "deepseek",
        "pretraining_tp": 1,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.36.0",
        "use_cache": True,
    }
    out.update(cfg)
    out["rope_theta"] = int(cfg["rope_theta"]) if float(cfg["rope_theta"]).is_integer() else cfg["rope_theta"]
    with open(REAL_CONFIG) as f:
        real = json.load(f)
    if set(out) != set(real):
        raise ValueError(f"config keys differ from {REAL_CONFIG}: missing {sorted(set(real) - set(out))}, "
                         f"extra {sorted(set(out) - set(real))}")
    return dict(sorted(out.items()))


def generation_config(cfg):
    # Sampling defaults for a small model: mild temperature, nucleus, a light repetition penalty.
    return {"bos_token_id": cfg["bos_token_id"], "eos_token_id": cfg["eos_token_id"], "do_sample": True,
            "temperature": 0.7, "top_p": 0.95, "repetition_penalty": 1.1, "max_new_tokens": 128,
            "transformers_version": "4.36.0"}


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def export(work, out, run_dir=None):
    run_dir = run_dir or work
    model, cfg, state = load_trained(run_dir)
    os.makedirs(out, exist_ok=True)
    config = hf_config(cfg)
    write_json(os.path.join(out, "config.json"), config)
    tensors = [(name, t.detach().float().numpy()) for name, t in model.state_dict().items()]
    write_safetensors_bf16(os.path.join(out, "model.safetensors"), tensors)
    shutil.copyfile(os.path.join(work, "tokenizer", "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    with open(os.path.join(work, "tokenizer", "tokenizer_config.json"), encoding="utf-8") as f:
        tokenizer_config = json.load(f)
    if tokenizer_config.get("model_max_length") == cfg["max_position_embeddings"]:
        shutil.copyfile(os.path.join(work, "tokenizer", "tokenizer_config.json"),
                        os.path.join(out, "tokenizer_config.json"))
    else:  # a context-extended model (train.py --seq-len): the tokenizer's limit follows the model's
        tokenizer_config["model_max_length"] = cfg["max_position_embeddings"]
        write_json(os.path.join(out, "tokenizer_config.json"), tokenizer_config)
    write_json(os.path.join(out, "generation_config.json"), generation_config(cfg))
    eval_path = os.path.join(run_dir, "eval.json")
    evaluation = None
    if os.path.exists(eval_path):
        with open(eval_path) as f:
            evaluation = json.load(f)
        if evaluation.get("step") != state["step"]:
            evaluation = None  # scored another checkpoint: leave the card without numbers
    with open(os.path.join(work, "corpus.json")) as f:
        corpus = json.load(f)
    tok = Tokenizer.load(os.path.join(work, "tokenizer", "tokenizer.json"))
    train_tokens = sum(len(tok.encode(doc)) for doc in corpus["train"])
    model_card.write(out, config, state, evaluation, corpus, count_parameters(cfg), train_tokens)
    size = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    if size > MAX_BYTES:
        raise SystemExit(f"export: {out} holds {size} bytes, over the {MAX_BYTES} limit")
    return size


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--run-dir", default=None, help="the training run to export (its final.pt, eval.json); "
                   "default: --work")
    args = p.parse_args()
    size = export(args.work, args.out, args.run_dir)
    print(f"export: {args.out} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
