"""Checks our Python BPE encoder against HuggingFace's tokenizers (npm) on the validation books.

Writes the Python ids of every validation book, some passkey documents and a few edge cases to a JSON
file and runs check_tokenizer.js, which encodes the same texts with HF's library from the exported
tokenizer.json (standard ByteLevel pre-tokenizer, the real \\p{L} regex) and compares.

CLI: python3 check_tokenizer.py --tokenizer work/tokenizer --corpus work/corpus.json
"""
import argparse
import json
import os
import random
import subprocess
import sys

import corpus as corpus_mod
from tokenizer import Tokenizer

EDGE_CASES = [
    "", " ", "  ", "\n\n", "a  b", "end. \n\nAnd", "LORD's house, I'll go; they're here", "x'sy 's",
    "The pass key is 48213. Remember it.", "  leading spaces and trailing   ", "tab\tand\r\nnewline\n \n",
    "What? (yea, verily!) -- 1 22 333 4444 55555 666666", "User: hello\n\nAssistant:",
]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tokenizer", required=True, help="directory with tokenizer.json")
    p.add_argument("--corpus", required=True)
    p.add_argument("--cases", default=None, help="where to write the cases (default: beside the tokenizer)")
    args = p.parse_args()
    tok = Tokenizer.load(os.path.join(args.tokenizer, "tokenizer.json"))
    with open(args.corpus) as f:
        corpus = json.load(f)
    rng = random.Random(7)
    texts = list(corpus["validation"]) + EDGE_CASES
    for _ in range(20):
        segments = corpus_mod.passkey_document(rng, lambda s: len(tok.encode(s)), 250)
        texts.append("".join(s for s, _ in segments))
    cases = [{"text": t, "ids": tok.encode(t), "with_special": [tok.bos_id] + tok.encode(t)} for t in texts]
    path = args.cases or os.path.join(args.tokenizer, "check_cases.json")
    with open(path, "w") as f:
        json.dump(cases, f)
    here = os.path.dirname(os.path.abspath(__file__))
    result = subprocess.run(["node", os.path.join(here, "check_tokenizer.js"),
                             os.path.join(args.tokenizer, "tokenizer.json"), path])
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
