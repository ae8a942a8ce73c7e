"""`readability`: Flesch reading ease and Flesch-Kincaid grade of English prose.

The `airlock:readability/readability@0.1.0` interface (wit/readability), built
into a component by componentize-py (`just build-polyglot`). The rules live in
`readability_core` (plain Python); this module adapts them to the bindings that
componentize-py generates (`wit_world`): the class and method names are the
ones those bindings expect, and raising `Err` returns the WIT `err` case.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import readability

import readability_core


class Readability(exports.Readability):
    def analyze(self, text: str) -> readability.Scores:
        s = readability_core.analyze(text)
        if s is None:
            raise Err(readability.Error.NO_WORDS)
        return readability.Scores(
            sentences=s.sentences,
            words=s.words,
            syllables=s.syllables,
            reading_ease=s.reading_ease,
            grade_level=s.grade_level,
        )

    def syllables(self, word: str) -> int:
        return readability_core.count_syllables(word)
