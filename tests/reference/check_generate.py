#!/usr/bin/python3
"""`dsmoe run` end to end on a tiny random model with a real tokenizer.json:
- greedy generation (--temp 0) picks, step after step, the argmax of the NumPy reference's logits;
- the streamed text equals the batch decode of the generated ids (`dsmoe tokenize --decode`);
- the same seed gives the same text at temperature > 0;
- --stop ends the output right before the stop string;
- a prompt longer than --ctx is an error; generation that fills --ctx stops with a message.

Usage: /usr/bin/python3 tests/reference/check_generate.py --dsmoe build/dsmoe [--seed N]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_forward  # noqa: E402
import tiny_model  # noqa: E402
import tiny_tokenizer  # noqa: E402

results = {"passed": 0, "failed": 0}
PROMPT = "In the beginning the engine"


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f"\n     {detail}" if detail and not ok else ""))


def dsmoe(binary, *args, stdin=None):
    return subprocess.run([binary, *args], capture_output=True, timeout=300, input=stdin)


def make_model(directory, seed):
    return tiny_tokenizer.write_model(directory, seed, max_pos=64)[1]


def reference_greedy(model_dir, prompt_ids, n, eos):
    cfg, weights = tiny_model.load_model(model_dir)
    ids = list(prompt_ids)
    generated = []
    for _ in range(n):
        logits = reference_forward.forward(cfg, weights, np.array([ids]))["logits"][0, -1]
        token = int(np.argmax(logits))
        generated.append(token)
        if token == eos:
            break
        ids.append(token)
    return generated


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsmoe", required=True)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little") % 2**31
    print(f"seed {seed}  (reproduce: {sys.argv[0]} --dsmoe {args.dsmoe} --seed {seed})")
    binary = args.dsmoe
    with tempfile.TemporaryDirectory(prefix="dsmoe_generate_") as work:
        model = os.path.join(work, "model")
        eos = make_model(model, seed)
        ids_out = os.path.join(work, "ids.json")

        run = dsmoe(binary, "run", "-m", model, "-p", PROMPT, "--temp", "0", "-n", "12", "--cache-type", "f32",
                    "--ids-out", ids_out,
                    "--no-display-prompt")
        check("run --temp 0 exits 0", run.returncode == 0, run.stderr.decode(errors="replace"))
        if run.returncode != 0:
            return finish()
        record = json.load(open(ids_out))
        want = reference_greedy(model, record["prompt"], 12, eos)
        check("greedy tokens = argmax of the reference logits at every step", record["generated"] == want,
              f"ours {record['generated']}\n     reference {want}")
        check("prompt starts with BOS", record["prompt"][0] == eos - 1, str(record["prompt"]))
        check("the timing summary is printed", b"tokens per second" in run.stderr and b"dsmoe:     load time" in run.stderr, run.stderr.decode(errors="replace"))

        text_ids = [t for t in record["generated"] if t != eos]
        decoded = dsmoe(binary, "tokenize", "-m", model, "--decode", "--skip-special", stdin=json.dumps(text_ids).encode())
        streamed = run.stdout[:-1] if run.stdout.endswith(b"\n") else run.stdout
        check("streamed text = batch decode of the generated ids", decoded.returncode == 0 and decoded.stdout == streamed,
              f"streamed {streamed!r}\n     decoded {decoded.stdout!r} {decoded.stderr!r}")

        sampled = [dsmoe(binary, "run", "-m", model, "-p", PROMPT, "--temp", "0.9", "--seed", str(s), "-n", "16",
                         "--no-display-prompt").stdout for s in (7, 7, 8)]
        check("same seed, same text", sampled[0] == sampled[1], f"{sampled[0]!r} vs {sampled[1]!r}")

        if len(streamed) > 6:
            stop = streamed[3:6].decode("utf-8", errors="ignore")
            if stop:
                stopped = dsmoe(binary, "run", "-m", model, "-p", PROMPT, "--temp", "0", "-n", "12", "--stop", stop,
                                "--no-display-prompt")
                out = stopped.stdout.rstrip(b"\n").decode("utf-8", errors="replace")
                full = streamed.decode("utf-8", errors="replace")
                check("--stop ends the output right before the stop string", out == full[: full.find(stop)],
                      f"stop {stop!r}: {out!r} from {full!r}")

        too_long = dsmoe(binary, "run", "-m", model, "-p", PROMPT * 5, "--ctx", "8", "-n", "4")
        check("a prompt longer than --ctx is an error", too_long.returncode == 1 and b"context holds 8" in too_long.stderr,
              too_long.stderr.decode(errors="replace"))
        full_ctx = dsmoe(binary, "run", "-m", model, "-p", PROMPT, "--ctx", "14", "-n", "100", "--temp", "0",
                         "--ids-out", ids_out)
        generated = json.load(open(ids_out))["generated"] if full_ctx.returncode == 0 else []
        ended = eos in generated
        check("generation that fills --ctx stops with a message",
              full_ctx.returncode == 0 and (ended or b"context of 14 tokens is full" in full_ctx.stderr),
              full_ctx.stderr.decode(errors="replace"))
        # --ctx past max_pos: a random model's reply may re-tokenize into many more tokens (U+FFFD is 3 bytes).
        chat = dsmoe(binary, "chat", "-m", model, "--temp", "0", "-n", "4", "--ctx", "512", "--system", "Be brief.",
                     stdin=b"say something\nand again\n")
        err = chat.stderr.decode(errors="replace")
        check("chat answers two turns", chat.returncode == 0 and err.count("| stop:") == 2, err)
        # Turn two re-renders the whole conversation; only what follows the cached prefix is prefilled.
        check("chat keeps the KV cache across turns", " cached)" in err.split("| stop:")[1], err)
    return finish()


def finish():
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
