#!/usr/bin/python3
"""The hostile-input suite (issue 14): files, templates and arguments as an attacker would hand them to `dsmoe`,
generated here, each with the exact outcome expected: exit code 1 (never a crash, a hang or an internal error),
within a time limit, and a message on stderr naming the file, key, tensor or flag and what was wrong.

    check_hostile.py --dsmoe build/dsmoe [--class NAME] [--list]

Classes: nesting, hangs, sizes, silent, flags, gguf. Every case runs in a fresh temporary folder.
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = os.path.join(ROOT, "models", "dsmoe-kjv-9m")
TIME_LIMIT = 60  # seconds a case may take, sanitizers included; every refusal here takes well under one


# ---------------------------------------------------------------- file builders

def nested(depth, inner="1"):
    return "[" * depth + inner + "]" * depth


def safetensors(header, data=b""):
    text = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return struct.pack("<Q", len(text)) + text + data


def model_folder(work, config_edits=None, weights=None, tokenizer=None, config_text=None):
    """A copy of the shipped model's small files with edits; the weights linked, not copied."""
    folder = os.path.join(work, "model")
    os.makedirs(folder)
    for name in ("tokenizer_config.json", "generation_config.json"):
        shutil.copy(os.path.join(SHIPPED, name), folder)
    config = json.load(open(os.path.join(SHIPPED, "config.json")))
    config.update(config_edits or {})
    write(os.path.join(folder, "config.json"), config_text if config_text is not None else json.dumps(config))
    if weights is None:
        os.symlink(os.path.join(SHIPPED, "model.safetensors"), os.path.join(folder, "model.safetensors"))
    else:
        write(os.path.join(folder, "model.safetensors"), weights)
    if tokenizer is None:
        shutil.copy(os.path.join(SHIPPED, "tokenizer.json"), folder)
    else:
        write(os.path.join(folder, "tokenizer.json"), tokenizer)
    return folder


def write(path, data):
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return path


def fifo(work, name):
    path = os.path.join(work, name)
    os.mkfifo(path)
    return path


def shipped_tokenizer():
    return json.load(open(os.path.join(SHIPPED, "tokenizer.json"), encoding="utf-8"))


# GGUF, as llama.cpp's gguf.h lays it out: magic, version, tensor count, metadata count, metadata, tensor infos,
# padding to the alignment (32), data.
GGUF_UINT32, GGUF_STRING, GGUF_ARRAY = 4, 8, 9


def gguf_string(text):
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def gguf(metadata=(), tensors=(), data=b"", truncate=None):
    """metadata: (key, type, encoded value); tensors: (name, dims, ggml type, offset)."""
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata))
    for key, kind, value in metadata:
        out += gguf_string(key) + struct.pack("<I", kind) + value
    for name, dims, ggml_type, offset in tensors:
        out += gguf_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ggml_type, offset)
    out += b"\0" * (-len(out) % 32) + data
    return out[:truncate] if truncate else out


def gguf_nested_array(depth):
    value = struct.pack("<IQ", GGUF_UINT32, 1) + struct.pack("<I", 7)
    for _ in range(depth - 1):
        value = struct.pack("<IQ", GGUF_ARRAY, 1) + value
    return value


# ---------------------------------------------------------------- the cases

class Case:
    def __init__(self, klass, name, make, needles, stdin=b""):
        self.klass, self.name, self.make, self.needles, self.stdin = klass, name, make, needles, stdin


