"""The readability rules in plain Python (standard library only), free of the
component bindings so that tests can run them natively too (tests/python)."""

import re
from dataclasses import dataclass

WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z0-9]+)*")
SENTENCE_END = re.compile(r"[.!?]+")
VOWEL_GROUP = re.compile(r"[aeiouy]+")


def count_syllables(word: str) -> int:
    """Vowel groups, without a silent final "e"; "-le" after a consonant counts."""
    letters = "".join(c for c in word.lower() if "a" <= c <= "z")
    if not letters:
        return 0
    groups = len(VOWEL_GROUP.findall(letters))
    if letters.endswith("e") and not letters.endswith(("le", "ee", "ye")) and groups > 1:
        groups -= 1
    elif letters.endswith("le") and len(letters) > 2 and letters[-3] not in "aeiouy" and groups == 1:
        groups += 1
    return max(groups, 1)


@dataclass
class Scores:
    sentences: int
    words: int
    syllables: int
    reading_ease: float
    grade_level: float


def analyze(text: str) -> Scores | None:
    """The scores of `text`, or None when it has no words."""
    words = WORD.findall(text)
    if not words:
        return None
    sentences = sum(1 for part in SENTENCE_END.split(text) if WORD.search(part))
    syllables = sum(count_syllables(w) for w in words)
    per_sentence = len(words) / sentences
    per_word = syllables / len(words)
    return Scores(
        sentences=sentences,
        words=len(words),
        syllables=syllables,
        reading_ease=206.835 - 1.015 * per_sentence - 84.6 * per_word,
        grade_level=0.39 * per_sentence + 11.8 * per_word - 15.59,
    )
