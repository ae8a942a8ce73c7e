// The library bundle (examples/libraries/airlock.toml: markdown, text, stats and
// digest composed into one component that imports nothing), transpiled by
// `jco transpile` and called from Node. Expected values are computed here, in
// JavaScript, independently of the components. `just test-js` runs this.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { digest, markdown, stats, text } from '../../target/js/libraries/libraries.js';

const sample = readFileSync(new URL('../../examples/app/sample.md', import.meta.url));

test('the bundle exports the four interfaces and imports nothing', () => {
  const js = readFileSync(new URL('../../target/js/libraries/libraries.js', import.meta.url), 'utf8');
  // jco turns every import of the component into a JS import (WASI via preview2-shim).
  assert.doesNotMatch(js, /^import /m);
  assert.doesNotMatch(js, /preview2-shim/);
  for (const iface of [digest, markdown, stats, text]) {
    assert.equal(typeof iface, 'object');
  }
});

test('digest matches node:crypto', () => {
  const sha256 = (data) => createHash('sha256').update(data).digest('hex');
  assert.equal(digest.sha256(new Uint8Array(sample)), sha256(sample));
  assert.equal(digest.sha256(new Uint8Array()), sha256(''));
  assert.equal(digest.sha256Text('Café ☕'), sha256(Buffer.from('Café ☕', 'utf8')));
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);
  assert.equal(digest.sha256(bytes), sha256(bytes));
  // BLAKE3 of the empty input, from the BLAKE3 paper's test vectors.
  assert.equal(digest.blake3(new Uint8Array()), 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
  assert.equal(digest.blake3Text('abc'), digest.blake3(new TextEncoder().encode('abc')));
});

test('stats match values computed in JavaScript', () => {
  const values = [3.5, -1, 10, 4, 4, 0.25, 8];
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
  const sorted = [...values].sort((a, b) => a - b);
  const close = (a, b) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);
  const f64 = Float64Array.from(values);
  close(stats.mean(f64), mean);
  close(stats.variance(f64), variance);
  close(stats.stddev(f64), Math.sqrt(variance));
  close(stats.median(f64), sorted[(n - 1) / 2]);
  close(stats.min(f64), Math.min(...values));
  close(stats.max(f64), Math.max(...values));
  // Linear interpolation between closest ranks: rank 0.9 * 6 = 5.4.
  close(stats.percentile(f64, 90), sorted[5] + 0.4 * (sorted[6] - sorted[5]));
  const buckets = stats.histogram(f64, 4);
  assert.equal(buckets.length, 4);
  assert.equal(buckets.reduce((a, b) => a + b.count, 0), n);
  close(buckets[0].low, -1);
  close(buckets[3].high, 10);
});

test('stats errors arrive as ComponentError payloads', () => {
  const payload = (f) => {
    try {
      f();
    } catch (e) {
      return e.payload;
    }
    assert.fail('expected an error');
  };
  assert.deepEqual(payload(() => stats.mean(new Float64Array())), { tag: 'empty-input' });
  assert.deepEqual(payload(() => stats.mean(Float64Array.of(1, NaN))), { tag: 'non-finite', val: 1 });
  assert.deepEqual(payload(() => stats.histogram(Float64Array.of(1), 0)), { tag: 'zero-bins' });
  assert.deepEqual(payload(() => stats.percentile(Float64Array.of(1), 101)), { tag: 'percentile-out-of-range', val: 101 });
});

test('text', () => {
  assert.equal(text.slugify('Café résumé: 2 notes!'), 'café-résumé-2-notes');
  assert.equal(text.wordCount("don't stop, 2 go"), 4);
  assert.equal(text.titleCase('the API of  airlock'), 'The API Of  Airlock');
  // Grapheme clusters: "e" + combining acute is one, a flag is one.
  assert.equal(text.truncate('e\u0301\u{1F1EB}\u{1F1F7}abc', 2), 'e\u0301\u{1F1EB}\u{1F1F7}');
  assert.equal(text.truncate('short', 10), 'short');
});

test('markdown', () => {
  assert.equal(markdown.toHtml('# Hi *there*', {}), '<h1>Hi <em>there</em></h1>\n');
  assert.equal(markdown.toHtml('~~x~~', {}), '<p>~~x~~</p>\n');
  assert.equal(markdown.toHtml('~~x~~', { strikethrough: true }), '<p><del>x</del></p>\n');
  const headings = markdown.headings(sample.toString('utf8'));
  assert.deepEqual(headings[0], { level: 1, text: 'Café résumé: field notes', slug: 'café-résumé-field-notes' });
  // Every heading's slug follows text's rule.
  for (const h of headings) {
    assert.equal(h.slug, text.slugify(h.text));
  }
  // The ATX headings of the sample, counted with a regular expression.
  assert.equal(headings.length, sample.toString('utf8').match(/^#{1,6} /gm).length);
});
