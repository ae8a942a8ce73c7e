//! Helpers shared by the folder-per-case test files (`golden.rs`,
//! `virtualize.rs`): golden files that `BLESS=1` rewrites, and the WIT of a
//! component as `wasm-tools component wit` prints it.

use anyhow::{Context, Result, bail};
use std::path::Path;

/// Whether this run rewrites the golden files (`BLESS=1`).
pub fn blessing() -> bool {
    std::env::var_os("BLESS").is_some()
}

/// Compares `actual` with the golden file `path`; with `BLESS=1`, writes it.
pub fn check_golden(path: &Path, actual: &str) -> Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    if blessing() {
        return std::fs::write(path, actual).with_context(|| format!("writing `{name}`"));
    }
    let expected = std::fs::read_to_string(path)
        .with_context(|| format!("no `{}`; run with BLESS=1", path.display()))?;
    if expected != actual {
        bail!("output differs from `{name}`\n--- expected\n{expected}\n--- actual\n{actual}");
    }
    Ok(())
}

/// A golden file the case does not produce: an error if `path` exists (a stale
/// golden would otherwise go unchecked); with `BLESS=1`, removes it.
pub fn check_absent(path: &Path, why: &str) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    if blessing() {
        return std::fs::remove_file(path)
            .with_context(|| format!("removing `{}`", path.display()));
    }
    bail!(
        "stale `{}`: {why}; remove it or run with BLESS=1",
        path.display()
    )
}

/// The WIT of a component: its world and, after it, every package it uses, as
/// `wasm-tools component wit` prints them. Same bytes, same text.
pub fn wit_of(bytes: &[u8]) -> Result<String> {
    let decoded = wit_component::decode(bytes).context("decoding the component's WIT")?;
    let resolve = decoded.resolve();
    let main = decoded.package();
    let nested: Vec<_> = resolve
        .packages
        .iter()
        .map(|(id, _)| id)
        .filter(|id| *id != main)
        .collect();
    let mut printer = wit_component::WitPrinter::default();
    printer.print(resolve, main, &nested)?;
    Ok(printer.output.to_string())
}
