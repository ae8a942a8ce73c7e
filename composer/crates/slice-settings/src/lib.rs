//! The settings of Airlock's slices (attenuated capabilities), typed once and
//! shared: the composer checks a manifest's slice keys with these types and
//! writes the interposers' settings lines with them; each interposer reads
//! its lines back with the same types. Each grammar lives in one module:
//!
//! | manifest key           | module      | value types                                  | settings lines |
//! |------------------------|-------------|----------------------------------------------|----------------|
//! | `http`                 | [`http`]    | [`HttpRule`]                                 | [`HttpLine`]: `allow RULE` |
//! | `sockets`              | [`sockets`] | [`SocketAddress`]                            | [`SocketsLine`]: `connect ADDRESS`, `bind ADDRESS` |
//! | `files` (`dir`)        | [`files`]   | [`FilesDir`], [`PreopenName`], [`FilesAccess`] | [`FilesLine`]: `dir PATH`, `as NAME`, `read-only BOOL` |
//! | `files` (`embed`)      | [`files`]   | [`PreopenName`]                              | [`EmbedLine`]: `as NAME`, `dir PATH`, `file BASE64 PATH` |
//! | `stdout`, `stderr`, `stdin` | [`stdio`] | [`StreamMode`], [`StdinMode`]            | [`StdioLine`]: `stdout MODE`, `stderr MODE`, `stdin ...`, `monotonic allow` |
//! | `env-from-host` (`env`, `args`, `cwd`) | [`mod@env`] | [`EnvName`]                      | [`EnvLine`]: `host NAME`, `set NAME=VALUE`, `arg VALUE`, `cwd PATH` |
//! | `clock`                | [`clock`]   | [`Clock`]                                    | [`ClockLine`]: `offset SECONDS` |
//! | `exit`, `stdin`        | (here)      | [`Access`]                                   | |
//!
//! Every type parses with [`FromStr`] (errors say what
//! the composer has always said, word for word: the audit and its golden
//! tests depend on it) and prints with [`Display`](core::fmt::Display) in a
//! form that parses back to the same value. Each module's `...Settings`
//! struct reads an interposer's whole settings (`from_lines`, lenient as the
//! interposers always were: a line it cannot read is skipped or denies more)
//! and writes them (`lines`, as the composer always wrote them).
//!
//! [`audit`] holds what the audit says about slices and denials: [`Slice`]
//! (one audit line per slice), [`DenyReason`] and [`TrapReason`].
//!
//! ```
//! use airlock_slice_settings::{HttpSettings, Slice};
//!
//! // The composer: the manifest's `http` list, checked, to settings lines and an audit line.
//! let http = HttpSettings::from_manifest(&["GET *.Example.com", "* api.example.com:*"])?;
//! assert_eq!(http.lines(), ["allow GET *.example.com", "allow * api.example.com:*"]);
//! assert_eq!(
//!     Slice::Http(http.clone()).to_string(),
//!     "http GET *.example.com; * api.example.com:*"
//! );
//!
//! // The interposer: the same lines, read back.
//! let rules = HttpSettings::from_lines(&http.lines());
//! assert!(rules.allows("GET", "a.example.com", 443, 443));
//! assert!(!rules.allows("GET", "example.com", 443, 443));
//!
//! // A bad rule, in the composer's words.
//! let err = HttpSettings::from_manifest(&["GET example.com:0"]).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "`GET example.com:0`: `0` is not a port (1 to 65535, or `*` for any)"
//! );
//! # Ok::<(), airlock_slice_settings::HttpError>(())
//! ```

#![no_std]

extern crate alloc;

pub mod audit;
pub mod clock;
pub mod env;
pub mod files;
pub mod http;
pub mod ip;
pub mod sockets;
pub mod stdio;

