#!/usr/bin/env python3
"""src/quant against llama.cpp, driven through tests/quant/quant_probe.

  check_quant.py --probe build/tests/quant_probe --peer build/llama_cpp_peer --part PART [--seed S]

Parts (one ctest each):
  dequantize_gguf_py  dequantize_row of all 8 block formats, F16 and BF16 vs gguf-py's dequantize and
                      libggml-base's dequantize_row_*: bit for bit, on bytes from llama.cpp's quantizers and on
                      random bytes with finite f16 scales.
  quantize_gguf_py    quantize_row vs gguf-py's NumPy quantizers (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, BF16, F16): bytes.
  quantize_ggml       quantize_row vs libggml-base's quantize_row_*_ref (all 8 block formats): bytes.
  activation_ggml     quantize_activation_row vs quantize_row_q8_0_ref / q8_1_ref / q8_K_ref: bytes.
  vec_dot_ggml        vec_dot_row vs ggml_vec_dot_*_generic of libggml-cpu-x64.so: bit for bit; vs the SIMD
                      vec_dot of the best CPU variant for this machine and vs the float64 dot of the
                      dequantized rows: within the bounds printed (see tolerance_bound).
  matmul_ggml         matmul_wt vs llama.cpp's path (quantize_row_*_ref of each token, generic vec_dot): bit
                      for bit.
Inputs are drawn fresh each run (the seed is printed; --seed replays it): Gaussian rows and edge cases.
"""
import argparse
import ctypes
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
from llama_cpp_peer import import_gguf, peer_paths  # noqa: E402

QK_K = 256
BLOCK_TYPES = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"]
# Block elements, block bytes, and where the f16 scale fields sit (byte offsets) in each block.
LAYOUT = {
    "Q8_0": (32, 34, [0]), "Q4_0": (32, 18, [0]), "Q4_1": (32, 20, [0, 2]), "Q5_0": (32, 22, [0]),
    "Q5_1": (32, 24, [0, 2]), "Q4_K": (256, 144, [0, 2]), "Q5_K": (256, 176, [0, 2]), "Q6_K": (256, 210, [208]),
}
# ggml's vec_dot_type per weight format (ggml-cpu.c type_traits_cpu) and the activation layouts.
ACTIVATION = {"Q8_0": "q8_0", "Q4_0": "q8_0", "Q5_0": "q8_0", "Q4_1": "q8_1", "Q5_1": "q8_1",
              "Q4_K": "q8_K", "Q5_K": "q8_K", "Q6_K": "q8_K"}
ACTIVATION_BLOCK = {"q8_0": (32, 34), "q8_1": (32, 36), "q8_K": (256, 292)}
GGML_TYPE = {"F16": 1, "Q4_0": 2, "Q4_1": 3, "Q5_0": 6, "Q5_1": 7, "Q8_0": 8, "q8_0": 8, "q8_1": 9,
             "Q4_K": 12, "Q5_K": 13, "Q6_K": 14, "q8_K": 15, "BF16": 30}

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


# ---------------------------------------------------------------------------------------------------------------
# Inputs


