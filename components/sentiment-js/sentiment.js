// `sentiment`: lexicon-based sentiment of English text.
//
// The `airlock:sentiment/sentiment@0.1.0` interface (wit/sentiment), in plain
// JavaScript, built into a component by componentize-js (`jco componentize`,
// QuickJS backend; `just build-polyglot`). The export object is named after the
// interface (camelCase), as jco expects; a thrown value becomes the `err` case.

// AFINN-style scores from -5 to +5 (a small excerpt: common words of prose
// about software).
const LEXICON = new Map(Object.entries({
  amazing: 4, awesome: 4, best: 3, better: 2, brilliant: 4, clean: 2, clear: 1,
  easy: 1, elegant: 3, excellent: 3, fast: 1, fine: 2, free: 1, fun: 4,
  glad: 3, good: 3, great: 3, happy: 3, helpful: 2, love: 3, nice: 3,
  perfect: 3, pleasant: 3, safe: 1, simple: 1, solid: 2, success: 2,
  thanks: 2, trust: 1, useful: 2, win: 4, wonderful: 4,
  angry: -3, awful: -3, bad: -3, broken: -1, bug: -2, bugs: -2, crash: -2,
  dangerous: -2, denied: -2, fail: -2, failed: -2, failure: -2, hard: -1,
  hate: -3, leak: -1, lost: -3, poor: -2, problem: -2, risk: -2, sad: -2,
  slow: -2, steal: -2, terrible: -3, threat: -2, ugly: -3, unsafe: -2,
  worse: -3, worst: -3, wrong: -2,
}));

const NEGATIONS = new Set(["not", "never", "no", "don't", "doesn't", "isn't", "can't", "won't"]);
const WORD = /[A-Za-z]+(?:['\u2019][A-Za-z]+)*/g;

function wordScore(word) {
  return LEXICON.get(word.toLowerCase().replace("\u2019", "'")) ?? 0;
}

function analyze(text) {
  const words = (text.match(WORD) ?? []).map((w) => w.toLowerCase().replace("\u2019", "'"));
  if (words.length === 0) {
    throw "no-words";
  }
  let score = 0;
  const positive = [];
  const negative = [];
  words.forEach((word, i) => {
    let s = wordScore(word);
    if (s !== 0 && i > 0 && NEGATIONS.has(words[i - 1])) {
      s = -s;
    }
    if (s > 0) positive.push(word);
    if (s < 0) negative.push(word);
    score += s;
  });
  return { score, comparative: score / words.length, positive, negative };
}

export const sentiment = { analyze, wordScore };
