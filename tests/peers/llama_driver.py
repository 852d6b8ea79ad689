#!/usr/bin/python3
"""llama.cpp itself, as a command-line peer: a small C driver (llama_driver.c) of the prebuilt CPU libraries that
`llama_cpp_peer.py install --dir PEER` puts in PEER/lib (no llama.cpp programs ship, only libraries).

  llama_driver.py --peer PEER tokenize GGUF [--no-special] [--parse-special]
      Loads the vocabulary only. stdin: one JSON string per line; stdout: one JSON array of token ids per line
      (blank input lines are skipped; an empty string "" gives [] or [BOS]).
      By default BOS/EOS are added as the file asks (llama_tokenize add_special=true) and special tokens in the
      text are NOT parsed (parse_special=false); --no-special and --parse-special flip the two.
  llama_driver.py --peer PEER detokenize GGUF [--remove-special] [--no-unparse-special]
      stdin: one JSON array of ids per line; stdout: one JSON string per line (llama_detokenize; by default special
      tokens are kept and rendered).
  llama_driver.py --peer PEER logits GGUF --tokens 1,2,3 --out FILE [--threads N] [--ctx N] [--llama-defaults]
      One batch (one ubatch) of all tokens at positions 0..n-1 in sequence 0, logits at every position, flash
      attention off, F32 K/V cache. Writes float32 [n_tokens, n_vocab] to FILE: a .npy when FILE ends in .npy, else
      raw little-endian. stdout: {"n_vocab": V, "n_tokens": T, "n_ctx": C (llama.cpp pads it up to a multiple of
      256), "threads": N, "exact": bool, "out": FILE}. --llama-defaults keeps llama.cpp's own context defaults
      (flash attention auto, F16 K/V cache; "exact": false): about 1e-3 relative off an exact reference.
  llama_driver.py --peer PEER generate GGUF --tokens 1,2,3 -n N [--threads N] [--ctx N] [--ignore-eos]
                  [--llama-defaults]
      Greedy decoding: the prompt in one batch, then one token at a time, next = the first index of the largest
      logit (as numpy.argmax). Stops after N tokens, or after an end-of-generation token (which is included)
      unless --ignore-eos. stdout: {"tokens": [...generated ids only...], "stopped_at_eog": bool}.
  llama_driver.py --peer PEER quantize IN.gguf OUT.gguf FTYPE [--threads N]
      llama-quantize itself: llama_model_quantize with its default parameters (no importance matrix) to the
      llama_ftype number FTYPE (15 = Q4_K_M, 7 = Q8_0, ...). stdout: {"out": OUT, "ftype": FTYPE}.
  llama_driver.py --peer PEER info GGUF [--vocab-only]
      Loads the model (tensors mapped, not read) and prints {"n_vocab", "n_ctx_train", "n_embd", "n_layer",
      "vocab_type" (llama_vocab_type: 2 = BPE), "bos", "eos", "add_bos", "add_eos", "weights_loaded", "n_params",
      "size_bytes", "desc" (llama_model_desc), "devices", "system_info", "meta": {key: value string}} (meta: every
      GGUF key/value llama.cpp holds, llama_model_meta_*; array values come as llama.cpp summarises them).
      With --vocab-only nothing but the vocabulary loads: n_ctx_train, n_embd, n_layer are then 0 and desc is ""
      (llama.cpp v0.5.0 reads no hyperparameters for vocab_only), and n_params/size_bytes are absent.

Strings on stdin/stdout are UTF-8 JSON; a byte that is not valid UTF-8 travels as a lone surrogate \\udc80..\\udcff
(Python: json.loads(line).encode("utf-8", "surrogateescape") gives the bytes). --threads defaults to 2, --ctx to
the positions needed. Every error prints "llama_driver: ..." on stderr and exits 1; llama.cpp's own warnings and
errors also go to stderr (all of its log with `--verbose` before the subcommand). Weights are memory-mapped
(load_mode MMAP; v0.5.0 has no use_mmap field) unless `--no-mmap` before the subcommand. Results do not depend on
--threads (bitwise equal for 1 and 2 threads on the self-check files).

The driver is built once with Debian's gcc (`cc`) into PEER/driver/ and rebuilt when llama_driver.c, llama.h or
this file is newer than it. It runs with LD_LIBRARY_PATH=PEER/lib (the libraries are versioned: libllama.v0.5.0.so,
whose soname is the same, so the binary links them by full path and carries PEER/lib as its rpath too) and with
an empty working directory, PEER/driver/cwd, so that no other ggml library is picked up.

Importable: build_driver(peer_dir) -> path, run_driver(peer_dir, args, input=None) -> subprocess.CompletedProcess
(text mode, output captured, never raises on a non-zero exit). Run with Debian's /usr/bin/python3.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "llama_driver.c")


def _lib_dir(peer_dir):
    return os.path.join(os.path.abspath(peer_dir), "lib")


def _libraries(lib_dir):
    """The three libraries the driver links: libllama, libggml and libggml-base (versioned names allowed)."""
    found = []
    for stem in ("libllama", "libggml", "libggml-base"):
        names = sorted(p for p in glob.glob(os.path.join(lib_dir, stem + "*.so*"))
                       if os.path.basename(p) in (stem + ".so",) or os.path.basename(p).startswith(stem + ".v")
                       or os.path.basename(p).startswith(stem + ".so."))
        if not names:
            raise RuntimeError(f"{lib_dir}: no {stem}.so or {stem}.v*.so (is the llama.cpp peer installed?)")
        found.append(names[0])
    return found


def build_driver(peer_dir):
    """Builds PEER/driver/llama_driver once (again when its source, llama.h or this script is newer); returns it."""
    peer_dir = os.path.abspath(peer_dir)
    lib_dir = _lib_dir(peer_dir)
    include = os.path.join(peer_dir, "include")
    header = os.path.join(include, "llama.h")
    if not os.path.exists(header):
        raise RuntimeError(f"{header}: missing; run `llama_cpp_peer.py install --dir {peer_dir}`")
    libs = _libraries(lib_dir)
    out_dir = os.path.join(peer_dir, "driver")
    binary = os.path.join(out_dir, "llama_driver")
    inputs = [SOURCE, header, os.path.abspath(__file__)] + libs
    if os.path.exists(binary) and os.path.getmtime(binary) >= max(os.path.getmtime(p) for p in inputs):
        return binary
    os.makedirs(out_dir, exist_ok=True)
    # Build beside the target and rename, so that tests building at the same time never see half a binary.
    fd, tmp = tempfile.mkstemp(prefix=".llama_driver.", dir=out_dir)
    os.close(fd)
    cmd = ["cc", "-std=c11", "-O2", "-g", "-Wall", "-Wextra", "-I", include, SOURCE, "-o", tmp] + libs + \
          [f"-Wl,-rpath,{lib_dir}", "-ldl", "-lm"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        os.unlink(tmp)
        raise RuntimeError("building the llama.cpp driver failed:\n" + " ".join(cmd) + "\n" + result.stderr)
    if result.stderr.strip():
        sys.stderr.write(result.stderr)
    os.chmod(tmp, 0o755)
    os.replace(tmp, binary)
    return binary


def run_driver(peer_dir, args, input=None, timeout=None):
    """Runs the driver with args (the subcommand and its arguments); returns the CompletedProcess (text mode)."""
    peer_dir = os.path.abspath(peer_dir)
    binary = build_driver(peer_dir)
    lib_dir = _lib_dir(peer_dir)
    cwd = os.path.join(peer_dir, "driver", "cwd")
    os.makedirs(cwd, exist_ok=True)
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = lib_dir + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    env.pop("GGML_BACKEND_PATH", None)  # would load one more backend from anywhere
    # Relative paths in args are the caller's: make them absolute, since the driver runs elsewhere.
    fixed = []
    for a in args:
        a = str(a)
        if not a.startswith("-") and os.path.exists(a):
            a = os.path.abspath(a)
        fixed.append(a)
    args = _absolute_out(fixed)
    return subprocess.run([binary, "--lib-dir", lib_dir] + args, input=input, capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def _absolute_out(args):
    out = list(args)
    for i, a in enumerate(out[:-1]):
        if a == "--out":
            out[i + 1] = os.path.abspath(out[i + 1])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     usage="llama_driver.py --peer PEER [--verbose] [--no-mmap] "
                                           "{tokenize,detokenize,logits,generate,info,quantize,build} ...")
    parser.add_argument("--peer", required=True, help="the folder llama_cpp_peer.py installed into")
    parser.add_argument("--verbose", action="store_true", help="print all of llama.cpp's log on stderr")
    parser.add_argument("--no-mmap", action="store_true", help="read the weights into memory instead of mapping")
    parser.add_argument("command", choices=["tokenize", "detokenize", "logits", "generate", "info", "quantize", "bench", "build"])
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    try:
        if args.command == "build":
            print(build_driver(args.peer))
            return 0
        pre = (["--verbose"] if args.verbose else []) + (["--no-mmap"] if args.no_mmap else [])
        # stdin passes through unchanged (as bytes, via text mode with surrogateescape kept intact by JSON).
        data = None if sys.stdin.isatty() or args.command not in ("tokenize", "detokenize") else sys.stdin.read()
        result = run_driver(args.peer, pre + [args.command] + args.rest, input=data)
    except RuntimeError as e:
        print(f"llama_driver.py: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
