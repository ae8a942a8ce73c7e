"""Uses the composed library bundle from Python (wasmtime-py). After
`just compose-libraries` (target/airlock/libraries.wasm) and `just setup-python`:

    target/venv/bin/python examples/libraries/main.py [FILE.md]

prints the document's headings, its SHA-256 and word statistics, then the
time of one call into the composed `stats.mean`.
"""

import pathlib
import re
import sys
import time

import wasmtime
import wasmtime.component as cm

ROOT = pathlib.Path(__file__).resolve().parents[2]

engine = wasmtime.Engine()
component = cm.Component.from_file(engine, str(ROOT / "target/airlock/libraries.wasm"))
store = wasmtime.Store(engine)
instance = cm.Linker(engine).instantiate(store, component)  # no imports to link


def func(interface: str, name: str):
    index = instance.get_export_index(store, name, instance.get_export_index(store, interface))
    f = instance.get_func(store, index)
    return lambda *args: f(store, *args)


headings = func("airlock:markdown/markdown@0.1.0", "headings")
title_case = func("airlock:text/text@0.1.0", "title-case")
word_count = func("airlock:text/text@0.1.0", "word-count")
sha256 = func("airlock:digest/digest@0.1.0", "sha256")
mean = func("airlock:stats/stats@0.1.0", "mean")
median = func("airlock:stats/stats@0.1.0", "median")

path = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "examples/app/sample.md"
data = path.read_bytes()
doc = data.decode()
for h in headings(doc):
    print(f"{'#' * h.level} {title_case(h.text)}  (#{h.slug})")
print(f"sha256: {sha256(data)}")
lengths = [float(word_count(p)) for p in re.split(r"\n\s*\n", doc)]
print(f"words per block: mean {mean(lengths):.2f}, median {median(lengths)}, max {max(lengths)}")
# A `result`'s error arrives as its payload: here a Variant of `stats-error`.
print(f"mean of nothing: {mean([]).tag}")

for n in (1, 1000):
    values = [i * 0.5 for i in range(n)]
    calls = 20000 if n == 1 else 2000
    for _ in range(100):
        mean(values)
    start = time.perf_counter()
    for _ in range(calls):
        mean(values)
    per_call = (time.perf_counter() - start) / calls
    print(f"python: stats.mean of {n} values: {per_call * 1e6:.2f} µs per call")
