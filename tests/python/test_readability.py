"""The readability library, written in Python (components/readability-py),
built by componentize-py and composed alone by Airlock (only its runtime's
random seed allowed), called from Python through wasmtime-py. The same rules
run natively here (`readability_core`): both must agree."""

import math

import pytest
import readability_core

from conftest import ROOT

IFACE = "airlock:readability/readability@0.1.0"
TEXTS = [
    "The cat sat on the mat. It was happy!",
    "Readability formulas estimate how hard a text is to read. Longer sentences and "
    "longer words make it harder; short ones make it easier. Don't you agree?",
    "One sentence without an end",
    (ROOT / "examples" / "app" / "sample.md").read_text(),
]


def test_the_component_imports_only_random(readability):
    imports = readability.component.type.imports(readability.store.engine)
    assert [name.split("@")[0] for name in imports] == ["wasi:random/random"]


@pytest.mark.parametrize("text", TEXTS)
def test_the_component_agrees_with_the_same_python_run_natively(readability, text):
    got = readability.call(IFACE, "analyze", text)
    want = readability_core.analyze(text)
    assert (got.sentences, got.words, got.syllables) == (want.sentences, want.words, want.syllables)
    # wasmtime-py keeps the WIT field names (kebab-case) as attributes.
    assert math.isclose(getattr(got, "reading-ease"), want.reading_ease)
    assert math.isclose(getattr(got, "grade-level"), want.grade_level)


def test_known_values(readability):
    s = readability.call(IFACE, "analyze", "The cat sat on the mat. It was happy!")
    assert (s.sentences, s.words, s.syllables) == (2, 9, 10)
    assert math.isclose(getattr(s, "reading-ease"), 206.835 - 1.015 * 4.5 - 84.6 * 10 / 9)
    for word, n in [("cat", 1), ("table", 2), ("happy", 2), ("make", 1), ("readability", 5), ("42", 0)]:
        assert readability.call(IFACE, "syllables", word) == n, word


def test_no_words_is_the_no_words_error(readability):
    # wasmtime-py returns the payload of a `result`'s error: the enum case's name.
    assert readability.call(IFACE, "analyze", " ... ") == "no-words"
