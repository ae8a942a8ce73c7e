//! What the caches on disk share (the compile cache of `airlock-host`, the
//! verdict cache of [`crate::verdicts`]): a folder only the user may write,
//! and who owns a file and who may write to it. Unix only: elsewhere there is
//! no owner or mode to check, and [`create`] refuses.

use std::path::Path;

/// Creates `dir` and its missing parents with mode 0700 (an existing folder
/// is left as it is: the caller checks it with [`owner`] and [`mode`]).
#[cfg(unix)]
pub fn create(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Off Unix there is nothing to check a folder's owner with: refused.
#[cfg(not(unix))]
pub fn create(_dir: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "caches on disk are implemented for Unix only",
    ))
}

/// The user id that owns a file.
#[cfg(unix)]
pub fn owner(meta: &std::fs::Metadata) -> u32 {
    std::os::unix::fs::MetadataExt::uid(meta)
}

/// A file's permission bits (with setuid, setgid and sticky).
#[cfg(unix)]
pub fn mode(meta: &std::fs::Metadata) -> u32 {
    std::os::unix::fs::MetadataExt::mode(meta) & 0o7777
}

/// True when both are the same file (device and inode).
#[cfg(unix)]
pub fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

/// The user id that owns a file (off Unix: 0).
#[cfg(not(unix))]
pub fn owner(_meta: &std::fs::Metadata) -> u32 {
    0
}

/// A file's permission bits (off Unix: 0).
#[cfg(not(unix))]
pub fn mode(_meta: &std::fs::Metadata) -> u32 {
    0
}

/// True when both are the same file (off Unix: not known, so true).
#[cfg(not(unix))]
pub fn same_file(_a: &std::fs::Metadata, _b: &std::fs::Metadata) -> bool {
    true
}
