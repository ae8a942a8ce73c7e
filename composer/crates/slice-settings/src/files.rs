//! `files = { dir = "/docs/public", as = "/data", read-only = true }` (one
//! host preopen narrowed to a subtree) and `files = { embed = "assets", as =
//! "/assets" }` (a directory of the build machine, embedded read-only).
//!
//! `dir` and `as` are guest paths ([`FilesDir`], [`PreopenName`]): not
//! empty, no `..` component (the root is fixed at build time), no NUL or
//! line break. A narrowed preopen is read-only unless `read-only = false`
//! ([`FilesAccess`]).
//!
//! Settings lines of the files interposer: `dir PATH`, `as NAME`, `read-only
//! BOOL` ([`FilesLine`], [`FilesSettings`]). Of the embed interposer: `as
//! NAME`, `dir PATH`, `file BASE64 PATH` ([`EmbedLine`]), paths relative to
//! the embedded root, contents in standard base64 with padding
//! ([`base64_encode`], [`base64_decode`]).

use crate::{LineError, SliceKind};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

/// Which manifest key a guest path was given under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PathKey {
    /// `dir`
    Dir,
    /// `as`
    As,
}

impl fmt::Display for PathKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathKey::Dir => "dir",
            PathKey::As => "as",
        })
    }
}

/// A guest path that is not plain; the message is the composer's (under
/// the key `files`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    /// The key it was given under.
    pub key: PathKey,
    /// The path as written.
    pub path: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{} = \"{}\"` is not a plain directory path (no `..`, not empty)",
            self.key,
            self.path.escape_debug()
        )
    }
}

impl core::error::Error for PathError {}

/// A guest path: not empty, no `..`, no NUL or line breaks (settings are lines).
fn check_path(key: PathKey, path: &str) -> Result<String, PathError> {
    let bad = path.is_empty()
        || path.chars().any(|c| c == '\0' || c == '\n' || c == '\r')
        || path.split('/').any(|p| p == "..");
    if bad {
        return Err(PathError {
            key,
            path: path.into(),
        });
    }
    Ok(path.into())
}

macro_rules! guest_path {
    ($(#[$doc:meta])* $name:ident, $key:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The path.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = PathError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                check_path($key, s).map(Self)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(p: $name) -> String {
                p.0
            }
        }
    };
}

guest_path!(
    /// `dir`: the narrowed directory, a guest path under one of the host's
    /// preopens (e.g. `/docs/public`).
    FilesDir,
    PathKey::Dir
);

guest_path!(
    /// `as`: the preopen name the library sees (e.g. `/data`).
    PreopenName,
    PathKey::As
);

impl From<FilesDir> for PreopenName {
    /// A narrowed directory seen under its own name (`as` left out).
    fn from(dir: FilesDir) -> Self {
        PreopenName(dir.0)
    }
}

/// Whether the library may change the narrowed files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FilesAccess {
    /// Every change gets `read-only` (the default).
    #[default]
    ReadOnly,
    /// Changes pass (where the host permits them).
    ReadWrite,
}

impl FilesAccess {
    /// From the manifest's `read-only = BOOL` (absent: read-only).
    pub fn from_read_only(read_only: Option<bool>) -> Self {
        match read_only {
            Some(false) => FilesAccess::ReadWrite,
            _ => FilesAccess::ReadOnly,
        }
    }

    /// Whether writes are refused.
    pub fn is_read_only(self) -> bool {
        self == FilesAccess::ReadOnly
    }

    /// `read-only` or `read-write`.
    pub const fn as_str(self) -> &'static str {
        match self {
            FilesAccess::ReadOnly => "read-only",
            FilesAccess::ReadWrite => "read-write",
        }
    }
}

impl fmt::Display for FilesAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FilesAccess {
    type Err = crate::UnknownWord;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read-only" => Ok(FilesAccess::ReadOnly),
            "read-write" => Ok(FilesAccess::ReadWrite),
            _ => Err(crate::UnknownWord::new(s, "read-only, read-write")),
        }
    }
}

/// One settings line of the files interposer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FilesLine {
    /// `dir PATH`
    Dir(FilesDir),
    /// `as NAME`
    As(PreopenName),
    /// `read-only true` or `read-only false`
    ReadOnly(bool),
}

impl fmt::Display for FilesLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilesLine::Dir(dir) => write!(f, "dir {dir}"),
            FilesLine::As(name) => write!(f, "as {name}"),
            FilesLine::ReadOnly(b) => write!(f, "read-only {b}"),
        }
    }
}

impl FromStr for FilesLine {
    type Err = LineError;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let bad = || LineError::new(SliceKind::Files, line);
        match crate::verb(line) {
            ("dir", path) => path.parse().map(FilesLine::Dir).map_err(|_| bad()),
            ("as", name) => name.parse().map(FilesLine::As).map_err(|_| bad()),
            ("read-only", "true") => Ok(FilesLine::ReadOnly(true)),
            ("read-only", "false") => Ok(FilesLine::ReadOnly(false)),
            _ => Err(bad()),
        }
    }
}

