"""Cross-checks a golden file against dsmoe's independent NumPy oracle (tests/reference/reference_forward.py).

The golden logits come from tools/train/model.py (PyTorch); the oracle was written separately from the HF
math. Agreement to float32 rounding (max |diff| relative to the logits' scale, and the same argmax at every
position) means model.py, the exported BF16 weights and the oracle all describe the same function.

CLI: python3 check_golden.py --model ../../models/dsmoe-kjv-9m --golden ../../tests/golden
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "reference"))
import reference_forward  # noqa: E402
import tiny_model  # noqa: E402

TOLERANCE = 1e-4  # relative to max |logit|: float32 rounding through 6 layers, as the engine's tests allow


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--golden", required=True, help="directory holding <model name>.json")
    args = p.parse_args()
    name = os.path.basename(os.path.normpath(args.model))
    with open(os.path.join(args.golden, f"{name}.json")) as f:
        golden = json.load(f)
    cfg, weights = tiny_model.load_model(args.model)
    worst, ok = 0.0, True
    for i, prompt in enumerate(golden["prompts"]):
        want = np.load(os.path.join(args.golden, prompt["logits_file"]))
        result = reference_forward.forward(cfg, weights, np.array([prompt["ids"]]))
        got = result["logits"][0]
        rel = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
        same_argmax = bool(np.all(got.argmax(-1) == want.argmax(-1)))
        margin = reference_forward.min_routing_margin(result)
        print(f"prompt {i}: {len(prompt['ids'])} ids, max |diff| / max |logit| = {rel:.2e}, same argmax: "
              f"{same_argmax}, smallest routing margin {margin:.2e}")
        worst = max(worst, rel)
        ok = ok and same_argmax
    ok = ok and worst <= TOLERANCE
    print("golden agrees with the NumPy oracle" if ok else "golden DISAGREES with the NumPy oracle")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
