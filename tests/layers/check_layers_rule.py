#!/usr/bin/python3
"""cmake/check_layers.py holds on src/ as it is, and stops a kernel that includes the model (a copy of src/ with
one such include added), naming the file, the line and the rule."""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = os.path.join(ROOT, "cmake", "check_layers.py")


def run(src, stamp):
    return subprocess.run([sys.executable, CHECK, src, stamp], capture_output=True, text=True)


def main():
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        stamp = os.path.join(tmp, "stamp")
        ok = run(os.path.join(ROOT, "src"), stamp)
        print(("ok  " if ok.returncode == 0 else "FAIL") + " src/ as it is keeps to the data path", ok.stderr.strip())
        failed += ok.returncode != 0
        copy = os.path.join(tmp, "src")
        shutil.copytree(os.path.join(ROOT, "src"), copy)
        target = os.path.join(copy, "kernels", "isa.cpp")
        with open(target) as f:
            lines = f.read().count("\n")
        with open(target, "a") as f:
            f.write('#include "model/config.h"\n')
        bad = run(copy, os.path.join(tmp, "stamp2"))
        want = f"{target}:{lines + 1}: src/kernels/ may not include src/model/"
        good = bad.returncode == 1 and want in bad.stderr and not os.path.exists(os.path.join(tmp, "stamp2"))
        print(("ok  " if good else "FAIL") + " a kernel including the model is refused with the file and line",
              "" if good else f"(exit {bad.returncode}: {bad.stderr.strip()!r}, wanted {want!r})")
        failed += not good
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