/// The files interposer's settings: one narrowed preopen.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FilesSettings {
    /// The narrowed directory (a guest path of the host).
    pub dir: FilesDir,
    /// The preopen name the library sees.
    pub name: PreopenName,
    /// Whether writes are refused.
    pub access: FilesAccess,
}

impl FilesSettings {
    /// The manifest's `dir`, `as` (default: `dir`) and `read-only` (default:
    /// true), checked (`dir` first).
    pub fn from_manifest(
        dir: &str,
        as_name: Option<&str>,
        read_only: Option<bool>,
    ) -> Result<Self, PathError> {
        let dir: FilesDir = dir.parse()?;
        let name = as_name.unwrap_or(dir.as_str()).parse()?;
        Ok(Self {
            dir,
            name,
            access: FilesAccess::from_read_only(read_only),
        })
    }

    /// Reads settings lines (`dir PATH`, `as NAME`, `read-only BOOL`; a later
    /// line wins). Without a readable `dir` there are no settings (the
    /// library sees no preopen); without `as` the name is `dir`; anything
    /// but `read-only false` is read-only. Other lines are skipped.
    pub fn from_lines<S: AsRef<str>>(lines: &[S]) -> Option<Self> {
        let mut dir = None;
        let mut name = None;
        let mut access = FilesAccess::ReadOnly;
        for line in lines {
            match crate::verb(line.as_ref()) {
                ("read-only", rest) => {
                    access = FilesAccess::from_read_only(Some(rest != "false"));
                }
                _ => match line.as_ref().parse() {
                    Ok(FilesLine::Dir(d)) => dir = Some(d),
                    Ok(FilesLine::As(n)) => name = Some(n),
                    _ => {}
                },
            }
        }
        let dir = dir?;
        Some(Self {
            name: name.unwrap_or_else(|| dir.clone().into()),
            dir,
            access,
        })
    }

    /// The settings lines: `dir`, `as`, `read-only`.
    pub fn lines(&self) -> Vec<String> {
        [
            FilesLine::Dir(self.dir.clone()),
            FilesLine::As(self.name.clone()),
            FilesLine::ReadOnly(self.access.is_read_only()),
        ]
        .iter()
        .map(ToString::to_string)
        .collect()
    }
}

/// One settings line of the embed interposer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EmbedLine {
    /// `as NAME`: the preopen name the library sees (default `/`).
    As(PreopenName),
    /// `dir PATH`: a directory, `/`-joined under the root.
    Dir(String),
    /// `file BASE64 PATH`: a file and its contents.
    File {
        /// The contents.
        data: Vec<u8>,
        /// `/`-joined under the root.
        path: String,
    },
}

impl fmt::Display for EmbedLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmbedLine::As(name) => write!(f, "as {name}"),
            EmbedLine::Dir(path) => write!(f, "dir {path}"),
            EmbedLine::File { data, path } => write!(f, "file {} {path}", base64_encode(data)),
        }
    }
}