pub use audit::{DenyReason, Slice, TrapReason};
pub use clock::{Clock, ClockError, ClockLine, ClockSettings};
pub use env::{EnvError, EnvLine, EnvName, EnvNameError, EnvSettings};
pub use files::{
    EmbedLine, FilesAccess, FilesDir, FilesLine, FilesSettings, PathError, PreopenName,
};
pub use http::{
    HostPattern, HttpError, HttpLine, HttpRule, HttpRuleError, HttpSettings, PortPattern,
};
pub use sockets::{
    SocketAddress, SocketAddressError, SocketsError, SocketsLine, SocketsSettings, TcpVerb,
};
pub use stdio::{StdinMode, StdinModeError, StdioLine, StdioSettings, StreamMode, StreamModeError};

use alloc::string::String;
use core::fmt;
use core::str::FromStr;

/// The kind of an interposer, which names its instance `LIBRARY.KIND` (e.g.
/// `telemetry.http`) and its built-in component (`<built-in http interposer>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SliceKind {
    /// `env-from-host`: `wasi:cli/environment`, narrowed.
    Env,
    /// `clock = "offset:..."`: the host's wall clock, shifted.
    Clock,
    /// `http`: outgoing HTTP, narrowed to rules.
    Http,
    /// `sockets`: TCP, narrowed to addresses.
    Sockets,
    /// `files`: a narrowed host preopen or an embedded directory.
    Files,
    /// `stdout`, `stderr`, `stdin` (discarding, fixed or mixed streams).
    Stdio,
}

impl SliceKind {
    /// Every kind, in the order the composer adds them.
    pub const ALL: [SliceKind; 6] = [
        SliceKind::Env,
        SliceKind::Clock,
        SliceKind::Http,
        SliceKind::Sockets,
        SliceKind::Files,
        SliceKind::Stdio,
    ];

    /// The kind's name, e.g. `http`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SliceKind::Env => "env",
            SliceKind::Clock => "clock",
            SliceKind::Http => "http",
            SliceKind::Sockets => "sockets",
            SliceKind::Files => "files",
            SliceKind::Stdio => "stdio",
        }
    }
}

impl fmt::Display for SliceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SliceKind {
    type Err = UnknownWord;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SliceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownWord::new(s, "env, clock, http, sockets, files, stdio"))
    }
}

/// `allow` or `deny` (`exit`, `stdin`, and the settings line `monotonic allow`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    /// Granted from the host (the allow-list must permit it).
    Allow,
    /// Denied inside the output.
    Deny,
}

impl Access {
    /// Both, in the manifest's order.
    pub const ALL: [Access; 2] = [Access::Allow, Access::Deny];

    /// Their words (for serde's `deserialize_enum`).
    pub const WORDS: [&'static str; 2] = ["allow", "deny"];

    /// `allow` or `deny`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Access::Allow => "allow",
            Access::Deny => "deny",
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Access {
    type Err = AccessError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "allow" => Ok(Access::Allow),
            "deny" => Ok(Access::Deny),
            _ => Err(AccessError { text: s.into() }),
        }
    }
}

/// Neither `allow` nor `deny`. The message is serde's for the manifest's
/// `exit = "..."`, word for word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessError {
    /// The text given.
    pub text: String,
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown variant `{}`, expected `allow` or `deny`",
            self.text
        )
    }
}

impl core::error::Error for AccessError {}

/// A settings line an interposer cannot read (the composer never writes one;
/// `from_lines` skips it, which denies more).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// Whose settings.
    pub kind: SliceKind,
    /// The line.
    pub line: String,
}

impl LineError {
    pub(crate) fn new(kind: SliceKind, line: &str) -> Self {
        Self {
            kind,
            line: line.into(),
        }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a setting of the {} interposer",
            self.line.escape_debug(),
            self.kind
        )
    }
}

impl core::error::Error for LineError {}

/// A keyword that is not one of the expected ones (for types whose text
/// never came from a user: slice kinds, denial and trap reasons).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownWord {
    /// The text given.
    pub text: String,
    /// The words expected, comma separated.
    pub expected: &'static str,
}

impl UnknownWord {
    pub(crate) fn new(text: &str, expected: &'static str) -> Self {
        Self {
            text: text.into(),
            expected,
        }
    }
}

impl fmt::Display for UnknownWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown word `{}`; expected one of: {}",
            self.text, self.expected
        )
    }
}

impl core::error::Error for UnknownWord {}