def edge_rows(rng, n):
    """Rows of n float32 values (n a multiple of 256): Gaussian rows and the cases that stress the quantizers."""
    g = lambda scale=1.0: rng.standard_normal(n) * scale  # noqa: E731
    blocks = n // 32
    rows = [g(), g(), g(0.02)]
    r = g(); r[:32] = 0; r[QK_K - 64:QK_K] = 0; rows.append(r)  # all-zero blocks
    if n >= 512:
        r = g(); r[256:512] = 0; rows.append(r)  # an all-zero super-block
    rows.append(np.repeat(rng.standard_normal(blocks), 32))  # constant blocks, either sign
    r = np.repeat(np.abs(rng.standard_normal(blocks)), 32); r[::7] = 0; rows.append(r)
    r = g(); r[np.arange(blocks) * 32 + rng.integers(0, 32, blocks)] *= 60; rows.append(r)  # one outlier per block
    rows.append(g(1e-6)); rows.append(g(3e-4)); rows.append(g(2e3))  # tiny and huge (f16 scales stay finite)
    r = g()  # the element of largest magnitude is negative in every block
    for b in range(blocks):
        i = b * 32 + np.argmax(np.abs(r[b * 32:(b + 1) * 32]))
        r[i] = -1.5 * abs(r[i])
    rows.append(r)
    rows.append(np.abs(g())); rows.append(-np.abs(g()))  # one-signed rows (the K-quant minimum clamps to 0)
    rows.append(rng.uniform(-1, 1, n))
    rows.append(g() * np.repeat(10.0 ** rng.uniform(-3, 2, blocks), 32))  # scales varying per block
    # Q8_0 ties: a block whose max is 127 has scale 1, so half-integers sit exactly between two quants.
    r = rng.integers(-252, 253, n) * 0.5; r[::32] = 127.0; rows.append(r)
    r = rng.integers(-8, 8, n).astype(np.float64); r[::32] = -8.0; rows.append(r)  # exact Q4_0 grid
    return np.array(rows, dtype=np.float32)


# ---------------------------------------------------------------------------------------------------------------
# The probe and the peer