impl FromStr for EmbedLine {
    type Err = LineError;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let bad = || LineError::new(SliceKind::Files, line);
        match crate::verb(line) {
            ("as", name) => name.parse().map(EmbedLine::As).map_err(|_| bad()),
            ("dir", path) => Ok(EmbedLine::Dir(path.into())),
            ("file", rest) => {
                let (data, path) = rest.split_once(' ').ok_or_else(bad)?;
                let data = base64_decode(data).ok_or_else(bad)?;
                Ok(EmbedLine::File {
                    data,
                    path: path.into(),
                })
            }
            _ => Err(bad()),
        }
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 (with padding) to bytes; `None` when malformed.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = n << 6 | value(c)?;
        }
        n <<= 6 * pad as u32;
        let three = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&three[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn guest_paths_must_be_plain() {
        for good in [
            "/docs/public",
            "/",
            "data",
            "./a",
            "a b",
            "/a/.../b",
            "é",
            "\"q\"",
        ] {
            assert_eq!(good.parse::<FilesDir>().unwrap().to_string(), good);
            assert_eq!(good.parse::<PreopenName>().unwrap().as_str(), good);
        }
        for (bad, says) in [
            (
                "",
                r#"`dir = ""` is not a plain directory path (no `..`, not empty)"#,
            ),
            (
                "/docs/../etc",
                r#"`dir = "/docs/../etc"` is not a plain directory path (no `..`, not empty)"#,
            ),
            (
                "..",
                r#"`dir = ".."` is not a plain directory path (no `..`, not empty)"#,
            ),
            (
                "a/..",
                r#"`dir = "a/.."` is not a plain directory path (no `..`, not empty)"#,
            ),
            (
                "a\0b",
                r#"`dir = "a\0b"` is not a plain directory path (no `..`, not empty)"#,
            ),
            (
                "a\nb",
                r#"`dir = "a\nb"` is not a plain directory path (no `..`, not empty)"#,
            ),
            (
                "a\rb",
                r#"`dir = "a\rb"` is not a plain directory path (no `..`, not empty)"#,
            ),
            (
                "\"q\"/..",
                r#"`dir = "\"q\"/.."` is not a plain directory path (no `..`, not empty)"#,
            ),
        ] {
            assert_eq!(
                bad.parse::<FilesDir>().unwrap_err().to_string(),
                says,
                "{bad:?}"
            );
        }
        assert_eq!(
            "x/../y".parse::<PreopenName>().unwrap_err().to_string(),
            r#"`as = "x/../y"` is not a plain directory path (no `..`, not empty)"#
        );
    }

    #[test]
    fn access_defaults_to_read_only() {
        assert_eq!(FilesAccess::from_read_only(None), FilesAccess::ReadOnly);
        assert_eq!(
            FilesAccess::from_read_only(Some(true)),
            FilesAccess::ReadOnly
        );
        assert_eq!(
            FilesAccess::from_read_only(Some(false)),
            FilesAccess::ReadWrite
        );
        for a in [FilesAccess::ReadOnly, FilesAccess::ReadWrite] {
            assert_eq!(a.to_string().parse(), Ok(a));
        }
        assert!("rw".parse::<FilesAccess>().is_err());
    }

    #[test]
    fn manifest_values_are_checked_dir_first() {
        // golden `slice-files`
        let s = FilesSettings::from_manifest("/docs/public", Some("/data"), None).unwrap();
        assert_eq!(
            s.lines(),
            ["dir /docs/public", "as /data", "read-only true"]
        );
        let s = FilesSettings::from_manifest("/d", None, Some(false)).unwrap();
        assert_eq!(s.name.as_str(), "/d");
        assert_eq!(s.lines(), ["dir /d", "as /d", "read-only false"]);
        let err = FilesSettings::from_manifest("..", Some(".."), None).unwrap_err();
        assert_eq!(err.key, PathKey::Dir);
        let err = FilesSettings::from_manifest("/d", Some(""), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"`as = ""` is not a plain directory path (no `..`, not empty)"#
        );
    }

    #[test]
    fn settings_lines_round_trip_and_read_as_the_interposer_did() {
        let s = FilesSettings::from_manifest("/docs/public", Some("/data"), Some(false)).unwrap();
        assert_eq!(FilesSettings::from_lines(&s.lines()), Some(s.clone()));
        for line in s.lines() {
            let parsed: FilesLine = line.parse().unwrap();
            assert_eq!(parsed.to_string(), line);
        }
        let s = FilesSettings::from_lines(&["dir /docs/public"]).unwrap();
        assert_eq!(
            (s.name.as_str(), s.access),
            ("/docs/public", FilesAccess::ReadOnly)
        );
        let s = FilesSettings::from_lines(&["dir /d", "as /data", "read-only false"]).unwrap();
        assert_eq!(
            (s.name.as_str(), s.access),
            ("/data", FilesAccess::ReadWrite)
        );
        // Anything but `false` is read-only; a later line wins.
        let s = FilesSettings::from_lines(&["dir /d", "read-only false", "read-only no"]).unwrap();
        assert_eq!(s.access, FilesAccess::ReadOnly);
        assert_eq!(FilesSettings::from_lines(&["as /x"]), None);
        assert_eq!(FilesSettings::from_lines(&["dir /a/../b"]), None);
        assert!("read-only yes".parse::<FilesLine>().is_err());
        assert!("mode ro".parse::<FilesLine>().is_err());
    }

    #[test]
    fn base64_pads_and_round_trips() {
        for (bytes, text) in [
            (&b""[..], ""),
            (b"h", "aA=="),
            (b"hi", "aGk="),
            (b"hi!", "aGkh"),
            (&[0xff, 0xfe, 0x00, 0x01], "//4AAQ=="),
        ] {
            assert_eq!(base64_encode(bytes), text);
            assert_eq!(base64_decode(text).as_deref(), Some(bytes));
        }
        assert_eq!(base64_decode("a"), None);
        assert_eq!(base64_decode("a*=="), None);
        assert_eq!(base64_decode("a==="), None);
    }

    #[test]
    fn embed_lines_round_trip() {
        for line in [
            EmbedLine::As("/assets".parse().unwrap()),
            EmbedLine::Dir("sub".into()),
            EmbedLine::Dir(String::new()),
            EmbedLine::File {
                data: b"hi!".to_vec(),
                path: "sub/b c.txt".into(),
            },
            EmbedLine::File {
                data: vec![],
                path: "empty".into(),
            },
        ] {
            assert_eq!(line.to_string().parse(), Ok(line.clone()), "{line}");
        }
        assert_eq!(
            EmbedLine::File {
                data: b"hi".to_vec(),
                path: "a.txt".into()
            }
            .to_string(),
            "file aGk= a.txt"
        );
        assert_eq!("dir".parse(), Ok(EmbedLine::Dir(String::new())));
        for bad in ["file aGk=", "file a a.txt", "as ", "as ..", "link a b"] {
            assert!(bad.parse::<EmbedLine>().is_err(), "{bad}");
        }
    }
}