def cases():
    out = []

    def case(klass, name, needles, stdin=b""):
        def register(make):
            out.append(Case(klass, name, make, needles, stdin))
            return make
        return register

    # --- nesting deep enough to overflow a recursive parser or renderer
    @case("nesting", "config.json nested 100,000 levels", ["config.json", "nested deeper than 128"])
    def _(w):
        folder = model_folder(w, config_text='{"a": ' + nested(100000) + "}")
        return ["run", "-m", folder, "-p", "hi", "-n", "1"]

    @case("nesting", "tokenizer.json nested 100,000 levels", ["tokenizer.json", "nested deeper than 128"])
    def _(w):
        return ["tokenize", "--tokenizer", write(os.path.join(w, "tokenizer.json"), nested(100000, "{}")), "-p", "x"]

    @case("nesting", "safetensors header nested 100,000 levels", ["model.safetensors", "nested deeper than 128"])
    def _(w):
        folder = model_folder(w, weights=safetensors(('{"x": ' + nested(100000) + "}").encode()))
        return ["run", "-m", folder, "-p", "hi", "-n", "1"]

    @case("nesting", "messages nested 100,000 levels", ["messages.json", "nested deeper than 128"])
    def _(w):
        return ["template", "-m", SHIPPED, "--messages",
                write(os.path.join(w, "messages.json"), '[{"role": "user", "content": ' + nested(100000) + "}]")]

    @case("nesting", "chat template blocks nested 10,000 levels", ["blocks nested deeper than 100 levels"])
    def _(w):
        template = write(os.path.join(w, "t.jinja"), "{% if true %}" * 10000 + "x" + "{% endif %}" * 10000)
        return ["template", "--template", template, "--messages", messages_file(w)]

    @case("nesting", "chat template expression nested 100,000 levels", ["nested deeper than 100"])
    def _(w):
        template = write(os.path.join(w, "t.jinja"), "{{ " + "(" * 100000 + "1" + ")" * 100000 + " }}")
        return ["template", "--template", template, "--messages", messages_file(w)]

    @case("nesting", "token ids nested 100,000 levels", ["tokenize --decode", "nested deeper than 128"],
          stdin=nested(100000).encode())
    def _(w):
        return ["tokenize", "-m", SHIPPED, "--decode"]

    # --- what would hang: a FIFO opened for reading, templates that loop or compute for hours
    @case("hangs", "a FIFO as the prompt file", ["prompt.txt", "not a regular file"])
    def _(w):
        return ["run", "-p", "", "-f", fifo(w, "prompt.txt"), "-n", "1"]

    @case("hangs", "a FIFO as config.json", ["config.json", "not a regular file"])
    def _(w):
        folder = model_folder(w)
        os.remove(os.path.join(folder, "config.json"))
        os.mkfifo(os.path.join(folder, "config.json"))
        return ["run", "-m", folder, "-p", "hi", "-n", "1"]

    @case("hangs", "a FIFO as the messages file", ["messages.json", "not a regular file"])
    def _(w):
        return ["template", "-m", SHIPPED, "--messages", fifo(w, "messages.json")]

    @case("hangs", "a FIFO as the text to score", ["text.txt", "not a regular file"])
    def _(w):
        return ["perplexity", "-f", fifo(w, "text.txt")]

    # The step budget (a million) ends it; under the sanitizers on a loaded machine the 10 s clock may come first.
    @case("hangs", "a loop of 10^10 rounds in a template", ["rendering took more than"])
    def _(w):
        template = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
        return ["template", "--template", write(os.path.join(w, "t.jinja"), template), "--messages", messages_file(w)]

    @case("hangs", "3 ** 10**9 in a template", ["**"])
    def _(w):
        return ["template", "--template", write(os.path.join(w, "t.jinja"), "{{ 3 ** 1000000000 }}"),
                "--messages", messages_file(w)]

    @case("hangs", "a recursive macro", ["macro"])
    def _(w):
        template = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"
        return ["template", "--template", write(os.path.join(w, "t.jinja"), template), "--messages", messages_file(w)]

    # --- sizes: what would be allocated is checked first, against the limits and the memory
    @case("sizes", "a string of 10^12 bytes in a template", ["would build a string of", "more than the 67108864"])
    def _(w):
        return ["template", "--template", write(os.path.join(w, "t.jinja"), "{{ 'ab' * 500000000000 }}"),
                "--messages", messages_file(w)]

    @case("sizes", "a padding of 10^12 in a template", ["more than the 67108864"])
    def _(w):
        return ["template", "--template", write(os.path.join(w, "t.jinja"), "{{ 'x' | center(1000000000000) }}"),
                "--messages", messages_file(w)]

    @case("sizes", "a list of 10^9 items in a template", ["would build a list of", "more than the 4194304"])
    def _(w):
        return ["template", "--template", write(os.path.join(w, "t.jinja"), "{{ [0] * 1000000000 }}"),
                "--messages", messages_file(w)]

    @case("sizes", "a KV cache larger than the machine", ["KV cache", "MiB of memory available", "-c/--ctx"])
    def _(w):
        return ["run", "-c", "16777216", "-p", "hi", "-n", "1"]

    @case("sizes", "17 million token ids to decode", ["tokenize --decode", "17000000 ids", "16777216"],
          stdin=("[" + ",".join(["1"] * 17000000) + "]").encode())
    def _(w):
        return ["tokenize", "-m", SHIPPED, "--decode"]

    @case("sizes", "a vocabulary id of 2^30", ["vocab id 1073741824", "16777216"])
    def _(w):
        spec = shipped_tokenizer()
        spec["model"]["vocab"]["zz"] = 2 ** 30
        return ["tokenize", "--tokenizer", write(os.path.join(w, "tokenizer.json"), json.dumps(spec)), "-p", "x"]

    @case("sizes", "a safetensors header length past the file", ["model.safetensors", "does not fit in the file"])
    def _(w):
        folder = model_folder(w, weights=struct.pack("<Q", 2 ** 62) + b"{}")
        return ["run", "-m", folder, "-p", "hi", "-n", "1"]

    # --- silent acceptance: inputs that are wrong without looking dangerous
    @case("silent", "safetensors tensors that overlap", ["model.safetensors", "overlaps tensor"])
    def _(w):
        header = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                  "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}
        return ["run", "-m", model_folder(w, weights=safetensors(header, b"\0" * 12)), "-p", "hi", "-n", "1"]

    @case("silent", "a safetensors header naming a tensor twice", ["model.safetensors", "appears twice"])
    def _(w):
        text = b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, ' \
               b'"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'
        return ["run", "-m", model_folder(w, weights=safetensors(text, b"\0" * 4)), "-p", "hi", "-n", "1"]

    @case("silent", "safetensors data no tensor owns", ["model.safetensors", "belong to no tensor"])
    def _(w):
        header = {"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}
        return ["run", "-m", model_folder(w, weights=safetensors(header, b"\0" * 8)), "-p", "hi", "-n", "1"]

    @case("silent", "two tokens with one vocabulary id", ["vocab id 5 is given to both"])
    def _(w):
        spec = shipped_tokenizer()
        token = next(t for t, i in spec["model"]["vocab"].items() if i == 5)
        spec["model"]["vocab"][token + "zz"] = 5
        return ["tokenize", "--tokenizer", write(os.path.join(w, "tokenizer.json"), json.dumps(spec)), "-p", "x"]

    @case("silent", "bos_token_id outside the vocabulary", ["config.json", "bos_token_id", "found 99999"])
    def _(w):
        return ["run", "-m", model_folder(w, config_edits={"bos_token_id": 99999}), "-p", "hi", "-n", "1"]

    @case("silent", "a negative eos_token_id", ["config.json", "eos_token_id", "found -3"])
    def _(w):
        return ["run", "-m", model_folder(w, config_edits={"eos_token_id": -3}), "-p", "hi", "-n", "1"]

    @case("silent", "a number past double's range in config.json", ["config.json", "invalid JSON", "number overflow"])
    def _(w):
        folder = model_folder(w)
        text = open(os.path.join(folder, "config.json")).read().replace('"rope_theta": 10000', '"rope_theta": 1e999')
        write(os.path.join(folder, "config.json"), text)
        return ["run", "-m", folder, "-p", "hi", "-n", "1"]

    @case("silent", "a token id outside the vocabulary to decode", ["decode", "99999999", "not in the vocabulary"],
          stdin=b"[1, 2, 99999999]")
    def _(w):
        return ["tokenize", "-m", SHIPPED, "--decode"]

    # --- flags: every number range-checked, NaN and infinities refused, the flag named
    for flag, value, needle in [
            ("--temp", "nan", "--temp: must be a finite number"), ("--temp", "inf", "--temp: must be a finite number"),
            ("--temp", "-1", "--temp: must be a finite number in [0, inf)"),
            ("--top-p", "2", "--top-p: must be a finite number in [0, 1], found 2"),
            ("--top-p", "nan", "--top-p: must be a finite number in [0, 1], found nan"),
            ("--min-p", "1.5", "--min-p: must be a finite number in [0, 1], found 1.5"),
            ("--top-k", "-3", "--top-k: must be an integer in [0, ...], found -3"),
            ("--repeat-penalty", "0", "--repeat-penalty: must be a finite number in (0, inf), found 0"),
            ("--repeat-last-n", "-2", "--repeat-last-n: must be an integer in [-1, 16777216], found -2"),
            ("-n", "-5", "--n-predict: must be an integer in [-1, 16777216], found -5"),
            ("-c", "-5", "--ctx-size: must be an integer in [0, 16777216], found -5"),
            ("-c", "99999999999", "--ctx-size: must be an integer in [0, 16777216], found 99999999999"),
            ("-s", "-7", "--seed: must be an integer in [-1, ...], found -7"),
            ("-t", "-3", "--threads: must be 0 (all cores)"), ("-t", "10000", "--threads: must be 0 (all cores)"),
            ("--temp", "abc", "--temp: must be a number in [0, inf), found 'abc'"),
            ("--rope-scale", "nan", "--rope-scale"), ("--rope-freq-base", "-1", "--rope-freq-base")]:
        def make(w, flag=flag, value=value):
            return ["run", "-p", "hi", flag, value]
        out.append(Case("flags", f"run {flag} {value}", make, [needle]))
    for command, needle in [
            (["bench", "-t", "1,99"], "--threads: must be a thread count up to"),
            (["bench", "-r", "0"], "--repetitions: must be an integer in [1, 10000], found 0"),
            (["bench", "-p", "-1"], "--n-prompt: must be an integer in [0, 1048576], found -1"),
            (["passkey", "--depths", "0,1.5"], "--depths: must be a finite number in [0, 1], found 1.5"),
            (["passkey", "--trials", "0"], "--trials: must be an integer in [1, 1000000], found 0"),
            (["perplexity", "-f", "x", "-b", "0"], "--batch: must be an integer in [1, 4096], found 0"),
            (["inspect", "--config", "x", "--batch", "0"], "--batch: must be an integer in [1, 16777216], found 0"),
            (["run", "--no-such-flag"], "--no-such-flag"),
            (["run", "-cnv"], "-cnv (a llama.cpp flag): dsmoe chat is the conversation mode"),
            (["run", "-fa", "-p", "hi"], "-fa (a llama.cpp flag): attention always runs in tiles"),
            (["run", "-ngl", "99"], "-ngl (a llama.cpp flag): dsmoe runs on the CPU"),
            (["run", "-temp", "0.5"], "-temp: a single dash takes one letter (-c 4096); long flags take two (--temp)")]:
        out.append(Case("flags", " ".join(command), lambda w, command=command: command, [needle]))

    # --- GGUF files that lie about themselves
    @case("gguf", "arrays nested 100 deep", ["x.gguf", "nests arrays more than 8 deep"])
    def _(w):
        return ["inspect", "-m", write(os.path.join(w, "x.gguf"), gguf([("k", GGUF_ARRAY, gguf_nested_array(100))]))]

    @case("gguf", "an array claiming 2^60 elements", ["x.gguf", "claims 1152921504606846976 elements"])
    def _(w):
        value = struct.pack("<IQ", GGUF_UINT32, 2 ** 60)
        return ["inspect", "-m", write(os.path.join(w, "x.gguf"), gguf([("k", GGUF_ARRAY, value)]))]

    @case("gguf", "a metadata key twice", ["x.gguf", "duplicate metadata key 'k'"])
    def _(w):
        entry = ("k", GGUF_UINT32, struct.pack("<I", 1))
        return ["inspect", "-m", write(os.path.join(w, "x.gguf"), gguf([entry, entry]))]

    @case("gguf", "a tensor name twice", ["x.gguf", "duplicate tensor name 'a'"])
    def _(w):
        tensors = [("a", [8], 0, 0), ("a", [8], 0, 32)]
        return ["inspect", "-m", write(os.path.join(w, "x.gguf"), gguf(tensors=tensors, data=b"\0" * 64))]

    @case("gguf", "tensors whose bytes overlap", ["x.gguf", "overlap in the data section"])
    def _(w):
        tensors = [("a", [16], 0, 0), ("b", [16], 0, 32)]
        return ["inspect", "-m", write(os.path.join(w, "x.gguf"), gguf(tensors=tensors, data=b"\0" * 96))]

    @case("gguf", "a tensor past the end of the file", ["x.gguf", "'a'", "outside"])
    def _(w):
        return ["inspect", "-m", write(os.path.join(w, "x.gguf"), gguf(tensors=[("a", [1024], 0, 0)], data=b"\0" * 64))]

    @case("gguf", "a file cut inside its metadata", ["x.gguf", "metadata entry 0 key claims 20 bytes", "only 8 remain"])
    def _(w):
        data = gguf([("general.architecture", GGUF_STRING, gguf_string("deepseek"))], truncate=40)
        return ["inspect", "-m", write(os.path.join(w, "x.gguf"), data)]

    @case("gguf", "a tensor count of 2^63", ["x.gguf", "tensor count"])
    def _(w):
        data = b"GGUF" + struct.pack("<IQQ", 3, 2 ** 63, 0)
        return ["inspect", "-m", write(os.path.join(w, "x.gguf"), data)]

    return out


def messages_file(work):
    return write(os.path.join(work, "messages.json"), '[{"role": "user", "content": "hi"}]')


# ---------------------------------------------------------------- running them

def run_case(binary, case):
    with tempfile.TemporaryDirectory(prefix="dsmoe_hostile_") as work:
        args = case.make(work)
        start = time.time()
        try:
            done = subprocess.run([binary, *args], input=case.stdin, capture_output=True, timeout=TIME_LIMIT,
                                  cwd=work)
        except subprocess.TimeoutExpired:
            return f"no answer within {TIME_LIMIT} s (a hang): dsmoe {' '.join(args)[:200]}"
        seconds = time.time() - start
        stderr = done.stderr.decode(errors="replace")
        problems = []
        if done.returncode != 1:
            problems.append(f"exit code {done.returncode}, expected 1")
        if "internal error" in stderr or "AddressSanitizer" in stderr or "runtime error" in stderr:
            problems.append("a crash or an internal error")
        if not any(line.startswith("dsmoe: error: ") for line in stderr.splitlines()):
            problems.append("no line of stderr starts with 'dsmoe: error: '")
        missing = [n for n in case.needles if n not in stderr]
        if missing:
            problems.append(f"the message lacks {missing}")
        if problems:
            return "; ".join(problems) + f"\n     stderr: {stderr[-600:]!r} ({seconds:.1f} s)"
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsmoe", required=True)
    parser.add_argument("--class", dest="klass", help="only this class of cases")
    parser.add_argument("--list", action="store_true", help="print the classes and exit")
    args = parser.parse_args()
    all_cases = cases()
    if args.list:
        print("\n".join(sorted({c.klass for c in all_cases})))
        return 0
    selected = [c for c in all_cases if args.klass in (None, c.klass)]
    if not selected:
        sys.exit(f"no cases in class {args.klass!r}")
    failed = 0
    for case in selected:
        problem = run_case(os.path.abspath(args.dsmoe), case)
        print(f"{'ok  ' if problem is None else 'FAIL'} [{case.klass}] {case.name}" + (f"\n     {problem}" if problem else ""))
        failed += problem is not None
    print(f"{len(selected) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
