#!/usr/bin/env python3
"""dsmoe's GGUF reader and writer (src/io/gguf_*) against llama.cpp's gguf-py.

  check_gguf.py --probe build/tests/gguf_probe --peer build/llama_cpp_peer --part read|write|hostile [--seed N]

read:    gguf-py's GGUFWriter writes random files (every value type, unicode, arrays of strings, arrays of
         arrays, a random general.alignment, tensors of every type dsmoe reads, random bytes); `gguf_probe dump`
         must list exactly what was written, and exactly what gguf-py's GGUFReader reads back (its raw field
         parts decoded here). The same files with the version field set to 2 must read the same.
write:   `gguf_probe write` writes random specs (empty arrays and nested empty arrays included, which gguf-py
         cannot write); GGUFReader must read back the same keys, types, values, tensor names, types, shapes and
         bytes, at offsets aligned as declared.
hostile: files built byte by byte here (an encoder independent of both) and damaged: truncated at every byte
         of the header and at random points of the data, huge counts and lengths, bad alignment, overlapping
         or misaligned tensors, unknown types, duplicates, version 1, big-endian. Each must exit 1 (a refusal,
         not a crash) with a message naming the file and containing the expected fragment.
A fresh seed is drawn each run and printed; --seed replays it.
"""
import argparse
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
from llama_cpp_peer import import_gguf  # noqa: E402

SCALAR_FORMATS = {"UINT8": "<B", "INT8": "<b", "UINT16": "<H", "INT16": "<h", "UINT32": "<I", "INT32": "<i",
                  "FLOAT32": "<f", "BOOL": "<?", "UINT64": "<Q", "INT64": "<q", "FLOAT64": "<d"}
TYPE_IDS = {"UINT8": 0, "INT8": 1, "UINT16": 2, "INT16": 3, "UINT32": 4, "INT32": 5, "FLOAT32": 6, "BOOL": 7,
            "STRING": 8, "ARRAY": 9, "UINT64": 10, "INT64": 11, "FLOAT64": 12}
TYPE_NAMES = {v: k for k, v in TYPE_IDS.items()}
INT_RANGES = {"UINT8": (0, 2**8 - 1), "INT8": (-2**7, 2**7 - 1), "UINT16": (0, 2**16 - 1),
              "INT16": (-2**15, 2**15 - 1), "UINT32": (0, 2**32 - 1), "INT32": (-2**31, 2**31 - 1),
              "UINT64": (0, 2**64 - 1), "INT64": (-2**63, 2**63 - 1)}
# name: (ggml type id, elements per block, bytes per block), as ggml.h defines them.
TENSOR_TYPES = {"F32": (0, 1, 4), "F16": (1, 1, 2), "BF16": (30, 1, 2), "Q8_0": (8, 32, 34), "Q4_0": (2, 32, 18),
                "Q4_1": (3, 32, 20), "Q5_0": (6, 32, 22), "Q5_1": (7, 32, 24), "Q4_K": (12, 256, 144),
                "Q5_K": (13, 256, 176), "Q6_K": (14, 256, 210)}
UNICODE_POOL = "abcXYZ019 _.-éüßøñ中文字符日本語한국어Ωπ∑€😀🦙\u0301\t\n\"\\/"


# ---------------------------------------------------------------------------------------------- random values
def random_text(rng, max_len=12):
    return "".join(rng.choice(UNICODE_POOL) for _ in range(rng.randint(0, max_len)))


def random_scalar(rng, type_name):
    if type_name in INT_RANGES:
        lo, hi = INT_RANGES[type_name]
        return rng.choice([lo, hi, 0, rng.randint(lo, hi)])
    if type_name == "BOOL":
        return rng.random() < 0.5
    if type_name == "STRING":
        return random_text(rng)
    special = rng.random() < 0.1
    if type_name == "FLOAT32":
        return rng.choice(["inf", "-inf"]) if special else float(np.float32(rng.uniform(-1e6, 1e6)))
    return rng.choice(["inf", "-inf", "nan"]) if special else rng.uniform(-1e300, 1e300)


