# Airlock: compose WebAssembly components so each library gets only what it is granted.
# `just --list` shows every recipe.

set shell := ["bash", "-euo", "pipefail", "-c"]

components := "-p stats -p text -p markdown -p digest@0.1.0 -p telemetry -p app -p escape -p stdio-probe -p net-probe -p fs-probe"
# The crates that use component-model async (wit-bindgen's `async` feature): the
# async suite's probe and vault, a WASI 0.3 command, the 0.3 slices' probes, and
# the interposers that need `async` (`async_interposer_kinds`). Built apart (`build-async-probes`).
async_probes := "-p async-probe -p async-vault -p p3-command -p p3-slice-probe -p p3-stdio-probe -p interpose-http3 -p interpose-stdio3 -p interpose-stdio3pump"
component_dir := "target/wasm32-wasip2/component"
# The Python tools (componentize-py, wasmtime, pytest; requirements.txt).
venv := "target/venv"
# Node 20 needs this flag to load components built by componentize-js (QuickJS) and componentize-py.
node := "node --experimental-wasm-extended-const"

# Show the recipes.
default:
    @just --list

# Install what the build needs (idempotent): the wasm32-wasip2 target.
setup:
    rustup target add wasm32-wasip2 wasm32-unknown-unknown

# Install the OCI registry that the registry tests start (Debian's docker-registry; needs root, as in CI).
setup-registry:
    @command -v docker-registry >/dev/null || test -x /usr/bin/docker-registry || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null; }

# Install the wkg CLI (wasm-pkg-tools, pinned) for the registry interop test, once: about 16 CPU-minutes.
setup-wkg:
    @test -x target/tools/bin/wkg || cargo install --locked wkg@0.16.1 --root target/tools

# Install the JavaScript tools pinned in package-lock.json (jco, componentize-js) when missing or changed.
setup-js:
    @cmp -s package-lock.json node_modules/.airlock-installed || { npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.airlock-installed; }

# Install the Python tools pinned in requirements.txt into target/venv when missing or changed.
setup-python:
    @cmp -s requirements.txt {{ venv }}/.airlock-installed || { python3 -m venv {{ venv }} && {{ venv }}/bin/pip install -q --disable-pip-version-check -r requirements.txt && cp requirements.txt {{ venv }}/.airlock-installed; }

# Build the components written in Python (componentize-py) and JavaScript (componentize-js) into target/polyglot/.
build-polyglot: setup-js setup-python
    mkdir -p target/polyglot
    # Python: readability. About 20 s; skipped when the output is newer than its inputs.
    @if [ -z "$(find components/readability-py/*.py wit/readability requirements.txt -newer target/polyglot/readability.wasm 2>/dev/null)" ] && [ -f target/polyglot/readability.wasm ]; then echo "readability.wasm is up to date"; else \
        cd components/readability-py && ../../{{ venv }}/bin/componentize-py -d ../../wit/readability -w airlock:readability/library componentize app -o ../../target/polyglot/readability.wasm; fi
    # JavaScript: sentiment, on the QuickJS backend. About 3 s; skipped likewise (jco resolves relative paths only with --cwd).
    @if [ -z "$(find components/sentiment-js wit/sentiment package-lock.json -newer target/polyglot/sentiment.wasm 2>/dev/null)" ] && [ -f target/polyglot/sentiment.wasm ]; then echo "sentiment.wasm is up to date"; else \
        node_modules/.bin/jco componentize components/sentiment-js/sentiment.js --wit wit/sentiment --world-name library --backend quickjs --backend-qjs-disable-async --cwd . -o target/polyglot/sentiment.wasm; fi

# Compose the library bundle (examples/libraries: markdown, text, stats, digest) and each polyglot library alone (isolated), and transpile for Node.
compose-libraries: build-components build-polyglot
    mkdir -p target/airlock
    cargo run -q -p airlock -- compose --manifest examples/libraries/airlock.toml
    cargo run -q -p airlock -- compose target/polyglot/sentiment.wasm -o target/airlock/sentiment.wasm
    cargo run -q -p airlock -- compose target/polyglot/readability.wasm --allow 'wasi:random/random@0.2' -o target/airlock/readability.wasm
    node_modules/.bin/jco transpile target/airlock/libraries.wasm -o target/js/libraries --name libraries --quiet
    node_modules/.bin/jco transpile target/airlock/sentiment.wasm -o target/js/sentiment --name sentiment --quiet

