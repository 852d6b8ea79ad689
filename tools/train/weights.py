"""Weights in and out: BF16 safetensors written and read by hand, and models loaded from the trainer's
checkpoints or from an exported HF directory.

safetensors: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}} padded
with spaces to a multiple of 8, then the tensors' bytes back to back. BF16 is the upper half of the
float32 bit pattern after round-to-nearest-even, which is what torch's .to(torch.bfloat16) does.
"""
import json
import os
import struct

import numpy as np
import torch

from model import DeepseekForCausalLM


def bf16_bits(x):
    """uint16 bit patterns of float32 array x rounded to BF16, nearest-even (NaN stays a quiet NaN)."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    out = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(x)
    out[nan] = ((bits[nan] >> 16) | 0x40).astype(np.uint16)
    return out


def bf16_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def round_to_bf16(state):
    """{name: tensor} with every floating tensor rounded to BF16 and kept as float32."""
    return {k: torch.from_numpy(bf16_to_f32(bf16_bits(v.float().numpy())).copy()) for k, v in state.items()}


def write_safetensors_bf16(path, tensors):
    """tensors: [(name, float32 numpy array)] in the order to store them. Returns the file size."""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    blobs = []
    for name, array in tensors:
        blob = bf16_bits(array).astype("<u2").tobytes()
        header[name] = {"dtype": "BF16", "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    return 8 + len(text) + offset


def read_safetensors(path):
    """{name: float32 numpy array} from a safetensors file holding BF16 or F32 tensors."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = memoryview(raw)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        if info["dtype"] == "BF16":
            array = bf16_to_f32(np.frombuffer(data[begin:end], dtype="<u2"))
        elif info["dtype"] == "F32":
            array = np.frombuffer(data[begin:end], dtype="<f4").astype(np.float32)
        else:
            raise ValueError(f"{path}: {name} has dtype {info['dtype']}, expected BF16 or F32")
        out[name] = array.reshape(info["shape"])
    return out


def load_trained(work, checkpoint=None):
    """(model in eval mode, config, checkpoint dict) from work/final.pt, or the given checkpoint file."""
    path = checkpoint or os.path.join(work, "final.pt")
    state = torch.load(path)
    model = DeepseekForCausalLM(state["config"])
    model.load_state_dict(state["model"])
    model.eval()
    return model, state["config"], state


def load_exported(model_dir):
    """(model in eval mode, config.json dict) from an exported directory: BF16 weights computed in float32."""
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    tensors = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    model = DeepseekForCausalLM(cfg)
    expected = set(model.state_dict())
    if set(tensors) != expected:
        raise ValueError(f"{model_dir}: tensors differ from the model's: missing {sorted(expected - set(tensors))}, "
                         f"unexpected {sorted(set(tensors) - expected)}")
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items()})
    model.eval()
    return model, cfg
