# Airlock: compose WebAssembly components so each library gets only what it is granted.
# `just --list` shows every recipe.

set shell := ["bash", "-euo", "pipefail", "-c"]

components := "-p stats -p text -p markdown -p digest@0.1.0 -p telemetry -p app"
component_dir := "target/wasm32-wasip2/component"

# Show the recipes.
default:
    @just --list

# Install what the build needs (idempotent): the wasm32-wasip2 target.
setup:
    rustup target add wasm32-wasip2 wasm32-unknown-unknown

# Build the library components (wasm32-wasip2, small release profile).
build-components: setup
    cargo build --profile component --target wasm32-wasip2 {{ components }}

# Build the components and the `airlock` CLI.
build: build-components
    cargo build -p airlock

# Compose the example app (examples/app/airlock.toml), print its audit, and run it on the sample document.
compose: build
    mkdir -p target/airlock
    cargo run -q -p airlock -- compose --manifest examples/app/airlock.toml -o target/airlock/app.wasm
    @echo
    @echo "== airlock run --dir examples/app::/docs target/airlock/app.wasm -- /docs/sample.md =="
    cargo run -q -p airlock -- run --dir examples/app::/docs target/airlock/app.wasm -- /docs/sample.md

# Run every test: component unit tests, composer tests, end-to-end tests in wasmtime.
test: build-components
    cargo test --workspace --no-fail-fast

# Format the code.
fmt:
    cargo fmt --all

# Lint with clippy, warnings as errors (host crates and the wasm components).
lint:
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy --target wasm32-wasip2 {{ components }} -- -D warnings

# What CI runs: formatting, lints, tests.
ci:
    cargo fmt --all -- --check
    just lint
    just test
