// Ground truth from HF `tokenizers` (the npm binding of the Rust crate).
//   node hf_reference.js NPM_PREFIX TOKENIZER_JSON CORPUS_JSONL
//     one JSON object per corpus line: ids and ids_special (encode without / with add_special_tokens),
//     text = decode(ids, skip_special=false), text_skip = decode(ids_special, skip_special=true)
//   node hf_reference.js NPM_PREFIX TOKENIZER_JSON --bench TEXT_FILE
//     encode throughput on the whole file as one string, single call, best of 3
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [prefix, tokenizerPath, corpusOrFlag, benchFile] = process.argv.slice(2);
  if (!prefix || !tokenizerPath || !corpusOrFlag) {
    throw new Error('usage: hf_reference.js NPM_PREFIX TOKENIZER_JSON (CORPUS_JSONL | --bench TEXT_FILE)');
  }
  const { Tokenizer } = require(path.resolve(prefix, 'node_modules', 'tokenizers'));
  const tok = await Tokenizer.fromFile(tokenizerPath);

  if (corpusOrFlag === '--bench') {
    const text = fs.readFileSync(benchFile, 'utf8');
    const bytes = Buffer.byteLength(text, 'utf8');
    let best = Infinity;
    let count = 0;
    for (let i = 0; i < 3; ++i) {
      const start = process.hrtime.bigint();
      const enc = await tok.encode(text, null, { addSpecialTokens: false });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      count = enc.getIds().length;
      best = Math.min(best, seconds);
    }
    console.log(JSON.stringify({ bytes, tokens: count, seconds: best, mb_per_s: bytes / 1e6 / best }));
    return;
  }

  const lines = fs.readFileSync(corpusOrFlag, 'utf8').split('\n').filter((l) => l.length > 0);
  const out = [];
  for (const line of lines) {
    const text = JSON.parse(line);
    const ids = Array.from((await tok.encode(text, null, { addSpecialTokens: false })).getIds());
    const idsSpecial = Array.from((await tok.encode(text, null, { addSpecialTokens: true })).getIds());
    out.push(JSON.stringify({
      ids,
      ids_special: idsSpecial,
      text: await tok.decode(ids, false),
      text_skip: await tok.decode(idsSpecial, true),
    }));
  }
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((e) => {
  console.error('hf_reference.js:', e && e.stack ? e.stack : e);
  process.exit(1);
});
