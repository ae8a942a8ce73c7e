//! A WAT test component that exports what it gets from random, clocks and the
//! environment, so a test can call the imports directly (virtual values,
//! clock and environment slices).

use crate::workspace;
use std::path::Path;

/// A component that exports what it gets from random, clocks and the
/// environment, so a test can call them directly.
pub const PROBE_WIT: &str = "package test:probe;
interface rng {
    bytes: func(n: u64) -> list<u8>;
    random-u64: func() -> u64;
    insecure-bytes: func(n: u64) -> list<u8>;
    seed: func() -> tuple<u64, u64>;
    wall: func() -> u64;
    wall-nanos: func() -> u32;
    monotonic: func() -> u64;
    env: func() -> list<tuple<string, string>>;
    args: func() -> list<string>;
    cwd: func() -> option<string>;
}
world probe {
    import wasi:random/random@0.2.12;
    import wasi:random/insecure@0.2.12;
    import wasi:random/insecure-seed@0.2.12;
    import wasi:clocks/wall-clock@0.2.12;
    import wasi:clocks/monotonic-clock@0.2.12;
    import wasi:cli/environment@0.2.12;
    export rng;
}";

pub use airlock_core::testkit::bump_realloc;

/// Each export forwards to the import, returning the import's return area.
fn probe_wat() -> String {
    PROBE_WAT.replace("{realloc}", &bump_realloc(1024))
}

const PROBE_WAT: &str = r#"(module
  (import "wasi:random/random@0.2.12" "get-random-bytes" (func $bytes (param i64 i32)))
  (import "wasi:random/random@0.2.12" "get-random-u64" (func $u64 (result i64)))
  (import "wasi:random/insecure@0.2.12" "get-insecure-random-bytes" (func $ibytes (param i64 i32)))
  (import "wasi:random/insecure-seed@0.2.12" "insecure-seed" (func $seed (param i32)))
  (import "wasi:clocks/wall-clock@0.2.12" "now" (func $now (param i32)))
  (import "wasi:clocks/monotonic-clock@0.2.12" "now" (func $mono (result i64)))
  (import "wasi:cli/environment@0.2.12" "get-environment" (func $env (param i32)))
  (import "wasi:cli/environment@0.2.12" "get-arguments" (func $args (param i32)))
  (import "wasi:cli/environment@0.2.12" "initial-cwd" (func $cwd (param i32)))
  (memory (export "memory") 1)
  {realloc}
  (func (export "test:probe/rng#bytes") (param i64) (result i32)
    local.get 0 i32.const 16 call $bytes i32.const 16)
  (func (export "test:probe/rng#random-u64") (result i64) call $u64)
  (func (export "test:probe/rng#insecure-bytes") (param i64) (result i32)
    local.get 0 i32.const 16 call $ibytes i32.const 16)
  (func (export "test:probe/rng#seed") (result i32) i32.const 16 call $seed i32.const 16)
  (func (export "test:probe/rng#wall") (result i64) i32.const 16 call $now i32.const 16 i64.load)
  (func (export "test:probe/rng#wall-nanos") (result i32)
    i32.const 16 call $now i32.const 24 i32.load)
  (func (export "test:probe/rng#monotonic") (result i64) call $mono)
  (func (export "test:probe/rng#env") (result i32) i32.const 16 call $env i32.const 16)
  (func (export "test:probe/rng#args") (result i32) i32.const 16 call $args i32.const 16)
  (func (export "test:probe/rng#cwd") (result i32) i32.const 16 call $cwd i32.const 16)
)"#;

/// Writes the probe component to `path`.
pub fn write_probe(path: &Path) {
    let bytes = airlock_core::testkit::component_from_wat(
        PROBE_WIT,
        &probe_wat(),
        Some(&workspace().join("wit/deps")),
    )
    .expect("the probe builds");
    std::fs::write(path, bytes).expect("the probe is written");
}
