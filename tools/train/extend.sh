#!/bin/bash
# Context extension of the language-stage weights to 1024 tokens (README.md "Context extension"): one
# fine-tune with PI (linear, factor 4) and one with YaRN (factor 4 from 256), then their evaluation and
# export. Resumable like run.sh: rerun the same command and each train.py continues from its checkpoint.
# Usage: extend.sh train linear|yarn   (one fine-tune; run two at once with THREADS=1)
#        extend.sh eval                (tools/train/work/extend/*.json, once both final.pt exist)
#        extend.sh export              (HF folders in work/extend/dsmoe-kjv-9m-1k-{pi,yarn})
#        extend.sh engine PATH/TO/dsmoe (engine_check.py on both exports: dsmoe logits vs model.py)
# Environment: WORK (default tools/train/work), THREADS (default 2).
main() {
    set -euo pipefail
    local here
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    local work="${WORK:-$here/work}" threads="${THREADS:-2}" py=/usr/bin/python3
    local openblas=/usr/lib/x86_64-linux-gnu/openblas-pthread
    if [ -e "$openblas/libblas.so.3" ]; then
        export LD_LIBRARY_PATH="$openblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
    export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads"
    cd "$here"
    # The tokenizer the --init weights were trained with: the shipped one.
    mkdir -p "$work/tokenizer"
    [ -f "$work/corpus.json" ] || "$py" corpus.py --out "$work/corpus.json"
    for f in tokenizer.json tokenizer_config.json; do
        [ -f "$work/tokenizer/$f" ] || cp "$here/../../models/dsmoe-kjv-9m/$f" "$work/tokenizer/$f"
    done
    case "$1" in
        train)
            local scaling="$2" name
            name=$([ "$scaling" = linear ] && echo pi || echo yarn)
            "$py" train.py --work "$work" --init checkpoints/language-4layers.pt --run-dir "$work/extend-$name" \
                --stage-name "extend-$name" --seq-len 1024 --rope-scaling "$scaling" --rope-factor 4 \
                --rope-original 256 --passkey-fraction 0.3 --pack-passkeys --batch-size 2 --steps 150 \
                --lr 3e-4 --warmup 10 --val-every 50 --val-windows 4 --passkey-probe 4 --threads "$threads"
            ;;
        eval)
            mkdir -p "$work/extend"
            "$py" extend_eval.py --work "$work" --out "$work/extend" --threads "$threads" \
                original=checkpoints/language-4layers.pt pi="$work/extend-pi/final.pt" \
                yarn="$work/extend-yarn/final.pt"
            ;;
        export)
            for name in pi yarn; do
                "$py" export.py --work "$work" --run-dir "$work/extend-$name" \
                    --out "$work/extend/dsmoe-kjv-9m-1k-$name"
            done
            ;;
        engine)
            for name in pi yarn; do
                "$py" engine_check.py --model "$work/extend/dsmoe-kjv-9m-1k-$name" --dsmoe "$2" --work "$work" \
                    --threads "$threads"
            done
            ;;
        *) echo "usage: extend.sh train linear|yarn | eval | export | engine DSMOE" >&2; exit 2 ;;
    esac
}
main "$@"
exit
