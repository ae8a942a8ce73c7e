"""The library bundle (examples/libraries/airlock.toml: markdown, text, stats and
digest in one component that imports nothing) called from Python through
wasmtime-py. Expected values are computed here with Python's standard library."""

import hashlib
import math
import re
import statistics

from wasmtime.component import Variant

from conftest import ROOT

STATS = "airlock:stats/stats@0.1.0"
TEXT = "airlock:text/text@0.1.0"
MARKDOWN = "airlock:markdown/markdown@0.1.0"
DIGEST = "airlock:digest/digest@0.1.0"

SAMPLE = (ROOT / "examples" / "app" / "sample.md").read_bytes()
VALUES = [3.5, -1.0, 10.0, 4.0, 4.0, 0.25, 8.0]


def test_digest_matches_hashlib(bundle):
    for data in [SAMPLE, b"", bytes(i * 7 % 256 for i in range(1000))]:
        assert bundle.call(DIGEST, "sha256", data) == hashlib.sha256(data).hexdigest()
    assert bundle.call(DIGEST, "sha256-text", "Café ☕") == hashlib.sha256("Café ☕".encode()).hexdigest()
    # BLAKE3 of the empty input, from the BLAKE3 paper's test vectors.
    assert bundle.call(DIGEST, "blake3", b"") == "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"


def test_stats_match_the_statistics_module(bundle):
    assert math.isclose(bundle.call(STATS, "mean", VALUES), statistics.fmean(VALUES))
    assert math.isclose(bundle.call(STATS, "median", VALUES), statistics.median(VALUES))
    assert math.isclose(bundle.call(STATS, "variance", VALUES), statistics.pvariance(VALUES))
    assert math.isclose(bundle.call(STATS, "stddev", VALUES), statistics.pstdev(VALUES))
    assert bundle.call(STATS, "min", VALUES) == min(VALUES)
    assert bundle.call(STATS, "max", VALUES) == max(VALUES)
    # NumPy's "linear" method is statistics' "inclusive" one.
    deciles = statistics.quantiles(VALUES, n=10, method="inclusive")
    assert math.isclose(bundle.call(STATS, "percentile", VALUES, 90.0), deciles[8])
    buckets = bundle.call(STATS, "histogram", VALUES, 4)
    assert [b.count for b in buckets] and sum(b.count for b in buckets) == len(VALUES)
    assert (buckets[0].low, buckets[-1].high) == (min(VALUES), max(VALUES))


def test_stats_errors_are_variants(bundle):
    # wasmtime-py returns the payload of either case of a `result`: the error is a Variant.
    assert bundle.call(STATS, "mean", []) == Variant("empty-input")
    assert bundle.call(STATS, "mean", [1.0, math.inf]) == Variant("non-finite", 1)
    assert bundle.call(STATS, "histogram", [1.0], 0) == Variant("zero-bins")


def test_text(bundle):
    assert bundle.call(TEXT, "slugify", "Café résumé: 2 notes!") == "café-résumé-2-notes"
    assert bundle.call(TEXT, "word-count", "don't stop, 2 go") == 4
    assert bundle.call(TEXT, "title-case", "the API of  airlock") == "The API Of  Airlock"
    assert bundle.call(TEXT, "truncate", "e\u0301\U0001F1EB\U0001F1F7abc", 2) == "e\u0301\U0001F1EB\U0001F1F7"


def test_markdown(bundle):
    assert bundle.call(MARKDOWN, "to-html", "# Hi *there*", set()) == "<h1>Hi <em>there</em></h1>\n"
    assert bundle.call(MARKDOWN, "to-html", "~~x~~", {"strikethrough"}) == "<p><del>x</del></p>\n"
    doc = SAMPLE.decode()
    headings = bundle.call(MARKDOWN, "headings", doc)
    assert len(headings) == len(re.findall(r"^#{1,6} ", doc, flags=re.M))
    assert (headings[0].level, headings[0].text) == (1, "Café résumé: field notes")
    for h in headings:
        assert h.slug == bundle.call(TEXT, "slugify", h.text)
