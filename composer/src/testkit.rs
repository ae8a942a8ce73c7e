//! Test and benchmark helpers: build real components from WIT text, so test
//! cases are readable files rather than binaries. Their code traps if called
//! (wit-component's dummy module); they are for composing, not running.

use anyhow::{Context, Result};
use std::path::Path;
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{ManglingAndAbi, Resolve};

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

/// A resolve holding the WASI packages of `deps` (a `wit/deps`-style folder).
pub fn wasi_resolve(deps: &Path) -> Result<Resolve> {
    let mut resolve = Resolve::default();
    for name in WASI_PACKAGES {
        let dir = deps.join(name);
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
    let mut module = wit_component::dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)?;
    ComponentEncoder::default()
        .module(&module)?
        .validate(true)
        .encode()
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
    let mut module = wat(core_wat)?;
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)?;
    ComponentEncoder::default()
        .module(&module)?
        .validate(true)
        .encode()
}

/// Parses WebAssembly text into binary.
pub fn wat(text: &str) -> Result<Vec<u8>> {
    Ok(wat::parse_str(text)?)
}