def random_array(rng, element_types, depth, allow_empty):
    element_type = rng.choice(element_types)
    low = 0 if allow_empty else 1
    if element_type == "ARRAY" and depth < 3:
        items = [random_array(rng, element_types, depth + 1, allow_empty) for _ in range(rng.randint(low, 3))]
    else:
        if element_type == "ARRAY":
            element_type = "INT32"
        items = [random_scalar(rng, element_type) for _ in range(rng.randint(low, 6))]
    return {"element_type": element_type, "value": items}


def random_metadata(rng, scalar_types, array_types, allow_empty):
    entries = []
    for type_name in scalar_types:
        entries.append({"type": type_name, "value": random_scalar(rng, type_name)})
    for _ in range(rng.randint(4, 9)):
        entries.append(dict(type="ARRAY", **random_array(rng, array_types, 1, allow_empty)))
    rng.shuffle(entries)
    keys = set()
    for index, entry in enumerate(entries):
        key = f"k{index}.{random_text(rng, 6)}".replace("\x00", "")
        while key in keys:
            key += "x"
        keys.add(key)
        entry["key"] = key
    return entries


def random_tensors(rng, types):
    tensors = []
    for index in range(rng.randint(1, 7)):
        name = rng.choice(["blk.{}.ffn_down.weight", "token_embd.{}", "tensör.{}"]).format(index)
        type_name = rng.choice(types)
        _, block, block_bytes = TENSOR_TYPES[type_name]
        n_dims = rng.randint(1, 4)
        shape = [rng.randint(1, 3) for _ in range(n_dims - 1)] + [block * rng.randint(1, 4)]
        rows = int(np.prod(shape[:-1])) if n_dims > 1 else 1
        data = rng.randbytes(rows * shape[-1] // block * block_bytes)
        tensors.append({"name": name, "type": type_name, "shape": shape, "hex": data.hex()})
    return tensors


# ------------------------------------------------------------------------------------------ reading gguf-py
def decode_parts(parts, index, type_name):
    """One value from a GGUFReader field's raw parts (numpy arrays in file order): (value, next index)."""
    if type_name == "STRING":
        return bytes(parts[index + 1]).decode("utf-8"), index + 2
    if type_name == "ARRAY":
        element_type = TYPE_NAMES[int(parts[index][0])]
        count = int(parts[index + 1][0])
        index += 2
        items = []
        for _ in range(count):
            item, index = decode_parts(parts, index, element_type)
            items.append(item)
        return {"element_type": element_type, "value": items}, index
    return parts[index][0].item(), index + 1


def normalize(value, type_name):
    """A value as the probe's JSON writes it: floats that JSON cannot hold as strings, arrays as dicts."""
    if type_name == "ARRAY":
        return {"element_type": value["element_type"],
                "value": [normalize(item, value["element_type"]) for item in value["value"]]}
    if type_name in ("FLOAT32", "FLOAT64") and not isinstance(value, str):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return float(value)
    if type_name == "BOOL":
        return bool(value)
    return value


def entry_of(entry):
    value = {k: entry[k] for k in ("element_type", "value") if k in entry} if entry["type"] == "ARRAY" \
        else entry["value"]
    return entry["key"], entry["type"], normalize(value, entry["type"])


def peer_read(gguf, path):
    reader = gguf.GGUFReader(path)
    entries = []
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        type_name = TYPE_NAMES[int(field.types[0])]
        value, end = decode_parts(field.parts, 3, type_name)
        if end != len(field.parts):
            raise AssertionError(f"{key}: decoded {end} of {len(field.parts)} parts")
        entries.append((key, type_name, normalize(value, type_name)))
    tensors = []
    for tensor in reader.tensors:
        tensors.append({"name": tensor.name, "ggml_type": int(tensor.tensor_type),
                        "ne": [int(d) for d in tensor.field.parts[3]], "absolute_offset": int(tensor.data_offset),
                        "bytes": tensor.data.tobytes()})
    return int(reader.fields["GGUF.version"].parts[0][0]), int(reader.alignment), entries, tensors


# ------------------------------------------------------------------------------------------------ the probe
def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def probe(args, *command, expect_ok=True):
    out = subprocess.run([args.probe, *command], capture_output=True, text=True)
    if expect_ok and out.returncode != 0:
        raise AssertionError(f"gguf_probe {' '.join(command)} exited {out.returncode}:\n{out.stderr}")
    return out


def dump(args, path, no_mmap=False):
    out = probe(args, "dump", *(["--no-mmap"] if no_mmap else []), path)
    return json.loads(out.stdout)


def our_entries(dumped):
    return [entry_of(e) for e in dumped["metadata"]]


def compare(label, ours, theirs):
    if ours != theirs:
        raise AssertionError(f"{label} differ:\n  dsmoe:  {str(ours)[:1500]}\n  gguf-py: {str(theirs)[:1500]}")


def compare_with_peer(gguf, dumped, path, expected_entries, expected_tensors):
    version, alignment, entries, tensors = peer_read(gguf, path)
    compare("version", dumped["version"], version)
    compare("alignment", dumped["alignment"], alignment)
    compare("metadata (dsmoe vs gguf-py)", our_entries(dumped), entries)
    compare("metadata (dsmoe vs written)", our_entries(dumped), expected_entries)
    compare("tensor count", len(dumped["tensors"]), len(tensors))
    for ours, theirs, spec in zip(dumped["tensors"], tensors, expected_tensors):
        data = bytes.fromhex(spec["hex"])
        compare("tensor name", ours["name"], theirs["name"])
        compare(f"{ours['name']} type", (ours["ggml_type"], ours["type_name"]),
                (theirs["ggml_type"], spec["type"]))
        compare(f"{ours['name']} ne", ours["ne"], theirs["ne"])
        compare(f"{ours['name']} shape", ours["shape"], spec["shape"])
        compare(f"{ours['name']} offset", dumped["data_offset"] + ours["offset"], theirs["absolute_offset"])
        compare(f"{ours['name']} bytes (gguf-py)", theirs["bytes"], data)
        compare(f"{ours['name']} nbytes", ours["nbytes"], len(data))
        compare(f"{ours['name']} checksum", ours["fnv1a64"], fnv1a64(data))
        if ours["offset"] % alignment:
            raise AssertionError(f"{ours['name']}: offset {ours['offset']} not aligned to {alignment}")


# ------------------------------------------------------------------------------------------------ the parts
def write_with_gguf_py(gguf, path, metadata, tensors, alignment):
    writer = gguf.GGUFWriter(path, arch=None)
    for entry in metadata:
        vtype = gguf.GGUFValueType(TYPE_IDS[entry["type"]])
        if entry["key"] == "general.alignment":
            writer.add_custom_alignment(entry["value"])  # also pads the data as declared
        elif entry["type"] == "ARRAY":
            value = [unwrap(item, entry["element_type"]) for item in entry["value"]]
            writer.add_key_value(entry["key"], value, vtype, gguf.GGUFValueType(TYPE_IDS[entry["element_type"]]))
        else:
            writer.add_key_value(entry["key"], unwrap(entry["value"], entry["type"]), vtype)
    for tensor in tensors:
        _, block, block_bytes = TENSOR_TYPES[tensor["type"]]
        byte_shape = tensor["shape"][:-1] + [tensor["shape"][-1] // block * block_bytes]
        data = np.frombuffer(bytes.fromhex(tensor["hex"]), dtype=np.uint8).reshape(byte_shape)
        writer.add_tensor(tensor["name"], data, raw_dtype=gguf.GGMLQuantizationType(TENSOR_TYPES[tensor["type"]][0]))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    if alignment is not None:
        assert writer.data_alignment == alignment


def unwrap(value, type_name):
    """A value as gguf-py's writer takes it: floats as Python floats, arrays of arrays as nested lists."""
    if isinstance(value, dict):
        return [unwrap(item, value["element_type"]) for item in value["value"]]
    if type_name in ("FLOAT32", "FLOAT64") and isinstance(value, str):
        return float(value)
    return value


def part_read(args, gguf, rng, tmp):
    # gguf-py infers the element type of inner arrays from Python values: INT32, FLOAT32, STRING, BOOL, ARRAY.
    nested_inner = ["INT32", "FLOAT32", "STRING", "BOOL", "ARRAY"]
    for case in range(12):
        metadata = random_metadata(rng, list(SCALAR_FORMATS) + ["STRING"], list(SCALAR_FORMATS) + ["STRING"], False)
        for _ in range(2):
            nested = random_array(rng, nested_inner, 2, False)
            metadata.append(dict(key=f"nested.{len(metadata)}.{random_text(rng, 4)}", type="ARRAY",
                                 element_type="ARRAY", value=[nested]))
        alignment = rng.choice([None, 1, 2, 8, 16, 64, 256])
        if alignment is not None:
            metadata.insert(rng.randint(0, len(metadata)), {"key": "general.alignment", "type": "UINT32",
                                                            "value": alignment})
        tensors = random_tensors(rng, list(TENSOR_TYPES))
        path = os.path.join(tmp, f"read{case}.gguf")
        write_with_gguf_py(gguf, path, metadata, tensors, alignment)
        expected = [entry_of(e) for e in metadata]
        dumped = dump(args, path)
        compare_with_peer(gguf, dumped, path, expected, tensors)
        compare("--no-mmap dump", dump(args, path, no_mmap=True), dumped)
        # Version 2 has the same layout (version 3 only added big-endian files).
        data = bytearray(open(path, "rb").read())
        data[4:8] = struct.pack("<I", 2)
        v2 = path + ".v2.gguf"
        open(v2, "wb").write(data)
        dumped2 = dump(args, v2)
        compare("version 2 file", dumped2["version"], 2)
        compare_with_peer(gguf, dumped2, v2, expected, tensors)
        print(f"read case {case}: {len(metadata)} keys, {len(tensors)} tensors, alignment {alignment}: ok")


def part_write(args, gguf, rng, tmp):
    for case in range(12):
        scalars = list(SCALAR_FORMATS) + ["STRING"]
        metadata = random_metadata(rng, scalars, scalars + ["ARRAY"], True)
        metadata.append({"key": "empty.array", "type": "ARRAY", "element_type": rng.choice(scalars), "value": []})
        metadata.append({"key": "empty.string", "type": "STRING", "value": ""})
        alignment = rng.choice([1, 4, 16, 32, 64, 512])
        tensors = random_tensors(rng, list(TENSOR_TYPES))
        spec = {"alignment": alignment, "metadata": metadata, "tensors": tensors}
        spec_path = os.path.join(tmp, f"write{case}.json")
        out_path = os.path.join(tmp, f"write{case}.gguf")
        json.dump(spec, open(spec_path, "w"))
        probe(args, "write", spec_path, out_path)
        if os.path.exists(out_path + ".partial"):
            raise AssertionError("the .partial file was left behind after finish()")
        expected = [entry_of(e) for e in metadata]
        if alignment != 32:  # the writer records a non-default alignment itself
            expected.append(("general.alignment", "UINT32", alignment))
        dumped = dump(args, out_path)
        compare_with_peer(gguf, dumped, out_path, expected, tensors)
        print(f"write case {case}: {len(metadata)} keys, {len(tensors)} tensors, alignment {alignment}: ok")


# ------------------------------------------------------------------------- an independent encoder (hostile)
def enc_string(text):
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def enc_value(type_name, value):
    if type_name == "STRING":
        return enc_string(value)
    if type_name == "ARRAY":
        element_type, items = value
        return struct.pack("<IQ", TYPE_IDS[element_type], len(items)) + b"".join(
            enc_value(element_type, item) for item in items)
    return struct.pack(SCALAR_FORMATS[type_name], value)


def enc_kv(key, type_name, value):
    return enc_string(key) + struct.pack("<I", TYPE_IDS[type_name]) + enc_value(type_name, value)


def enc_tensor_info(name, ne, ggml_type, offset):
    return enc_string(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<q", d) for d in ne) + \
        struct.pack("<IQ", ggml_type, offset)


def enc_file(kvs, infos, data, alignment=32, version=3, n_tensors=None, n_kv=None, magic=b"GGUF"):
    head = magic + struct.pack("<IQQ", version, len(infos) if n_tensors is None else n_tensors,
                               len(kvs) if n_kv is None else n_kv)
    body = head + b"".join(kvs) + b"".join(infos)
    body += b"\0" * (-len(body) % alignment)
    return body + data


def base_parts(rng):
    kvs = [enc_kv("general.architecture", "STRING", "deepseek2"), enc_kv("a.count", "UINT32", 7),
           enc_kv("tokenizer.tokens", "ARRAY", ("STRING", ["<s>", "a", "é"])),
           enc_kv("a.scores", "ARRAY", ("FLOAT32", [0.5, -1.0]))]
    q8 = rng.randbytes(2 * 34)
    f32 = rng.randbytes(8 * 4)
    infos = [enc_tensor_info("blk.0.attn_q.weight", [32, 2], 8, 0), enc_tensor_info("output_norm.weight", [8], 0, 96)]
    data = q8 + b"\0" * (96 - len(q8)) + f32
    return kvs, infos, data


def part_hostile(args, gguf, rng, tmp):
    del gguf
    kvs, infos, data = base_parts(rng)
    count = [0]

    def run(label, content, fragment, ok=False):
        path = os.path.join(tmp, f"hostile{count[0]}.gguf")
        count[0] += 1
        open(path, "wb").write(content)
        for no_mmap in (False, True):
            out = probe(args, "dump", *(["--no-mmap"] if no_mmap else []), path, expect_ok=False)
            if ok:
                if out.returncode != 0:
                    raise AssertionError(f"{label}: a valid file was refused:\n{out.stderr}")
                continue
            if out.returncode != 1:
                raise AssertionError(f"{label}: expected exit 1 (a refusal), got {out.returncode}:\n{out.stderr}")
            if path not in out.stderr or not any(f in out.stderr for f in fragment.split("|")):
                raise AssertionError(f"{label}: expected the file name and '{fragment}' in:\n{out.stderr}")

    good = enc_file(kvs, infos, data)
    run("the valid base file", good, "", ok=True)
    header_end = len(enc_file(kvs, infos, b""))
    cuts = list(range(0, header_end)) + sorted(rng.sample(range(header_end, len(good)), 20))
    for cut in cuts:
        run(f"truncated at byte {cut}", good[:cut],
            "truncated|not a GGUF file|remain in the file|cannot fit|outside")
    print(f"{len(cuts)} truncations refused")

    run("2^60 tensors", enc_file(kvs, infos, data, n_tensors=2**60), "tensor count 1152921504606846976")
    run("2^63 metadata entries", enc_file(kvs, infos, data, n_kv=2**63), "metadata count 9223372036854775808")
    huge_key = struct.pack("<Q", 10**12) + b"k"
    run("10^12-byte key", enc_file([huge_key] + kvs, infos, data), "claims 1000000000000 bytes")
    huge_string = enc_string("s.big") + struct.pack("<IQ", 8, 10**12) + b"abc"
    run("10^12-byte string", enc_file(kvs + [huge_string], infos, data), "claims 1000000000000 bytes")
    for element, name in ((0, "UINT8"), (8, "STRING"), (9, "ARRAY"), (11, "INT64")):
        huge_array = enc_string("a.big") + struct.pack("<IIQ", 9, element, 10**15)
        run(f"10^15-element {name} array", enc_file(kvs + [huge_array], infos, data),
            f"claims 1000000000000000 elements of {name}")
    nested = ("INT32", [1])
    for _ in range(7):
        nested = ("ARRAY", [nested])
    run("arrays 8 deep", enc_file(kvs + [enc_kv("deep", "ARRAY", nested)], infos, data), "", ok=True)
    run("arrays 9 deep", enc_file(kvs + [enc_kv("deep", "ARRAY", ("ARRAY", [nested]))], infos, data),
        "nests arrays more than 8 deep")
    run("unknown value type", enc_file(kvs + [enc_string("x") + struct.pack("<I", 13) + b"\0" * 8], infos, data),
        "unknown value type 13")

    for value in (0, 48, 3):
        run(f"alignment {value}", enc_file(kvs + [enc_kv("general.alignment", "UINT32", value)], infos, data),
            "is not a power of two")
    run("alignment as UINT64", enc_file(kvs + [enc_kv("general.alignment", "UINT64", 64)], infos, data),
        "general.alignment must be UINT32")
    aligned64 = enc_file(kvs + [enc_kv("general.alignment", "UINT32", 64)],
                         [enc_tensor_info("blk.0.attn_q.weight", [32, 2], 8, 0),
                          enc_tensor_info("output_norm.weight", [8], 0, 128)], data[:96] + b"\0" * 32 + data[96:],
                         alignment=64)
    run("alignment 64", aligned64, "", ok=True)

    def with_infos(new_infos, new_data=data):
        return enc_file(kvs, new_infos, new_data)

    q_info = infos[0]
    run("overlapping tensors", with_infos([q_info, enc_tensor_info("output_norm.weight", [8], 0, 32)]), "overlap")
    run("misaligned offset", with_infos([q_info, enc_tensor_info("output_norm.weight", [8], 0, 100)]),
        "is not a multiple of the alignment 32")
    run("offset outside the data", with_infos([q_info, enc_tensor_info("output_norm.weight", [8], 0, 2**62)]),
        "outside")
    run("tensor past the end", with_infos([q_info, enc_tensor_info("output_norm.weight", [16], 0, 96)]), "outside")
    for ggml_type, name in ((16, "IQ2_XXS"), (10, "Q2_K"), (11, "Q3_K"), (15, "Q8_K"), (26, "I32"), (99, "type 99"),
                            (2**31 + 5, f"type {2**31 + 5}")):
        run(f"tensor type {name}", with_infos([enc_tensor_info("blk.0.attn_q.weight", [32, 2], ggml_type, 0),
                                               infos[1]]),
            f"tensor 'blk.0.attn_q.weight' has type {name}, which dsmoe does not read; supported: F32, F16, BF16, "
            "Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K")
    run("row of 33 Q8_0 elements", with_infos([enc_tensor_info("blk.0.attn_q.weight", [33, 2], 8, 0), infos[1]]),
        "not whole Q8_0 blocks")
    run("n_dims 0", with_infos([enc_tensor_info("t", [], 0, 0)]), "n_dims is 0")
    run("n_dims 5", with_infos([enc_tensor_info("t", [1, 1, 1, 1, 1], 0, 0)]), "n_dims is 5")
    run("negative extent", with_infos([enc_tensor_info("t", [8, -1], 0, 0)]), "negative extent")
    run("element count overflow", with_infos([enc_tensor_info("t", [2**32, 2**32], 0, 0)]), "overflows")
    run("empty tensor (ne 0, accepted as llama.cpp does)", with_infos([enc_tensor_info("t", [8, 0], 0, 0)], b""),
        "", ok=True)
    run("duplicate tensor name", with_infos([q_info, enc_tensor_info("blk.0.attn_q.weight", [8], 0, 96)]),
        "duplicate tensor name 'blk.0.attn_q.weight'")
    run("empty tensor name", with_infos([enc_tensor_info("", [8], 0, 0)]), "empty name")
    run("duplicate key", enc_file(kvs + [enc_kv("a.count", "UINT32", 8)], infos, data),
        "duplicate metadata key 'a.count'")
    run("empty key", enc_file(kvs + [enc_kv("", "UINT32", 8)], infos, data), "empty key")

    run("bad magic", b"GGUG" + good[4:], "not a GGUF file")
    run("version 1", good[:4] + struct.pack("<I", 1) + good[8:], "version 1")
    run("version 4", good[:4] + struct.pack("<I", 4) + good[8:], "unsupported GGUF version 4")
    run("version 0", good[:4] + struct.pack("<I", 0) + good[8:], "unsupported GGUF version 0")
    run("big-endian", good[:4] + struct.pack(">I", 3) + good[8:], "big-endian")
    print(f"{count[0]} hostile files refused (or accepted where valid), each with and without mmap")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probe", required=True)
    parser.add_argument("--peer", required=True)
    parser.add_argument("--part", required=True, choices=["read", "write", "hostile"])
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    print(f"seed {seed} (replay with --seed {seed})")
    rng = random.Random(seed)
    gguf = import_gguf(args.peer)
    with tempfile.TemporaryDirectory(prefix="dsmoe_gguf_") as tmp:
        {"read": part_read, "write": part_write, "hostile": part_hostile}[args.part](args, gguf, rng, tmp)
    print("ok")


if __name__ == "__main__":
    main()
