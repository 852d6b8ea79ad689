#!/usr/bin/python3
"""`dsmoe run` flags as llama.cpp and transformers users type them (issue 15), on the shipped model:
the last of a repeated flag wins, -c and --ctx-size agree, --help shows defaults, --version, -e escapes,
--ignore-eos, --log-disable, generation_config.json as HF's generate() reads it (do_sample false is greedy;
flags override it), presence/frequency penalties accepted and range-checked, a warning past the trained
context without RoPE scaling.

Usage: /usr/bin/python3 tests/tools/check_run_flags.py --dsmoe build/dsmoe
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = os.path.join(ROOT, "models", "dsmoe-kjv-9m")
results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f"\n     {detail}" if detail and not ok else ""))


def dsmoe(binary, *args, stdin=None):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=300, input=stdin)


def ids(binary, work, *args):
    """Prompt and generated ids of one run (--ids-out), and the run."""
    out = os.path.join(work, "ids.json")
    if os.path.exists(out):
        os.remove(out)
    run = dsmoe(binary, "run", "-t", "1", "--ids-out", out, "--no-display-prompt", *args)
    record = json.load(open(out)) if run.returncode == 0 and os.path.exists(out) else {"prompt": [], "generated": []}
    return record, run


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsmoe", required=True)
    binary = parser.parse_args().dsmoe
    with tempfile.TemporaryDirectory(prefix="dsmoe_flags_") as work:
        record, run = ids(binary, work, "-p", "And God said", "--temp", "0", "-n", "2", "-n", "5")
        check("a repeated -n: the last wins", run.returncode == 0 and len(record["generated"]) == 5,
              run.stderr[-300:] + str(record))
        a, _ = ids(binary, work, "-p", "And God said", "--temp", "0", "-n", "4", "-c", "64")
        b, _ = ids(binary, work, "-p", "And God said", "--temp", "0", "-n", "4", "--ctx-size", "64")
        check("-c and --ctx-size are one flag", a == b and len(a["generated"]) == 4, f"{a} vs {b}")

        # bench's default model is the 16B config built into the binary: it runs from any directory.
        bench = subprocess.run([os.path.abspath(binary), "bench", "--layers", "1", "-p", "1", "-n", "1", "-r", "1"],
                               capture_output=True, text=True, timeout=300, cwd=work)
        check("bench without -m or --config runs the built-in 16B config from any directory",
              bench.returncode == 0 and "deepseek-moe-16b-base (1/28 layers)" in bench.stdout, bench.stderr[-300:])
        # Every command that needs a model defaults to the shipped one.
        messages = os.path.join(work, "messages.json")
        with open(messages, "w") as f:
            json.dump([{"role": "user", "content": "Hello"}], f)
        for command in (["tokenize", "-p", "In the beginning"], ["template", "--messages", messages],
                        ["logits", "--ids", "1,2,3", "--out", os.path.join(work, "logits")], ["inspect"],
                        ["run", "-p", "In", "-n", "1"]):
            run = subprocess.run([os.path.abspath(binary), *command], capture_output=True, text=True, timeout=300,
                                 cwd=work, env={**os.environ, "DSMOE_MODEL": ""})
            check(f"{command[0]} without -m uses the shipped model", run.returncode == 0, run.stderr[-300:])
        help_text = dsmoe(binary, "run", "--help").stdout
        check("--help shows defaults", "=0.8\n" in help_text and "=40\n" in help_text, help_text[:600])
        version = dsmoe(binary, "--version")
        check("--version", version.returncode == 0 and version.stdout.startswith("dsmoe 0.1.0"), version.stdout)

        escaped, run = ids(binary, work, "-e", "-p", "In the\\nbeginning\\x21", "--temp", "0", "-n", "1")
        plain, _ = ids(binary, work, "-p", "In the\nbeginning!", "--temp", "0", "-n", "1")
        check("-e reads \\n and \\xHH in the prompt", escaped["prompt"] == plain["prompt"] and escaped["prompt"],
              f"{escaped['prompt']} vs {plain['prompt']}")
        raw, _ = ids(binary, work, "-p", "In the\\nbeginning", "--temp", "0", "-n", "1")
        check("without -e a backslash is text", raw["prompt"] != plain["prompt"])

        eos = json.load(open(os.path.join(SHIPPED, "config.json")))["eos_token_id"]
        record, run = ids(binary, work, "-p", "And God said", "--ignore-eos", "-n", "40", "--seed", "3")
        check("--ignore-eos: exactly -n tokens, none of them the end token",
              len(record["generated"]) == 40 and eos not in record["generated"], str(record["generated"]))

        quiet = dsmoe(binary, "run", "-p", "And God said", "-n", "3", "--log-disable")
        check("--log-disable: no seed, no speed on stderr",
              quiet.returncode == 0 and "tokens per second" not in quiet.stderr and "seed" not in quiet.stderr, quiet.stderr)

        # generation_config.json: the shipped one samples (do_sample, temperature 0.7); a copy that says
        # do_sample false is greedy, the same as --temp 0; a flag overrides the file.
        verbose = dsmoe(binary, "run", "-p", "And God said", "-n", "2", "-v")
        check("-v reports sampling from generation_config.json",
              "do_sample from generation_config.json" in verbose.stderr and "temperature 0.7" in verbose.stderr,
              verbose.stderr[-600:])
        greedy_model = os.path.join(work, "greedy_model")
        shutil.copytree(SHIPPED, greedy_model, ignore=shutil.ignore_patterns("model.safetensors", "*.svg", "*.md"))
        os.symlink(os.path.join(SHIPPED, "model.safetensors"), os.path.join(greedy_model, "model.safetensors"))
        config = json.load(open(os.path.join(greedy_model, "generation_config.json")))
        config.update(do_sample=False, max_new_tokens=7)
        json.dump(config, open(os.path.join(greedy_model, "generation_config.json"), "w"))
        from_file, _ = ids(binary, work, "-m", greedy_model, "-p", "And God said", "--seed", "11")
        greedy, _ = ids(binary, work, "-p", "And God said", "--temp", "0", "--repeat-penalty", "1.1",
                        "--repeat-last-n", "-1", "--top-k", "50", "--top-p", "1", "--min-p", "0", "-n", "7")
        check("do_sample false in generation_config.json: greedy, max_new_tokens from the file",
              from_file["generated"] == greedy["generated"] and len(from_file["generated"]) == 7,
              f"{from_file['generated']} vs {greedy['generated']}")
        override, _ = ids(binary, work, "-m", greedy_model, "-p", "And God said", "-n", "3")
        check("a flag overrides generation_config.json (-n 3)", len(override["generated"]) == 3, str(override))

        for flag in ("--presence-penalty", "--frequency-penalty"):
            record, run = ids(binary, work, "-p", "And God said", flag, "1.5", "-n", "5", "--seed", "1")
            check(f"{flag} 1.5 runs", run.returncode == 0 and len(record["generated"]) == 5, run.stderr[-300:])
            bad = dsmoe(binary, "run", "-p", "x", flag, "3")
            check(f"{flag} 3 is refused", bad.returncode == 1 and f"{flag}: must be a finite number in [-2, 2]"
                  in bad.stderr, bad.stderr)

        long_ctx = dsmoe(binary, "run", "-p", "And God said", "-n", "1", "-c", "1024")
        check("a context past the trained one without scaling warns",
              "warning: a context of 1024 tokens is past the 256" in long_ctx.stderr, long_ctx.stderr[-400:])
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
