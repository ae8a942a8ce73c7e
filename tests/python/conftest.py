"""Fixtures of the Python tests: the composed library bundle, loaded once with
wasmtime-py's component-model API. `just test-python` composes it first
(target/airlock/libraries.wasm, target/airlock/readability.wasm) and runs
these tests."""

import hashlib
from importlib.metadata import version
import pathlib
import sys

import pytest
import wasmtime
import wasmtime.component as cm

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "target" / "airlock" / "libraries.wasm"
# The Python library alone, composed by Airlock with only `wasi:random/random` allowed.
READABILITY = ROOT / "target" / "airlock" / "readability.wasm"
# Compiled components, keyed by the hash of their bytes: compiling the 18 MB
# Python component takes 10 s or more, loading a saved compilation well under 1 s.
CACHE = ROOT / "target" / "python-cache"

# The readability rules, importable natively (the component runs the same file).
sys.path.insert(0, str(ROOT / "components" / "readability-py"))


def load(engine: wasmtime.Engine, path: pathlib.Path) -> cm.Component:
    data = path.read_bytes()
    cached = CACHE / f"{path.stem}-{version('wasmtime')}-{hashlib.sha256(data).hexdigest()[:16]}.cwasm"
    if cached.exists():
        return cm.Component.deserialize_file(engine, str(cached))
    component = cm.Component(engine, data)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_bytes(component.serialize())
    tmp.replace(cached)
    return component


class Library:
    """One instance of a composed component; `call(interface, function, *args)`."""

    def __init__(self, path: pathlib.Path, wasi: bool = False):
        if not path.exists():
            pytest.fail(f"`{path}` is missing: run `just compose-libraries` first")
        engine = wasmtime.Engine()
        self.component = load(engine, path)
        self.store = wasmtime.Store(engine)
        linker = cm.Linker(engine)
        if wasi:
            # WASI for what the component imports (here only `wasi:random/random`).
            linker.add_wasip2()
            self.store.set_wasi(wasmtime.WasiConfig())
        # Otherwise an empty linker: the component must need no host import at all.
        self.instance = linker.instantiate(self.store, self.component)

    def func(self, interface: str, name: str):
        iface = self.instance.get_export_index(self.store, interface)
        assert iface is not None, f"no export `{interface}`"
        index = self.instance.get_export_index(self.store, name, iface)
        assert index is not None, f"no function `{name}` in `{interface}`"
        return self.instance.get_func(self.store, index)

    def call(self, interface: str, name: str, *args):
        return self.func(interface, name)(self.store, *args)


@pytest.fixture(scope="session")
def bundle() -> Library:
    return Library(BUNDLE)


@pytest.fixture(scope="session")
def readability() -> Library:
    return Library(READABILITY, wasi=True)
