//! `files = { dir = "/docs/public", as = "/data", read-only = true }`: one
//! host preopen narrowed to a subtree. `dir` is a guest path under one of
//! the host's preopens; the library sees one preopen, named `as` (default:
//! `dir`), whose root is that subtree, read-only unless `read-only = false`.
//! The files interposer (`composer/interposers/files`) serves
//! `wasi:filesystem/types` and `preopens` over the host's and resolves every
//! path inside the root (absolute paths, `..` above the root and symlinks
//! leading out get `not-permitted`; writes to a read-only slice get
//! `read-only`). Settings: `dir PATH`, `as NAME`, `read-only BOOL`.
//!
//! Streams (`read-via-stream`) are the host's, so the library gets
//! `wasi:io/streams` (and `error`, `poll`) from the host too: the handle
//! types must be the interposer's.
//!
//! `files = { embed = "assets", as = "/assets" }`: a directory of the build
//! machine (relative to the manifest), embedded read-only in the output and
//! served by the embed interposer (`composer/interposers/embed`) with no host
//! at all. Reading through streams needs input streams over embedded bytes,
//! which no host stream can be, so that interposer serves the library's
//! `wasi:io` (and `wasi:clocks/monotonic-clock`, whose pollables are
//! `wasi:io`'s) too; anything that would hand the library host streams
//! (stdio `allow`, grants of `wasi:cli/std*`, `wasi:http`, `wasi:sockets`) is
//! refused. Settings: `as NAME`, `dir PATH`, `file BASE64 PATH`.

use super::{Interposer, SliceError, Slices};
use crate::manifest::{ComponentSpec, FilesSpec};
use crate::names::InterfaceName;
use crate::policy::Pattern;
use airlock_slice_settings::{
    Clock, EmbedLine, FilesSettings, PathError, PreopenName, Slice, SliceKind, StdinMode,
    StreamMode,
};
use std::path::Path;

/// `composer/interposers/files`, prebuilt (`just interposers`).
const WASM: &[u8] = include_bytes!("../../../../interposers/files.wasm");

/// `composer/interposers/embed`, prebuilt (`just interposers`).
const EMBED_WASM: &[u8] = include_bytes!("../../../../interposers/embed.wasm");

/// What the embed interposer serves: the files and every `wasi:io` type.
const EMBED_WIRES: [&str; 5] = [
    "wasi:filesystem/types@0.2",
    "wasi:filesystem/preopens@0.2",
    "wasi:io/streams@0.2",
    "wasi:io/poll@0.2",
    "wasi:io/error@0.2",
];

/// Its pollables are `wasi:io/poll`'s, so it serves this too (denied: zero,
/// always ready) unless a frozen clock does.
const MONOTONIC: &str = "wasi:clocks/monotonic-clock@0.2";

/// Interfaces whose types are `wasi:io`'s: from the host they would hand the
/// library streams or pollables that the embed interposer's `wasi:io` cannot take.
const HOST_IO: [&str; 12] = [
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:clocks/monotonic-clock",
    "wasi:sockets/tcp",
    "wasi:sockets/udp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/udp-create-socket",
    "wasi:sockets/ip-name-lookup",
    "wasi:http/types",
    "wasi:http/outgoing-handler",
    "wasi:http/incoming-handler",
];

/// The most an embedded directory may hold (bytes of file contents): the
/// output carries it all, a third larger (base64).
pub const EMBED_LIMIT: u64 = 8 * 1024 * 1024;

/// The library imports the interposer serves (WASI 0.2 only: a 0.3 import
/// under a files slice is refused by the planner).
const WIRES: [&str; 2] = ["wasi:filesystem/types@0.2", "wasi:filesystem/preopens@0.2"];

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
        (None, Some(embed)) => embedded(c, files, embed, &base.join(embed), out),
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
    let settings = FilesSettings::from_manifest(dir, files.as_name.as_deref(), files.read_only)
        .map_err(bad_path)?;
    out.interposers.push(Interposer {
        kind: SliceKind::Files.as_str(),
        wasm: WASM,
        wires: WIRES.to_vec(),
        grants: WIRES.to_vec(),
        library_grants: SHARED.to_vec(),
        config: settings.lines(),
        summary: Slice::Files(settings),
    });
    Ok(())
}

/// `dir` or `as` is not a plain guest path.
fn bad_path(e: PathError) -> SliceError {
    SliceError::new("files", e.to_string())
}

