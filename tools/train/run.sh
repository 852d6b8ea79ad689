#!/bin/bash
# The whole pipeline, idempotent: corpus -> tokenizer (+ HF check) -> train/resume -> evaluate -> export
# -> golden file. Training has two stages (train.py's docstring, README.md): induction from scratch, then
# language from its weights. Extra arguments go to both stages' train.py (e.g. a smoke run: --steps 3
# --hidden 64); they come last, so they override the stage's own.
# Environment: WORK (default tools/train/work), EXPORT_DIR (default models/dsmoe-kjv-9m),
# GOLDEN_DIR (default tests/golden). The body is one function, so editing this file cannot disturb a run
# in progress (bash reads a script as it goes).
main() {
    set -euo pipefail
    local here root
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    root="$(cd "$here/../.." && pwd)"
    local work="${WORK:-$here/work}"
    local export_dir="${EXPORT_DIR:-$root/models/dsmoe-kjv-9m}"
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
    "$py" train.py --work "$work" --run-dir "$work/induction" --stage-name induction \
        --copy-fraction 0.9 --copy-alphabet 64 --passkey-fraction 0.1 --pack-passkeys \
        --steps 3000 --lr 5e-4 --warmup 20 --val-every 100 --passkey-probe 8 "$@"
    "$py" train.py --work "$work" --run-dir "$work/language" --init "$work/induction/final.pt" \
        --stage-name language --copy-fraction 0.1 --copy-alphabet 64 --passkey-fraction 0.2 --pack-passkeys \
        --steps 800 --lr 1e-3 --passkey-probe 8 "$@"
    [ -f "$work/language/eval.json" ] || "$py" evaluate.py --work "$work" --run-dir "$work/language"
    "$py" export.py --work "$work" --run-dir "$work/language" --out "$export_dir"
    "$py" golden.py --model "$export_dir" --out "$golden_dir"
    "$py" check_golden.py --model "$export_dir" --golden "$golden_dir"
    echo "run.sh: done"
}
main "$@"
exit
