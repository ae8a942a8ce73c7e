//! Test and benchmark helpers: build real components from WIT text, so test
//! cases are readable files rather than binaries. Their code traps if called
//! (wit-component's dummy module); they are for composing, not running.

use anyhow::{Context, Result};
use std::path::Path;
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{ManglingAndAbi, Resolve, WorldId};

/// The WASI 0.2 packages of a `wit/deps` folder, in dependency order.
pub const WASI_PACKAGES: [&str; 7] = [
    "io",
    "clocks",
    "random",
    "filesystem",
    "sockets",
    "cli",
    "http",
];

/// A resolve holding the WASI packages of `deps` (a `wit/deps`-style folder;
/// WASI 0.3's has no `io`).
pub fn wasi_resolve(deps: &Path) -> Result<Resolve> {
    let mut resolve = Resolve::default();
    for name in WASI_PACKAGES {
        let dir = deps.join(name);
        if name == "io" && !dir.exists() {
            continue;
        }
        resolve
            .push_path(&dir)
            .with_context(|| format!("parsing `{}`", dir.display()))?;
    }
    Ok(resolve)
}

/// Builds a component for the single world of the WIT package in `wit`.
/// WASI packages from `deps` (a `wit/deps`-style folder) are available to `use`.
pub fn component_from_wit(wit: &str, deps: Option<&Path>) -> Result<Vec<u8>> {
    let mut resolve = match deps {
        Some(deps) => wasi_resolve(deps)?,
        None => Resolve::default(),
    };
    let pkg = resolve.push_str("case.wit", wit)?;
    let world = resolve.select_world(&[pkg], None)?;
    let module = wit_component::dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    encode_world(&resolve, world, module)
}

/// Builds a component for the single world of the WIT package in `wit`, with
/// `core_wat` (WebAssembly text, wit-component's legacy names such as
/// `iface#func` and `cabi_realloc`) as its code: a component that runs.
pub fn component_from_wat(wit: &str, core_wat: &str, deps: Option<&Path>) -> Result<Vec<u8>> {
    let mut resolve = match deps {
        Some(deps) => wasi_resolve(deps)?,
        None => Resolve::default(),
    };
    let pkg = resolve.push_str("case.wit", wit)?;
    let world = resolve.select_world(&[pkg], None)?;
    encode_world(&resolve, world, wat(core_wat)?)
}

/// The component of `world` whose code is the core `module` (wit-component's
/// names; a dummy module from `wit_component::dummy_module` for one that only
/// composes), validated.
pub fn encode_world(resolve: &Resolve, world: WorldId, mut module: Vec<u8>) -> Result<Vec<u8>> {
    wit_component::embed_component_metadata(&mut module, resolve, world, StringEncoding::UTF8)?;
    ComponentEncoder::default()
        .module(&module)?
        .validate(true)
        .encode()
}

/// Parses WebAssembly text into binary.
pub fn wat(text: &str) -> Result<Vec<u8>> {
    Ok(wat::parse_str(text)?)
}

/// A `cabi_realloc` for WAT test components: a bump allocator from `start`,
/// never freeing (tests make a few calls).
pub fn bump_realloc(start: u32) -> String {
    format!(
        r#"(global $bump (mut i32) (i32.const {start}))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    global.get $bump
    local.get 2
    i32.add
    i32.const 1
    i32.sub
    i32.const 0
    local.get 2
    i32.sub
    i32.and
    local.tee $p
    local.get 3
    i32.add
    global.set $bump
    local.get $p)"#
    )
}

/// A command (`wasi:cli/run`) that exits 0, or 1 when given an argument:
/// for tests of runners. WASI 0.2.12 comes from `deps` (a `wit/deps` folder).
pub fn exit_command(deps: &Path) -> Result<Vec<u8>> {
    let world = r#"
        package test:app;
        world app {
          import wasi:cli/environment@0.2.12;
          import wasi:cli/exit@0.2.12;
          export wasi:cli/run@0.2.12;
        }"#;
    let module = format!(
        r#"(module
          (import "wasi:cli/environment@0.2.12" "get-arguments" (func $get_args (param i32)))
          (import "wasi:cli/exit@0.2.12" "exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          {}
          (func (export "wasi:cli/run@0.2.12#run") (result i32)
            (call $get_args (i32.const 16))
            (call $exit (i32.gt_u (i32.load offset=4 (i32.const 16)) (i32.const 1)))
            (unreachable)))"#,
        bump_realloc(1024)
    );
    component_from_wat(world, &module, Some(deps))
}
