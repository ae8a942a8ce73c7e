//! Attenuated capabilities: a host interface passed through NARROWED, inside
//! the output. Each kind (`env-from-host`, an offset clock, outgoing HTTP
//! rules, ...) is served by a small interposer component written in Rust
//! (crates in `composer/interposers/KIND/`, prebuilt as `composer/interposers/KIND.wasm`): it imports
//! the host's interface and exports the same interface, filtered.
//!
//! The composer adds the interposer as one more instance beside the library,
//! named `LIBRARY.KIND` (e.g. `telemetry.http`):
//! - the library's matching imports are wired to it;
//! - it is granted the host interface it filters (which the allow-list must
//!   permit: the output really imports it);
//! - its settings come from `airlock:interpose/config`, which the composer
//!   serves inside the output as fixed data (a virtual value), so nothing is
//!   configured at run time.
//!
//! The spec lists every slice's interposer; once the libraries are read,
//! [`keep_used`] leaves out those whose library imports nothing they serve.
//! Everything else (planning, denial of what the interposer does not need,
//! verification of the output's imports) is the ordinary pipeline.

mod clock;
mod env;
mod exit;
mod files;
mod http;
mod sockets;
mod stdio;
mod used;

pub use used::keep_used;

pub use airlock_slice_settings::Slice;

use crate::manifest::ComponentSpec;
use std::path::Path;

/// The interface that carries an interposer's settings.
pub const CONFIG_INTERFACE: &str = "airlock:interpose/config";

/// One interposer instance to add beside a library instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interposer {
    /// The kind, e.g. `http`: the instance is named `LIBRARY.KIND`.
    pub kind: &'static str,
    /// The prebuilt interposer component.
    pub wasm: &'static [u8],
    /// Import patterns of the library served by the interposer.
    pub wires: Vec<&'static str>,
    /// What the interposer itself is granted from the host.
    pub grants: Vec<&'static str>,
    /// What the library is granted beside (interfaces whose types it shares
    /// with the host through the interposer, e.g. `wasi:http/types`).
    pub library_grants: Vec<&'static str>,
    /// Its settings (`airlock:interpose/config.get`), one per line.
    pub config: Vec<String>,
    /// The audit's description of the slice, e.g. `http GET *.example.com`.
    pub summary: Slice,
}

/// Direct grants that a manifest key stands for (`exit = "allow"`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Slices {
    /// Interposers to add.
    pub interposers: Vec<Interposer>,
    /// Host interfaces granted to the library directly, with the key that asked.
    pub grants: Vec<(&'static str, &'static str)>,
    /// Host interfaces denied to the library even where a wider grant would
    /// reach them (a denial wins over grants), with the key that asked.
    pub denies: Vec<(&'static str, &'static str)>,
    /// Audit lines for the slices that are plain grants or denials.
    pub summary: Vec<Slice>,
}

/// A manifest key whose value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceError {
    /// The manifest key, e.g. `http`.
    pub key: &'static str,
    /// What is wrong.
    pub message: String,
}

impl SliceError {
    pub(crate) fn new(key: &'static str, message: impl Into<String>) -> Self {
        Self {
            key,
            message: message.into(),
        }
    }
}

/// The slices `[components.NAME]` asks for. `base` is the manifest's folder
/// (for embedded files). Each kind adds its interposer, direct grants or
/// audit lines to `out`.
pub fn slices(c: &ComponentSpec, base: &Path) -> Result<Slices, SliceError> {
    let mut out = Slices::default();
    env::add(c, &mut out)?;
    clock::add(c, &mut out)?;
    http::add(c, &mut out)?;
    sockets::add(c, &mut out)?;
    files::add(c, base, &mut out)?;
    stdio::add(c, &mut out)?;
    exit::add(c, &mut out);
    Ok(out)
}

/// Test helpers for the kinds' own tests.
#[cfg(test)]
mod testing {
    use super::{SliceError, Slices};
    use crate::manifest::{ComponentSpec, Manifest};
    use std::path::Path;

    /// The `[components.lib]` table of a manifest with `keys` in it.
    fn spec(keys: &str) -> ComponentSpec {
        let text =
            format!("[output]\nroot = \"lib\"\n\n[components.lib]\npath = \"lib.wasm\"\n{keys}\n");
        let mut m = Manifest::parse(&text, Path::new("airlock.toml")).unwrap();
        m.components.remove("lib").unwrap()
    }

    /// What one kind's `add` makes of `keys`.
    pub(super) fn slices(
        keys: &str,
        add: fn(&ComponentSpec, &mut Slices) -> Result<(), SliceError>,
    ) -> Result<Slices, SliceError> {
        let mut out = Slices::default();
        add(&spec(keys), &mut out).map(|()| out)
    }
}