class Probe:
    def __init__(self, path):
        self.path = path
        self._dir = tempfile.TemporaryDirectory(prefix="quant_probe_")  # removed when the checker exits
        self.tmp = self._dir.name

    def run(self, op, type_name, n, *arrays, out_dtype, isa=None):
        paths = []
        for i, a in enumerate(arrays):
            p = os.path.join(self.tmp, f"in{i}.bin")
            np.ascontiguousarray(a).tofile(p)
            paths.append(p)
        out = os.path.join(self.tmp, "out.bin")
        env = dict(os.environ)
        if isa is not None:
            env["DSMOE_ISA"] = isa  # the row kernels of one instruction set (src/kernels/isa.h)
        r = subprocess.run([self.path, op, type_name, str(n), *paths, out], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            sys.exit(f"quant_probe {op} {type_name} failed: {r.stderr}")
        return np.fromfile(out, dtype=out_dtype)


class Ggml:
    """llama.cpp's libggml-base.so (reference quantizers, dequantizers) and CPU libraries through ctypes."""

    def __init__(self, lib_dir):
        self.base = ctypes.CDLL(os.path.join(lib_dir, "libggml-base.so"))
        self.cpu = ctypes.CDLL(os.path.join(lib_dir, "libggml-cpu-x64.so"))  # baseline x86-64: generic kernels
        self.cpu.ggml_cpu_init()  # fills the f16 tables the kernels use
        self.best_cpu, self.best_name = self._best_cpu_variant(lib_dir)

    @staticmethod
    def _best_cpu_variant(lib_dir):
        # What ggml's backend loader does: every variant scores the running CPU (0 = unsupported).
        best, best_score, name = None, 0, None
        for f in sorted(os.listdir(lib_dir)):
            if not f.startswith("libggml-cpu-") or not f.endswith(".so"):
                continue
            lib = ctypes.CDLL(os.path.join(lib_dir, f))
            lib.ggml_backend_score.restype = ctypes.c_int
            score = lib.ggml_backend_score()
            if score > best_score:
                best, best_score, name = lib, score, f
        best.ggml_cpu_init()
        return best, name

    def dequantize(self, type_name, data, n):
        out = np.zeros((data.shape[0], n), dtype=np.float32)
        fn = getattr(self.base, f"dequantize_row_{ggml_name(type_name)}")
        for r in range(data.shape[0]):
            row = np.ascontiguousarray(data[r])
            fn(row.ctypes.data_as(ctypes.c_void_p), out[r].ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(n))
        return out

    def vec_dot(self, lib, symbol, n, w, a):
        fn = getattr(lib, symbol)
        s = ctypes.c_float(0)
        w = np.ascontiguousarray(w)
        a = np.ascontiguousarray(a)
        fn(ctypes.c_int(n), ctypes.byref(s), ctypes.c_size_t(0), w.ctypes.data_as(ctypes.c_void_p),
           ctypes.c_size_t(0), a.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(0), ctypes.c_int(1))
        return s.value

    def vec_dot_generic(self, type_name, n, w, a):
        return self.vec_dot(self.cpu, f"ggml_vec_dot_{ggml_name(type_name)}_{ACTIVATION[type_name]}_generic", n, w, a)

    def vec_dot_simd(self, type_name, n, w, a):
        return self.vec_dot(self.best_cpu, f"ggml_vec_dot_{ggml_name(type_name)}_{ACTIVATION[type_name]}", n, w, a)


def ggml_name(type_name):
    return type_name.lower() if not type_name.endswith("_K") else type_name[:-1].lower() + "K"


def quantize_ref(ggml, type_name, x):
    kind = ggml_name(type_name) if type_name in LAYOUT else type_name
    elems, block_bytes = LAYOUT[type_name][:2] if type_name in LAYOUT else ACTIVATION_BLOCK[type_name]
    rows, n = x.shape
    out = np.zeros((rows, n // elems * block_bytes), dtype=np.uint8)
    fn = getattr(ggml.base, f"quantize_row_{kind}_ref")
    for r in range(rows):
        xr = np.ascontiguousarray(x[r], dtype=np.float32)
        fn(xr.ctypes.data_as(ctypes.c_void_p), out[r].ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(n))
    return out


def random_blocks(rng, type_name, rows, n):
    """Random bytes in every quant bit, with finite random f16 values in the scale fields."""
    elems, block_bytes, scale_offsets = LAYOUT[type_name]
    blocks = rng.integers(0, 256, (rows, n // elems, block_bytes), dtype=np.uint8)
    for off in scale_offsets:
        scale = (rng.standard_normal((rows, n // elems)) * 10.0 ** rng.uniform(-6, 2, (rows, n // elems)))
        blocks[:, :, off:off + 2] = scale.astype(np.float16).view(np.uint8).reshape(rows, n // elems, 2)
    return blocks.reshape(rows, -1)


def dequantize_activation(kind, data, n):
    """Q8_0 / Q8_1 / Q8_K activation rows to float64 (d * q), written from their layouts."""
    elems, block_bytes = ACTIVATION_BLOCK[kind]
    blocks = data.reshape(data.shape[0], n // elems, block_bytes)
    if kind == "q8_K":
        d = blocks[:, :, 0:4].copy().view(np.float32).astype(np.float64)
        qs = blocks[:, :, 4:260].view(np.int8).astype(np.float64)
    else:
        d = blocks[:, :, 0:2].copy().view(np.float16).astype(np.float64)
        start = 2 if kind == "q8_0" else 4
        qs = blocks[:, :, start:start + 32].view(np.int8).astype(np.float64)
    return (d * qs).reshape(data.shape[0], n)


def bits_equal(a, b):
    a = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    b = np.ascontiguousarray(b, dtype=np.float32).view(np.uint32)
    return a.shape == b.shape and np.array_equal(a, b)


def first_difference(a, b):
    a = np.ascontiguousarray(a).reshape(-1).view(np.uint8)
    b = np.ascontiguousarray(b).reshape(-1).view(np.uint8)
    if a.shape != b.shape:
        return f"sizes {a.size} vs {b.size}"
    diff = np.nonzero(a != b)[0]
    return f"{diff.size} bytes differ, first at byte {diff[0]}" if diff.size else "equal"


# ---------------------------------------------------------------------------------------------------------------
# Parts


def part_dequantize_gguf_py(ctx):
    gguf, probe, ggml, rng, n = ctx
    x = edge_rows(rng, n)
    for t in BLOCK_TYPES:
        qtype = gguf.GGMLQuantizationType[t]
        for source, data in (("llama.cpp-quantized", quantize_ref(ggml, t, x)),
                             ("random bytes", random_blocks(rng, t, 8, n))):
            ours = probe.run("dequantize", t, n, data, out_dtype=np.float32).reshape(data.shape[0], n)
            theirs = gguf.quants.dequantize(data, qtype)
            check(bits_equal(ours, theirs), f"dequantize {t} ({source}, {data.shape[0]} rows x {n}) == gguf-py")
            check(bits_equal(ours, ggml.dequantize(t, data, n)),
                  f"dequantize {t} ({source}) == libggml-base dequantize_row_{ggml_name(t)}")
    for t, make in (("F16", lambda v: v.astype(np.float16).view(np.uint8)),
                    ("BF16", lambda v: rng.integers(0, 2**16, v.shape, dtype=np.uint16).view(np.uint8))):
        data = make(x).reshape(x.shape[0], -1)
        if t == "BF16":  # random bit patterns minus NaNs (their payloads are not compared)
            bits = data.view(np.uint16)
            bits[(bits & 0x7F80) == 0x7F80] &= 0xBFFF
        ours = probe.run("dequantize", t, n, data, out_dtype=np.float32).reshape(x.shape[0], n)
        theirs = gguf.quants.dequantize(data, gguf.GGMLQuantizationType[t])
        check(bits_equal(ours, theirs), f"dequantize {t} == gguf-py")


def part_quantize_gguf_py(ctx):
    gguf, probe, _, rng, n = ctx
    x = edge_rows(rng, n)
    for t in ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "BF16", "F16"]:
        ours = probe.run("quantize", t, n, x, out_dtype=np.uint8).reshape(x.shape[0], -1)
        theirs = gguf.quants.quantize(x, gguf.GGMLQuantizationType[t]).view(np.uint8).reshape(x.shape[0], -1)
        ok = ours.shape == theirs.shape and np.array_equal(ours, theirs)
        check(ok, f"quantize {t} ({x.shape[0]} rows x {n}) == gguf-py ({first_difference(ours, theirs)})")


def part_quantize_ggml(ctx):
    _, probe, ggml, rng, n = ctx
    x = edge_rows(rng, n)
    for t in BLOCK_TYPES:
        ours = probe.run("quantize", t, n, x, out_dtype=np.uint8).reshape(x.shape[0], -1)
        theirs = quantize_ref(ggml, t, x)
        ok = ours.shape == theirs.shape and np.array_equal(ours, theirs)
        check(ok, f"quantize {t} ({x.shape[0]} rows x {n}) == quantize_row_{ggml_name(t)}_ref "
                  f"({first_difference(ours, theirs)})")


def part_activation_ggml(ctx):
    _, probe, ggml, rng, n = ctx
    x = edge_rows(rng, n)
    for weight, kind in (("Q4_0", "q8_0"), ("Q4_1", "q8_1"), ("Q4_K", "q8_K")):
        ours = probe.run("activation", weight, n, x, out_dtype=np.uint8).reshape(x.shape[0], -1)
        theirs = quantize_ref(ggml, kind, x)
        ok = ours.shape == theirs.shape and np.array_equal(ours, theirs)
        check(ok, f"activation for {weight} == quantize_row_{kind}_ref ({first_difference(ours, theirs)})")


def block_offsets(type_name, weight_bytes, n):
    """Per element, the offset a block adds to its scaled values: Q4_1/Q5_1 store w = d*q + m (f16 m after the
    f16 d, blocks of 32); Q4_K/Q5_K store w = d*sc*q - dmin*m (6-bit sc and m packed in the 12 bytes after the
    f16 d and dmin, 8 sub-blocks of 32 in a block of 256)."""
    rows = weight_bytes.shape[0]
    elems, block_bytes = LAYOUT[type_name][0], LAYOUT[type_name][1]
    blocks = weight_bytes.reshape(rows, n // elems, block_bytes)
    f16_at_2 = blocks[:, :, 2:4].copy().view(np.float16).astype(np.float64)[:, :, 0]
    if type_name in ("Q4_1", "Q5_1"):
        return np.repeat(f16_at_2, 32, axis=1)
    packed = blocks[:, :, 4:16].astype(np.int64)
    mins = np.empty((rows, n // 256, 8), np.float64)
    for j in range(8):
        mins[:, :, j] = packed[:, :, j + 4] & 63 if j < 4 else (packed[:, :, j + 4] >> 4) | ((packed[:, :, j] >> 6) << 4)
    return -np.repeat(f16_at_2[:, :, None] * mins, 32, axis=2).reshape(rows, n)


def tolerance_bound(type_name, w, a, weight_bytes, act_bytes, n):
    """Bound on |float32 vec_dot - float64 dot of the dequantized rows|, per row.

    vec_dot sums integers exactly and rounds only when scaling and accumulating in float32: at most
    (blocks + 8) roundings of relative 2^-24 touch any block's term, so (blocks + 8) * 2^-24 * sum|w_i a_i|
    covers it, doubled for the dequantized weights' own float32 rounding. Q4_1 and Q5_1 pair with Q8_1, whose
    s = f16(d * sum(q)) is made from the float32 d while the dequantized activations use f16(d): the offset
    term m * s then differs from m * f16(d) * sum(q) by up to |m| (|s| + |f16(d) sum(q)|) 2^-11 (half an f16
    ulp each, relative) plus |m| (1 + |sum(q)|) 2^-25 where the f16 values are subnormal."""
    elems = LAYOUT[type_name][0]
    magnitude = np.abs(w.astype(np.float64) * a).sum(axis=1)
    if type_name in ("Q4_1", "Q5_1", "Q4_K", "Q5_K"):
        # These sum the scaled part (d*q*a) and the offset part (m*a) apart and add them at the end, so the
        # roundings scale with both parts' magnitudes, which can far exceed |w*a| when they cancel.
        offset = block_offsets(type_name, weight_bytes.reshape(a.shape[0], -1), n)
        magnitude = (np.abs((w - offset) * a) + np.abs(offset * a)).sum(axis=1)
    bound = 2.0 * (n // elems + 8) * 2.0 ** -24 * magnitude
    if type_name in ("Q4_1", "Q5_1"):
        block_bytes = LAYOUT[type_name][1]
        raw = act_bytes.reshape(a.shape[0], n // 32, 36)
        f16 = lambda b, at: np.abs(b[:, :, at:at + 2].copy().view(np.float16).astype(np.float64)[:, :, 0])  # noqa
        d, s = f16(raw, 0), f16(raw, 2)
        q_sum = np.abs(raw[:, :, 4:36].view(np.int8).astype(np.float64).sum(axis=2))
        m = f16(weight_bytes.reshape(a.shape[0], n // 32, block_bytes), 2)
        bound += (m * ((s + d * q_sum) * 2.0 ** -11 + (1 + q_sum) * 2.0 ** -25)).sum(axis=1)
    return bound + 1e-30


def part_vec_dot_ggml(ctx):
    gguf, probe, ggml, rng, n = ctx
    print(f"SIMD kernels from {ggml.best_name}")
    x = edge_rows(rng, n)
    acts = np.concatenate([edge_rows(rng, n), rng.standard_normal((4, n)).astype(np.float32)])[:x.shape[0]]
    acts = acts[rng.permutation(acts.shape[0])]
    for t in BLOCK_TYPES:
        for source, w in (("quantized rows", probe.run("quantize", t, n, x, out_dtype=np.uint8)),
                          ("random bytes", random_blocks(rng, t, x.shape[0], n))):
            w = w.reshape(x.shape[0], -1)
            a = probe.run("activation", t, n, acts, out_dtype=np.uint8).reshape(x.shape[0], -1)
            ours = probe.run("vec_dot", t, n, w, a, out_dtype=np.float32)
            generic = np.array([ggml.vec_dot_generic(t, n, w[r], a[r]) for r in range(w.shape[0])], np.float32)
            check(bits_equal(ours, generic), f"vec_dot {t} ({source}) == ggml generic vec_dot (bit for bit)")
            simd = np.array([ggml.vec_dot_simd(t, n, w[r], a[r]) for r in range(w.shape[0])], np.float32)
            wf = gguf.quants.dequantize(w, gguf.GGMLQuantizationType[t]).astype(np.float64)
            af = dequantize_activation(ACTIVATION[t], a, n)
            exact = (wf * af).sum(axis=1)
            bound = tolerance_bound(t, wf, af, w, a, n)
            err = np.abs(ours.astype(np.float64) - exact)
            simd_err = np.abs(ours.astype(np.float64) - simd.astype(np.float64))
            scale = np.abs(exact).max() + 1e-30
            check(bool(np.all(err <= bound)),
                  f"vec_dot {t} ({source}) vs float64 dot: max err/bound {np.max(err / bound):.3f}, "
                  f"max |err| / max |dot| {err.max() / scale:.2e}")
            # The SIMD kernels sum in another order (and fuse multiply-adds): the same bound holds for them too,
            # so the two can differ by twice it.
            check(bool(np.all(simd_err <= 2 * bound)),
                  f"vec_dot {t} ({source}) vs SIMD vec_dot: max diff/(2 bound) {np.max(simd_err / (2 * bound)):.3f}, "
                  f"bit-equal rows {int(np.sum(ours == simd))}/{len(ours)}")


def part_matmul_ggml(ctx):
    _, probe, ggml, rng, n = ctx
    out_rows = 40
    w_rows = np.concatenate([edge_rows(rng, n), rng.standard_normal((out_rows, n)).astype(np.float32)])[:out_rows]
    x = np.concatenate([rng.standard_normal((3, n)), edge_rows(rng, n)[:4]]).astype(np.float32)
    for t in BLOCK_TYPES:
        w = quantize_ref(ggml, t, w_rows)
        # The scalar kernels sum in ggml's generic order: bit-equal. The SIMD ones (the default on this CPU) sum
        # in their own order: equal to float rounding (1e-5 of the largest output).
        ours = probe.run("matmul", t, n, w, x, out_dtype=np.float32, isa="scalar").reshape(x.shape[0], out_rows)
        fast = probe.run("matmul", t, n, w, x, out_dtype=np.float32).reshape(x.shape[0], out_rows)
        acts = quantize_ref(ggml, ACTIVATION[t], x)
        theirs = np.array([[ggml.vec_dot_generic(t, n, w[o], acts[tok]) for o in range(out_rows)]
                           for tok in range(x.shape[0])], dtype=np.float32)
        check(bits_equal(ours, theirs), f"matmul_wt {t} ({x.shape[0]} tokens x {n} -> {out_rows}), scalar kernels == "
                                        f"quantize_row_{ACTIVATION[t]}_ref + ggml generic vec_dot per output")
        scale = float(np.max(np.abs(theirs)))
        fast_err = float(np.max(np.abs(fast.astype(np.float64) - theirs))) / scale
        check(fast_err <= 1e-5, f"matmul_wt {t}, default (SIMD) kernels within 1e-5 of ggml generic: {fast_err:.2e}")


PARTS = {"dequantize_gguf_py": part_dequantize_gguf_py, "quantize_gguf_py": part_quantize_gguf_py,
         "quantize_ggml": part_quantize_ggml, "activation_ggml": part_activation_ggml,
         "vec_dot_ggml": part_vec_dot_ggml, "matmul_ggml": part_matmul_ggml}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probe", required=True)
    parser.add_argument("--peer", required=True, help="the folder llama_cpp_peer.py installed into")
    parser.add_argument("--part", required=True, choices=sorted(PARTS))
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    print(f"seed {seed} (replay with --seed {seed})")
    rng = np.random.default_rng(seed)
    gguf = import_gguf(args.peer)
    import gguf.quants  # noqa: F401,E402
    lib_dir = peer_paths(args.peer)["lib"]
    if not os.path.isdir(lib_dir):
        sys.exit(f"{lib_dir}: missing; run `llama_cpp_peer.py install --dir {args.peer}` (the ctest fixture does)")
    ggml = Ggml(lib_dir)
    n = QK_K * int(rng.integers(2, 5))  # 512, 768 or 1024 values a row
    print(f"rows of {n} values")
    PARTS[args.part]((gguf, Probe(args.probe), ggml, rng, n))
    if failures:
        sys.exit(f"{len(failures)} comparison(s) failed (seed {seed})")
    print("all comparisons passed")


if __name__ == "__main__":
    main()
