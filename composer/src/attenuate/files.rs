//! `files = { dir = "/docs/public", as = "/data", read-only = true }`: one
//! host preopen narrowed to a subtree. `dir` is a guest path under one of
//! the host's preopens; the library sees one preopen, named `as` (default:
//! `dir`), whose root is that subtree, read-only unless `read-only = false`.
//! The files interposer (`components/interpose-files`) serves
//! `wasi:filesystem/types` and `preopens` over the host's and resolves every
//! path inside the root (absolute paths, `..` above the root and symlinks
//! leading out get `not-permitted`; writes to a read-only slice get
//! `read-only`). Settings: `dir PATH`, `as NAME`, `read-only BOOL`.
//!
//! Streams (`read-via-stream`) are the host's, so the library gets
//! `wasi:io/streams` (and `error`, `poll`) from the host too: the handle
//! types must be the interposer's.
//!
//! `files = { embed = "assets" }` (a directory of the build machine inside
//! the output) is validated but not served yet: it is refused with a clear
//! error.

use super::{Interposer, SliceError, Slices};
use crate::manifest::{ComponentSpec, FilesSpec, StdinSpec, StreamMode};
use crate::names::InterfaceName;
use crate::policy::Pattern;
use std::path::Path;

/// `components/interpose-files`, prebuilt (`just interposers`).
const WASM: &[u8] = include_bytes!("../../interposers/files.wasm");

/// The library imports the interposer serves.
const WIRES: [&str; 2] = ["wasi:filesystem/types", "wasi:filesystem/preopens"];

/// What the library shares with the host beside: the resources of the
/// streams that `read-via-stream` and friends hand out.
const SHARED: [&str; 3] = ["wasi:io/streams", "wasi:io/error", "wasi:io/poll"];

/// The WASI version grant patterns are checked at.
const VERSION: &str = "0.2.12";

pub(super) fn add(c: &ComponentSpec, base: &Path, out: &mut Slices) -> Result<(), SliceError> {
    let Some(files) = &c.files else {
        return Ok(());
    };
    refuse_conflicts(c)?;
    match (&files.dir, &files.embed) {
        (Some(dir), None) => narrow(files, dir, out),
        (None, Some(embed)) => embedded(files, &base.join(embed)),
        (Some(_), Some(_)) => Err(SliceError::new(
            "files",
            "give either `dir` (a narrowed host preopen) or `embed` (a directory to embed), not both",
        )),
        (None, None) => Err(SliceError::new(
            "files",
            "needs `dir` (a host directory, e.g. `dir = \"/docs/public\"`) or `embed` (a directory to embed)",
        )),
    }
}

/// (b) the narrowed host preopen.
fn narrow(files: &FilesSpec, dir: &str, out: &mut Slices) -> Result<(), SliceError> {
    check_path("dir", dir)?;
    let name = files.as_name.clone().unwrap_or_else(|| dir.to_string());
    check_path("as", &name)?;
    let read_only = files.read_only.unwrap_or(true);
    let mode = if read_only { "read-only" } else { "read-write" };
    out.interposers.push(Interposer {
        kind: "files",
        wasm: WASM,
        wires: WIRES.to_vec(),
        grants: WIRES.to_vec(),
        library_grants: SHARED.to_vec(),
        config: vec![
            format!("dir {dir}"),
            format!("as {name}"),
            format!("read-only {read_only}"),
        ],
        summary: if name == dir {
            format!("files {dir} ({mode})")
        } else {
            format!("files {dir} as {name} ({mode})")
        },
    });
    Ok(())
}

/// (a) an embedded directory: checked, then refused (not served yet).
fn embedded(files: &FilesSpec, dir: &Path) -> Result<(), SliceError> {
    if files.read_only == Some(false) {
        return Err(SliceError::new(
            "files",
            "an embedded directory is read-only: drop `read-only = false`",
        ));
    }
    if !dir.is_dir() {
        return Err(SliceError::new(
            "files",
            format!("`embed` directory `{}` does not exist", dir.display()),
        ));
    }
    Err(SliceError::new(
        "files",
        format!(
            "`embed` (`{}`) is not supported yet: the library's file streams would have to be \
             served inside the output; use `dir` with a host preopen",
            dir.display()
        ),
    ))
}

/// A guest path: not empty, no `..` (the root is fixed at build time), no
/// NUL or line breaks (settings are lines).
fn check_path(key: &str, path: &str) -> Result<(), SliceError> {
    let bad = path.is_empty()
        || path.chars().any(|c| c == '\0' || c == '\n' || c == '\r')
        || path.split('/').any(|p| p == "..");
    if bad {
        return Err(SliceError::new(
            "files",
            format!(
                "`{key} = \"{}\"` is not a plain directory path (no `..`, not empty)",
                path.escape_debug()
            ),
        ));
    }
    Ok(())
}

/// Combinations the slice cannot serve: a direct grant of the filesystem
/// (it would bypass the interposer), or a stdio interposer (it serves the
/// library's `wasi:io` itself, so host file streams could not pass).
fn refuse_conflicts(c: &ComponentSpec) -> Result<(), SliceError> {
    for text in &c.grant {
        let Ok(pattern) = text.parse::<Pattern>() else {
            continue; // reported where grants are parsed
        };
        for interface in WIRES {
            let hit = InterfaceName::parse(&format!("{interface}@{VERSION}"))
                .is_some_and(|n| pattern.matches(&n));
            if hit {
                return Err(SliceError::new(
                    "files",
                    format!(
                        "the grant `{text}` gives the library `{interface}` directly, past the \
                         narrowed directory; narrow the grant"
                    ),
                ));
            }
        }
    }
    let stdio_interposed = c.stdout == Some(StreamMode::Discard)
        || c.stderr == Some(StreamMode::Discard)
        || matches!(c.stdin, Some(StdinSpec::Fixed { .. }));
    if stdio_interposed {
        return Err(SliceError::new(
            "files",
            "cannot be combined with a discarded or fixed stdio stream: the file streams are the \
             host's `wasi:io/streams`, which the stdio interposer replaces",
        ));
    }
    Ok(())
}
