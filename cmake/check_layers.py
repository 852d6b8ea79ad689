#!/usr/bin/env python3
"""The data path as a rule the build enforces: each folder of src/ may include only the folders it builds on.

file formats -> weights -> model -> runtime -> interfaces: a kernel does not know the model, the model does not
know a file format (formats hand it weights through model/weight_source.h), and nothing below the runtime knows
the runtime. The public headers (include/dsmoe/) are open to every folder. CMakeLists.txt runs this before
compiling the library; an include against the map fails the build, naming the file, the line and the rule.

  check_layers.py SRC_DIR STAMP_FILE
"""
import os
import re
import sys

# Folder -> the src/ folders it may include (besides itself).
ALLOWED = {
    "core": set(),
    "quant": {"core"},
    "kernels": {"core", "quant"},
    "ops": {"core", "kernels", "quant"},
    "io": {"core"},
    "rope": {"core"},
    "jinja": {"core"},
    "tokenizer": {"core"},
    "model": {"core", "io", "ops", "quant"},
    "loaders": {"core", "io", "model", "quant"},
    "runtime": {"core", "io", "model", "loaders", "tokenizer", "jinja"},
    "capi": {"core", "model", "runtime"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')


def main():
    src, stamp = sys.argv[1], sys.argv[2]
    errors = []
    for folder in sorted(os.listdir(src)):
        path = os.path.join(src, folder)
        if not os.path.isdir(path):
            continue
        if folder not in ALLOWED:
            errors.append(f"{path}: a folder of src/ that cmake/check_layers.py does not place on the data path")
            continue
        for name in sorted(os.listdir(path)):
            if not name.endswith((".h", ".cpp", ".inl")):
                continue
            file = os.path.join(path, name)
            with open(file, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    match = INCLUDE.match(line)
                    if not match:
                        continue
                    target = match.group(1)
                    if target in ("dsmoe", folder) or target in ALLOWED[folder]:
                        continue
                    if target not in ALLOWED:
                        continue  # not a folder of src/ (a system header spelled with quotes)
                    errors.append(f"{file}:{number}: src/{folder}/ may not include src/{target}/ (the data path: "
                                  f"{folder} builds on {', '.join(sorted(ALLOWED[folder])) or 'nothing'})")
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    with open(stamp, "w") as f:
        f.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
