// The sentiment library, written in JavaScript (components/sentiment-js), built
// into a component by componentize-js (QuickJS), composed alone by Airlock so
// that it imports nothing, transpiled by jco and called from Node. The same
// source file is also imported natively here: both must agree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sentiment } from '../../target/js/sentiment/sentiment.js';
import { sentiment as native } from '../../components/sentiment-js/sentiment.js';

const texts = [
  'This is not good. Terrible bugs, awful crash!',
  'A clean, elegant and useful library: great work, thanks!',
  "I don't hate it; it isn't bad.",
  'Neutral words only here.',
  readFileSync(new URL('../../examples/app/sample.md', import.meta.url), 'utf8'),
];

test('the isolated component imports nothing', () => {
  const js = readFileSync(new URL('../../target/js/sentiment/sentiment.js', import.meta.url), 'utf8');
  assert.doesNotMatch(js, /preview2-shim/);
});

test('the component agrees with the same JavaScript run natively', () => {
  for (const t of texts) {
    assert.deepEqual(sentiment.analyze(t), native.analyze(t), t);
  }
});

test('negative scores and negation cross the boundary', () => {
  const a = sentiment.analyze('This is not good. Terrible bugs, awful crash!');
  assert.equal(a.score, -3 - 3 - 2 - 3 - 2);
  assert.deepEqual(a.negative, ['good', 'terrible', 'bugs', 'awful', 'crash']);
  assert.deepEqual(a.positive, []);
  assert.equal(a.comparative, a.score / 8);
  assert.equal(sentiment.wordScore('Awful'), -3);
  assert.equal(sentiment.wordScore('airlock'), 0);
});

test('no words is the no-words error', () => {
  assert.throws(() => sentiment.analyze(' 42 ... '), (e) => e.payload === 'no-words');
});