/// A port as the composer reads it: 1 to 5 ASCII digits, at least `min`.
/// Returns the number and how many leading zeros it was written with (the
/// audit has always shown ports as written: `:080` stays `:080`).
pub(crate) fn port_digits(p: &str, min: u16) -> Option<(u16, u8)> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u16 = p.parse().ok().filter(|n| *n >= min)?;
    let significant = p.trim_start_matches('0').len().max(1);
    Some((n, (p.len() - significant) as u8))
}

/// Writes a port as it was written: `zeros` leading zeros, then the number.
pub(crate) fn write_port(f: &mut fmt::Formatter<'_>, port: u16, zeros: u8) -> fmt::Result {
    for _ in 0..zeros {
        f.write_str("0")?;
    }
    write!(f, "{port}")
}

/// A settings line split at its first space: `(verb, rest)`; a line without
/// a space is all verb (how every interposer has always read its lines).
pub(crate) fn verb(line: &str) -> (&str, &str) {
    line.split_once(' ').unwrap_or((line, ""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn access_round_trips_and_says_what_serde_says() {
        for (a, w) in Access::ALL.into_iter().zip(Access::WORDS) {
            assert_eq!(a.to_string().parse(), Ok(a));
            assert_eq!(a.as_str(), w);
        }
        assert_eq!(
            "discard".parse::<Access>().unwrap_err().to_string(),
            "unknown variant `discard`, expected `allow` or `deny`"
        );
        assert!("Allow".parse::<Access>().is_err());
    }

    #[test]
    fn slice_kinds_round_trip() {
        for k in SliceKind::ALL {
            assert_eq!(k.to_string().parse(), Ok(k));
        }
        assert_eq!(SliceKind::Http.to_string(), "http");
        assert!("exit".parse::<SliceKind>().is_err());
    }

    #[test]
    fn ports_keep_their_leading_zeros() {
        assert_eq!(port_digits("80", 1), Some((80, 0)));
        assert_eq!(port_digits("080", 1), Some((80, 1)));
        assert_eq!(port_digits("00000", 0), Some((0, 4)));
        assert_eq!(port_digits("0", 0), Some((0, 0)));
        assert_eq!(port_digits("0", 1), None);
        assert_eq!(port_digits("000000", 0), None);
        assert_eq!(port_digits("65536", 0), None);
        assert_eq!(port_digits("+80", 0), None);
        assert_eq!(port_digits("", 0), None);
    }

    /// Every settings line the composer writes reads back as itself.
    #[test]
    fn settings_lines_round_trip() {
        fn same<T: FromStr + fmt::Display>(lines: &[&str]) {
            for line in lines {
                let parsed = line.parse::<T>().ok().map(|v| v.to_string());
                assert_eq!(parsed.as_deref(), Some(*line));
            }
        }
        same::<HttpLine>(&[
            "allow GET *.example.com",
            "allow * [::1]:*",
            "allow A,B a:080",
        ]);
        same::<SocketsLine>(&["connect 127.0.0.1:8080", "bind [::1]:*", "bind 0.0.0.0:00"]);
        same::<FilesLine>(&[
            "dir /docs/public",
            "as /data",
            "read-only true",
            "read-only false",
        ]);
        same::<EmbedLine>(&["as /", "dir a b", "dir ", "file aGk= a.txt", "file  empty"]);
        same::<StdioLine>(&[
            "stdout discard",
            "stderr allow",
            "stdin deny",
            "stdin fixed two\nlines",
            "stdin fixed ",
            "monotonic allow",
        ]);
        same::<EnvLine>(&[
            "host LANG",
            "set A=x=y",
            "set A=",
            "arg ",
            "arg a b",
            "cwd /w",
        ]);
        same::<ClockLine>(&["offset -3600", "offset 0", "offset 9223372036854775807"]);
    }

    #[test]
    fn lines_split_at_the_first_space() {
        assert_eq!(verb("stdin fixed a b"), ("stdin", "fixed a b"));
        assert_eq!(verb("arg"), ("arg", ""));
        assert_eq!(verb("arg "), ("arg", ""));
    }
}