# The JavaScript tests (tests/js): the library bundle and the sentiment component from Node, via jco.
test-js: compose-libraries
    {{ node }} --test tests/js/*.test.js

# The Python tests (tests/python): the library bundle and the readability component from Python, via wasmtime-py.
test-python: compose-libraries
    {{ venv }}/bin/python -m pytest -q tests/python

# The interposers airlock builds into its outputs (attenuated capabilities; see composer/crates/airlock-core/src/attenuate),
# by kind: crate `interpose-KIND` is checked in as composer/interposers/KIND.wasm.
interposer_kinds := "env clock stdio http sockets files embed env3"
# The interposers built with wit-bindgen's `async` feature (WASI 0.3's streams and
# `async func`s): in the async probes' cargo invocation (`build-async-probes`), never
# with the others (cargo would turn the feature on for all and change their bytes).
async_interposer_kinds := "http3 stdio3 stdio3pump"

# Rebuild the prebuilt interposer components under composer/interposers/ (the composer
# embeds them; `interposers_are_fresh` in `just test` fails when they are stale), packed by
# composer/interposers/pack.mjs: Binaryen's `wasm-opt -Oz` (pinned in package-lock.json) on
# their core modules, custom sections dropped; then their internal names shortened in place
# by composer/interposers/shrink (as the composer shortens its stubs').
[doc("Rebuild the prebuilt interposer components under composer/interposers/.")]
interposers: setup setup-js build-async-probes
    cargo build --profile component --target wasm32-wasip2 $(for k in {{ interposer_kinds }}; do printf -- '-p interpose-%s ' $k; done)
    node composer/interposers/pack.mjs $(for k in {{ interposer_kinds }} {{ async_interposer_kinds }}; do printf -- '{{ component_dir }}/interpose_%s.wasm composer/interposers/%s.wasm ' $k $k; done)
    cargo run -q -p interposer-shrink -- $(for k in {{ interposer_kinds }} {{ async_interposer_kinds }}; do printf -- 'composer/interposers/%s.wasm ' $k; done)

# Build the library components (wasm32-wasip2, small release profile); the async probes first, apart.
build-components: setup build-async-probes
    cargo build --profile component --target wasm32-wasip2 {{ components }} $(for k in {{ interposer_kinds }}; do printf -- '-p interpose-%s ' $k; done)

# Build the test probes that use component-model async (tests/probes: async-probe,
# async-vault, p3-command) in a cargo invocation of their own. Cargo unifies a
# dependency's features over the packages of one invocation: built together with
# the other components, wit-bindgen's `async` would be on for all of them and
# change their bytes, the checked-in interposers' included (`interposers_are_fresh`).
[doc("Build the async test probes (tests/probes) in a cargo invocation of their own.")]
build-async-probes: setup
    cargo build --profile component --target wasm32-wasip2 {{ async_probes }}

# Build the components and the `airlock` CLI.
build: build-components
    cargo build -p airlock

# Compose the example app and print its audit, then run it (Rust alone is enough);
# with Node 20+ and Python 3.11+ also the polyglot app (examples/polyglot).
[doc("Compose the example app, print its audit and run it (and the polyglot app when Node and Python are there).")]
compose: build
    mkdir -p target/airlock
    cargo run -q -p airlock -- compose --manifest examples/app/airlock.toml -o target/airlock/app.wasm
    @echo
    @echo "== airlock run --dir examples/app::/docs target/airlock/app.wasm /docs/sample.md =="
    cargo run -q -p airlock -- run --dir examples/app::/docs target/airlock/app.wasm /docs/sample.md
    @echo
    @if command -v node >/dev/null && command -v npm >/dev/null && command -v python3 >/dev/null; then just compose-polyglot; \
    else echo "(skipped the polyglot app: it needs Node 20+ with npm and Python 3.11+ for its JavaScript and Python libraries; install them, then run \`just compose\` again)"; fi

# The polyglot app: the example app with its Python and JavaScript libraries composed in.
compose-polyglot: build build-polyglot
    @echo "== airlock compose --manifest examples/polyglot/airlock.toml =="
    cargo run -q -p airlock -- compose --manifest examples/polyglot/airlock.toml
    @echo
    @echo "== airlock run --dir examples/app::/docs target/airlock/polyglot.wasm /docs/sample.md =="
    cargo run -q -p airlock -- run --dir examples/app::/docs target/airlock/polyglot.wasm /docs/sample.md

# Run every test: component unit tests, composer tests, end-to-end tests in wasmtime (and against a real OCI registry), then from Node and Python.
test: compose-libraries setup-registry setup-wkg
    #!/usr/bin/env bash
    set -uo pipefail
    status=0
    cargo test --workspace --no-fail-fast || status=1
    {{ node }} --test tests/js/*.test.js || status=1
    {{ venv }}/bin/python -m pytest -q tests/python || status=1
    exit $status

# Publish the workspace's components as `airlock:<name>@<workspace version>` to the registry
# from configuration: `AIRLOCK_REGISTRY` (e.g. `http://127.0.0.1:5000`), else wkg's config file.
[doc("Publish the workspace's components to the registry (AIRLOCK_REGISTRY, else wkg's config).")]
publish: build
    #!/usr/bin/env bash
    set -euo pipefail
    version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
    # The components of `components` above (`-p digest@0.1.0` -> `digest`), not whatever else is in the folder.
    for name in $(echo "{{ components }}" | tr ' ' '\n' | grep -v '^-p$' | sed 's/@.*//'); do
        cargo run -q -p airlock -- publish "{{ component_dir }}/$(echo "$name" | tr - _).wasm" --package "airlock:$name@$version"
    done