/// (a) an embedded directory.
fn embedded(
    c: &ComponentSpec,
    files: &FilesSpec,
    written: &Path,
    dir: &Path,
    out: &mut Slices,
) -> Result<(), SliceError> {
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
    refuse_host_io(c)?;
    let name: PreopenName = files
        .as_name
        .as_deref()
        .unwrap_or("/")
        .parse()
        .map_err(bad_path)?;
    let mut config = vec![EmbedLine::As(name.clone()).to_string()];
    let mut total = 0u64;
    let mut counts = (0usize, 0usize);
    walk(dir, "", &mut config, &mut total, &mut counts)?;
    let mut wires = EMBED_WIRES.to_vec();
    // A frozen clock serves it as a virtual value instead (an offset clock
    // only shifts the wall clock).
    let frozen = c
        .clock
        .as_deref()
        .is_some_and(|t| !Clock::is_offset_text(t));
    if !frozen {
        wires.push(MONOTONIC);
    }
    let summary = Slice::FilesEmbedded {
        from: written.display().to_string(),
        name,
        files: counts.0,
        directories: counts.1,
        bytes: total,
    };
    out.interposers.push(Interposer {
        kind: SliceKind::Files.as_str(),
        wasm: EMBED_WASM,
        wires,
        grants: Vec::new(),
        library_grants: Vec::new(),
        config,
        summary,
    });
    Ok(())
}

/// Adds the settings lines for the directory `dir` (at `rel` under the
/// root), sorted by name. Only plain files and directories: a symlink could
/// point anywhere on the build machine.
fn walk(
    dir: &Path,
    rel: &str,
    config: &mut Vec<String>,
    total: &mut u64,
    counts: &mut (usize, usize),
) -> Result<(), SliceError> {
    let io = |e: std::io::Error, path: &Path| {
        SliceError::new("files", format!("cannot read `{}`: {e}", path.display()))
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(|e| io(e, dir))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| io(e, dir))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            return Err(SliceError::new(
                "files",
                format!("`{}` is not a UTF-8 name", path.display()),
            ));
        };
        let rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let kind = entry.file_type().map_err(|e| io(e, &path))?;
        if kind.is_dir() {
            counts.1 += 1;
            config.push(EmbedLine::Dir(rel.clone()).to_string());
            walk(&path, &rel, config, total, counts)?;
        } else if kind.is_file() {
            let bytes = std::fs::read(&path).map_err(|e| io(e, &path))?;
            *total += bytes.len() as u64;
            if *total > EMBED_LIMIT {
                return Err(SliceError::new(
                    "files",
                    format!(
                        "`embed` directory holds more than {} MiB (at `{}`); embed less",
                        EMBED_LIMIT >> 20,
                        path.display()
                    ),
                ));
            }
            counts.0 += 1;
            config.push(
                EmbedLine::File {
                    data: bytes,
                    path: rel,
                }
                .to_string(),
            );
        } else {
            return Err(SliceError::new(
                "files",
                format!(
                    "`{}` is not a plain file or directory (symlinks are not embedded)",
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

/// The embed interposer serves the library's `wasi:io`: anything handing it
/// host streams or pollables cannot be combined with it.
fn refuse_host_io(c: &ComponentSpec) -> Result<(), SliceError> {
    let allowed = [
        (c.stdout == Some(StreamMode::Allow), "stdout = \"allow\""),
        (c.stderr == Some(StreamMode::Allow), "stderr = \"allow\""),
        (c.stdin == Some(StdinMode::Allow), "stdin = \"allow\""),
        (c.http.is_some(), "http"),
        (c.sockets.is_some(), "sockets"),
    ];
    if let Some((_, what)) = allowed.iter().find(|(on, _)| *on) {
        return Err(SliceError::new(
            "files",
            format!(
                "an embedded directory serves the library's `wasi:io` streams itself, so it \
                 cannot be combined with `{what}` (host streams); use `dir` with a host preopen"
            ),
        ));
    }
    for text in &c.grant {
        let Ok(pattern) = text.parse::<Pattern>() else {
            continue;
        };
        for interface in HOST_IO.iter().chain(&SHARED) {
            if InterfaceName::parse(&format!("{interface}@{VERSION}"))
                .is_some_and(|n| pattern.matches(&n))
            {
                return Err(SliceError::new(
                    "files",
                    format!(
                        "an embedded directory serves the library's `wasi:io` streams itself, so \
                         it cannot be combined with the grant `{text}`, which gives the library \
                         `{interface}` from the host; narrow the grant"
                    ),
                ));
            }
        }
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
        for wire in WIRES {
            let interface = wire.trim_end_matches("@0.2");
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
        || matches!(c.stdin, Some(StdinMode::Fixed(_)));
    if stdio_interposed {
        return Err(SliceError::new(
            "files",
            "cannot be combined with a discarded or fixed stdio stream: the stdio interposer \
             serves the library's `wasi:io` streams, and file streams cannot be its",
        ));
    }
    Ok(())
}
