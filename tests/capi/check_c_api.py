#!/usr/bin/python3
"""The C API against the CLI: tests/capi/check_c_api.c checks round trips, errors, cancelling and cache reuse on
its own, and prints a greedy continuation, which must be byte for byte what `dsmoe run --temp 0` prints for the same
prompt (the CLI's generation is checked against the NumPy reference in tests/reference/check_generate.py).

Usage: /usr/bin/python3 tests/capi/check_c_api.py --check-c-api BIN --dsmoe BIN
"""
import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = os.path.join(ROOT, "models", "dsmoe-kjv-9m")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check-c-api", required=True)
    parser.add_argument("--dsmoe", required=True)
    args = parser.parse_args()
    failed = 0
    for prompt in ["In the beginning", "And the LORD said unto Moses"]:
        c_run = subprocess.run([args.check_c_api, SHIPPED, prompt], capture_output=True, text=True, timeout=300)
        print(c_run.stderr, end="")
        cli = subprocess.run([args.dsmoe, "run", "-m", SHIPPED, "-p", prompt, "--temp", "0", "--repeat-penalty", "1",
                              "-n", "16", "--no-display-prompt", "--log-disable", "-t", "1", "--cache-type", "f16"],
                             capture_output=True, text=True, timeout=300)
        same = c_run.returncode == 0 and cli.returncode == 0 and c_run.stdout == cli.stdout.removesuffix("\n")
        print(f"{'ok  ' if same else 'FAIL'} the C API's greedy text is the CLI's for {prompt!r}")
        if not same:
            print(f"     C API ({c_run.returncode}): {c_run.stdout!r}\n     CLI ({cli.returncode}): {cli.stdout!r}")
        failed += not same
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