# Hardening at scale (`just test` runs the same bounded): CASES random compositions from SEED,
# CORRUPT bit-flipped components at the CLI, then each cargo-fuzz target for SECONDS
# (libFuzzer on stable via RUSTC_BOOTSTRAP; new inputs go to composer/fuzz/target/corpus,
# crashes to composer/fuzz/artifacts). Example: `just fuzz 20000 7 5000 600`.
[doc("Hardening at scale: random compositions, corrupted components, then each cargo-fuzz target.")]
fuzz cases="3000" seed="1" corrupt="2000" seconds="60":
    AIRLOCK_GEN_CASES={{ cases }} AIRLOCK_GEN_SEED={{ seed }} cargo test -p airlock-tests --test invariants -- --nocapture random_compositions_never_leak
    AIRLOCK_CORRUPT_CASES={{ corrupt }} cargo test -p airlock-tests --test bad_input -- --nocapture corrupted
    command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
    cd composer/fuzz && for t in manifest inspect compose; do mkdir -p target/corpus/$t && RUSTC_BOOTSTRAP=1 cargo fuzz run -O $t target/corpus/$t corpus/$t -- -max_total_time={{ seconds }} -rss_limit_mb=4096 -timeout=30 2>&1 | grep -E "^(Done|==|INFO: Seed|SUMMARY|artifact)|panicked|Crash|crash-" || true; test -z "$(ls artifacts/$t 2>/dev/null)" || { echo "fuzz: crashes in composer/fuzz/artifacts/$t"; exit 1; }; done

# Format the code.
fmt:
    cargo fmt --all

# Lint with clippy, warnings as errors (host crates and the wasm components).
lint:
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy --target wasm32-wasip2 {{ components }} -- -D warnings
    cargo clippy --target wasm32-wasip2 {{ async_probes }} -- -D warnings

# What CI runs: formatting, lints, tests.
ci:
    cargo fmt --all -- --check
    just lint
    just test

# The airlock CLI is timed as a release build (without the wasmtime host); the bench itself
# runs in the dev profile, whose dependencies (wasmtime, cranelift) are at opt-level 2.
# wac-cli is installed once, pinned, without its registry feature (about 4 CPU-minutes).
# Benchmarks (compose vs `wac plug`, scaling, sizes, runtime; one file each in composer/benches/):
# a table each, all rows in target/bench/latest.json and a dated copy.
bench: build-components
    mkdir -p target/bench
    test -x target/bench/tools/bin/wac || cargo install --locked wac-cli@0.12.0 --no-default-features --root target/bench/tools
    cargo build --release -p airlock --no-default-features --bin airlock
    rm -rf target/bench/parts
    cargo bench -p airlock --profile dev --bench compose --bench scaling --bench sizes --bench runtime -- --airlock target/release/airlock --wac target/bench/tools/bin/wac
    cp target/bench/latest.json "target/bench/bench-$(date -u +%Y-%m-%d-%H-%M-UTC).json"
    @echo "== slices: output size added per kind; per-call cost of an attenuated HTTP request and file read =="
    cargo bench -p airlock-tests --profile dev --bench slice_sizes --bench slice_http --bench slice_files
