// Encodes texts with HuggingFace's own tokenizers library (the npm binding of the Rust crate) and compares
// the ids with what our Python encoder produced. Usage: node check_tokenizer.js tokenizer.json cases.json
// cases.json: [{"text": str, "ids": [int], "with_special": [int] (optional: ids with the BOS template)}].
// Prints one line per mismatch and a summary; the exit status is 1 when anything differs.
const fs = require('fs');
const modulePath = process.env.HF_TOKENIZERS || '/tmp/npmtest/node_modules/tokenizers';
const { Tokenizer } = require(modulePath);

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

async function main() {
  const [tokenizerPath, casesPath] = process.argv.slice(2);
  const tok = await Tokenizer.fromFile(tokenizerPath);
  const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));
  let bad = 0, tokens = 0;
  for (const [n, c] of cases.entries()) {
    const ids = (await tok.encode(c.text, null, { addSpecialTokens: false })).getIds();
    tokens += ids.length;
    let at = firstDifference(Array.from(ids), c.ids);
    if (at < 0 && c.with_special) {
      const withSpecial = (await tok.encode(c.text, null, { addSpecialTokens: true })).getIds();
      at = firstDifference(Array.from(withSpecial), c.with_special);
      if (at >= 0) at = 'template ' + at;
    }
    if (at !== -1) {
      bad++;
      console.log(`case ${n}: first difference at ${at}: hf ${ids.slice(Math.max(0, at - 3), at + 3)} ` +
                  `python ${c.ids.slice(Math.max(0, at - 3), at + 3)}`);
    }
  }
  console.log(`${cases.length - bad}/${cases.length} texts identical (${tokens} HF tokens)`);
  process.exit(bad ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(2); });
