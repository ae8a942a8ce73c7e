// Uses the composed library bundle from Node. After `just compose-libraries`
// (which composes examples/libraries/airlock.toml and runs `jco transpile`):
//
//   node examples/libraries/main.js [FILE.md]
//
// prints the document's headings, its SHA-256 and word statistics, then the
// time of one call into the composed `stats.mean`.

import { readFileSync } from 'node:fs';
import { digest, markdown, stats, text } from '../../target/js/libraries/libraries.js';

const path = process.argv[2] ?? new URL('../app/sample.md', import.meta.url);
const bytes = readFileSync(path);
const doc = bytes.toString('utf8');

for (const h of markdown.headings(doc)) {
  console.log(`${'#'.repeat(h.level)} ${text.titleCase(h.text)}  (#${h.slug})`);
}
console.log(`sha256: ${digest.sha256(new Uint8Array(bytes))}`);
const lengths = Float64Array.from(doc.split(/\n\s*\n/), (p) => text.wordCount(p));
console.log(`words per block: mean ${stats.mean(lengths).toFixed(2)}, median ${stats.median(lengths)}, max ${stats.max(lengths)}`);
try {
  stats.mean(new Float64Array());
} catch (e) {
  console.log(`mean of nothing: ${e.payload.tag}`);
}

for (const n of [1, 1000]) {
  const values = Float64Array.from({ length: n }, (_, i) => i * 0.5);
  const calls = 20000;
  for (let i = 0; i < 1000; i++) stats.mean(values);
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) stats.mean(values);
  const perCall = Number(process.hrtime.bigint() - start) / calls / 1000;
  console.log(`js: stats.mean of ${n} values: ${perCall.toFixed(2)} µs per call`);
}
