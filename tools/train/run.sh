#!/bin/bash
# The whole pipeline, idempotent: corpus -> tokenizer (+ HF check) -> train/resume -> evaluate -> export
# -> golden file. Extra arguments go to train.py (e.g. a smoke run: --steps 3 --hidden 64). Later training
# stages (train.py --init) are experiments so far: tools/train/README.md.
# Environment: WORK (default tools/train/work), EXPORT_DIR (default models/dsmoe-kjv-13m),
# GOLDEN_DIR (default tests/golden). The body is one function, so editing this file cannot disturb a run
# in progress (bash reads a script as it goes).
main() {
    set -euo pipefail
    local here root
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    root="$(cd "$here/../.." && pwd)"
    local work="${WORK:-$here/work}"
    local export_dir="${EXPORT_DIR:-$root/models/dsmoe-kjv-13m}"
    local golden_dir="${GOLDEN_DIR:-$root/tests/golden}"
    local py=/usr/bin/python3
    # Debian's torch calls libblas.so.3; the reference BLAS is ~10x slower than OpenBLAS (apt package
    # libopenblas0-pthread). Use OpenBLAS for this process only, whatever the system alternative says.
    local openblas=/usr/lib/x86_64-linux-gnu/openblas-pthread
    if [ -e "$openblas/libblas.so.3" ]; then
        export LD_LIBRARY_PATH="$openblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
    export OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2
    mkdir -p "$work"
    cd "$here"
    [ -f "$work/corpus.json" ] || "$py" corpus.py --out "$work/corpus.json"
    [ -f "$work/tokenizer/tokenizer.json" ] || "$py" tokenizer.py --corpus "$work/corpus.json" \
        --vocab-size 4096 --out "$work/tokenizer"
    if [ ! -f "$work/tokenizer/checked" ]; then
        "$py" check_tokenizer.py --tokenizer "$work/tokenizer" --corpus "$work/corpus.json"
        touch "$work/tokenizer/checked"
    fi
    "$py" train.py --work "$work" "$@"
    [ -f "$work/eval.json" ] || "$py" evaluate.py --work "$work"
    "$py" export.py --work "$work" --out "$export_dir"
    "$py" golden.py --model "$export_dir" --out "$golden_dir"
    "$py" check_golden.py --model "$export_dir" --golden "$golden_dir"
    echo "run.sh: done"
}
main "$@"
exit
