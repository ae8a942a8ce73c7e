//! `stdout`, `stderr` = `allow` | `discard` | `deny` ([`StreamMode`]) and
//! `stdin` = `allow` | `deny` | `{ fixed = "text" }` ([`StdinMode`]).
//!
//! Settings lines of the stdio interposer ([`StdioLine`]): `stdout MODE`,
//! `stderr MODE`, `stdin allow`, `stdin deny`, `stdin fixed TEXT` (the rest
//! of the line, spaces and line breaks included), `monotonic allow`. A
//! stream not named is closed, the monotonic clock denied.

use crate::{Access, LineError, SliceKind};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

/// What an output stream (stdout, stderr) does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StreamMode {
    /// The host's stream (the allow-list must permit it).
    Allow,
    /// Writes succeed and go nowhere.
    Discard,
    /// Closed: every write fails with `closed` (the default).
    #[default]
    Deny,
}

impl StreamMode {
    /// Every mode, in the manifest's order.
    pub const ALL: [StreamMode; 3] = [StreamMode::Allow, StreamMode::Discard, StreamMode::Deny];

    /// Their words (for serde's `deserialize_enum`).
    pub const WORDS: [&'static str; 3] = ["allow", "discard", "deny"];

    /// `allow`, `discard` or `deny`.
    pub const fn as_str(self) -> &'static str {
        match self {
            StreamMode::Allow => "allow",
            StreamMode::Discard => "discard",
            StreamMode::Deny => "deny",
        }
    }
}

impl fmt::Display for StreamMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StreamMode {
    type Err = StreamModeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "allow" => Ok(StreamMode::Allow),
            "discard" => Ok(StreamMode::Discard),
            "deny" => Ok(StreamMode::Deny),
            _ => Err(StreamModeError { text: s.into() }),
        }
    }
}

/// Not a stream mode. The message is serde's for the manifest's `stdout =
/// "..."`, word for word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamModeError {
    /// The text given.
    pub text: String,
}

impl fmt::Display for StreamModeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown variant `{}`, expected one of `allow`, `discard`, `deny`",
            self.text
        )
    }
}

impl core::error::Error for StreamModeError {}

/// What stdin yields.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StdinMode {
    /// The host's stdin (the allow-list must permit it).
    Allow,
    /// Closed: end of stream at once (the default).
    #[default]
    Deny,
    /// This text, then end of stream.
    Fixed(String),
}

impl From<Access> for StdinMode {
    fn from(a: Access) -> Self {
        match a {
            Access::Allow => StdinMode::Allow,
            Access::Deny => StdinMode::Deny,
        }
    }
}

/// `allow`, `deny` or `fixed TEXT` (the settings line's form; the manifest
/// writes the last as `{ fixed = "TEXT" }`).
impl fmt::Display for StdinMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StdinMode::Allow => f.write_str("allow"),
            StdinMode::Deny => f.write_str("deny"),
            StdinMode::Fixed(text) => write!(f, "fixed {text}"),
        }
    }
}

impl FromStr for StdinMode {
    type Err = StdinModeError;

    /// `allow`, `deny`, `fixed TEXT`, or `fixed` alone (no text). The
    /// manifest's string form is [`Access`] only: `stdin = "fixed x"` is
    /// not a manifest value.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match crate::verb(s) {
            ("allow", "") if s == "allow" => Ok(StdinMode::Allow),
            ("deny", "") if s == "deny" => Ok(StdinMode::Deny),
            ("fixed", text) => Ok(StdinMode::Fixed(text.into())),
            _ => Err(StdinModeError { text: s.into() }),
        }
    }
}

/// Not a stdin mode. The message is the manifest's for `stdin`, word for
/// word (serde's `expecting` of the untagged `stdin` value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StdinModeError {
    /// The text given.
    pub text: String,
}

/// What the manifest's `stdin` expects.
pub const STDIN_EXPECTED: &str = "expected `allow`, `deny` or `{ fixed = \"text\" }`";

impl fmt::Display for StdinModeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(STDIN_EXPECTED)
    }
}

impl core::error::Error for StdinModeError {}

/// One settings line of the stdio interposer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StdioLine {
    /// `stdout MODE`
    Stdout(StreamMode),
    /// `stderr MODE`
    Stderr(StreamMode),
    /// `stdin allow`, `stdin deny`, `stdin fixed TEXT`
    Stdin(StdinMode),
    /// `monotonic allow` (the host's monotonic clock) or `monotonic deny`
    Monotonic(Access),
}

impl fmt::Display for StdioLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StdioLine::Stdout(m) => write!(f, "stdout {m}"),
            StdioLine::Stderr(m) => write!(f, "stderr {m}"),
            StdioLine::Stdin(m) => write!(f, "stdin {m}"),
            StdioLine::Monotonic(a) => write!(f, "monotonic {a}"),
        }
    }
}

impl FromStr for StdioLine {
    type Err = LineError;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let bad = || LineError::new(SliceKind::Stdio, line);
        let (stream, rest) = crate::verb(line);
        match stream {
            "stdout" => rest.parse().map(StdioLine::Stdout).map_err(|_| bad()),
            "stderr" => rest.parse().map(StdioLine::Stderr).map_err(|_| bad()),
            "stdin" => rest.parse().map(StdioLine::Stdin).map_err(|_| bad()),
            "monotonic" => rest.parse().map(StdioLine::Monotonic).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

/// The stdio interposer's settings. Default: every stream closed, the
/// monotonic clock denied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct StdioSettings {
    /// Standard output.
    pub stdout: StreamMode,
    /// Standard error.
    pub stderr: StreamMode,
    /// Standard input.
    pub stdin: StdinMode,
    /// The host's monotonic clock (else zero, and pollables ready at once).
    pub monotonic: bool,
}

impl StdioSettings {
    /// Reads settings lines; a later line wins. A stream line whose mode
    /// cannot be read closes the stream, `monotonic` anything but `allow`
    /// denies the clock, other lines are skipped (when in doubt, deny).
    pub fn from_lines<S: AsRef<str>>(lines: &[S]) -> Self {
        let mut s = Self::default();
        for line in lines {
            let (stream, rest) = crate::verb(line.as_ref());
            match stream {
                "stdout" => s.stdout = rest.parse().unwrap_or_default(),
                "stderr" => s.stderr = rest.parse().unwrap_or_default(),
                "stdin" => s.stdin = rest.parse().unwrap_or_default(),
                "monotonic" => s.monotonic = rest == "allow",
                _ => {}
            }
        }
        s
    }

    /// The settings lines: `stdout`, `stderr`, `stdin`, then `monotonic
    /// allow` when the clock is the host's.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::from([
            StdioLine::Stdout(self.stdout),
            StdioLine::Stderr(self.stderr),
            StdioLine::Stdin(self.stdin.clone()),
        ]);
        if self.monotonic {
            lines.push(StdioLine::Monotonic(Access::Allow));
        }
        lines.iter().map(ToString::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_modes_round_trip_and_say_what_serde_says() {
        for (m, w) in StreamMode::ALL.into_iter().zip(StreamMode::WORDS) {
            assert_eq!(m.to_string().parse(), Ok(m));
            assert_eq!(m.as_str(), w);
        }
        assert_eq!(
            "ALLOW".parse::<StreamMode>().unwrap_err().to_string(),
            "unknown variant `ALLOW`, expected one of `allow`, `discard`, `deny`"
        );
        assert_eq!(StreamMode::default(), StreamMode::Deny);
    }

    #[test]
    fn stdin_modes_round_trip() {
        for m in [
            StdinMode::Allow,
            StdinMode::Deny,
            StdinMode::Fixed("hello, world".into()),
            StdinMode::Fixed("two\nlines ".into()),
            StdinMode::Fixed(" lead".into()),
            StdinMode::Fixed(String::new()),
        ] {
            assert_eq!(m.to_string().parse(), Ok(m.clone()), "{m:?}");
        }
        assert_eq!("fixed".parse(), Ok(StdinMode::Fixed(String::new())));
        assert_eq!(StdinMode::from(Access::Allow), StdinMode::Allow);
        for bad in ["discard", "allow x", "deny ", "fixd x", ""] {
            assert_eq!(
                bad.parse::<StdinMode>().unwrap_err().to_string(),
                "expected `allow`, `deny` or `{ fixed = \"text\" }`",
                "{bad}"
            );
        }
    }

    #[test]
    fn settings_lines_are_the_composers() {
        // golden `slice-stdio`
        let s = StdioSettings {
            stdout: StreamMode::Discard,
            stderr: StreamMode::Allow,
            stdin: StdinMode::Fixed("hello, world".into()),
            monotonic: false,
        };
        assert_eq!(
            s.lines(),
            ["stdout discard", "stderr allow", "stdin fixed hello, world"]
        );
        assert_eq!(StdioSettings::from_lines(&s.lines()), s);
        let s = StdioSettings {
            stdout: StreamMode::Discard,
            monotonic: true,
            ..StdioSettings::default()
        };
        assert_eq!(
            s.lines(),
            [
                "stdout discard",
                "stderr deny",
                "stdin deny",
                "monotonic allow"
            ]
        );
        assert_eq!(StdioSettings::from_lines(&s.lines()), s);
        for line in s.lines() {
            assert_eq!(line.parse::<StdioLine>().unwrap().to_string(), line);
        }
    }

    #[test]
    fn unreadable_settings_close_streams() {
        let none: [&str; 0] = [];
        assert_eq!(StdioSettings::from_lines(&none), StdioSettings::default());
        let odd = StdioSettings::from_lines(&["stdout ALLOW", "stderr yes", "stdin fixd x"]);
        assert_eq!(odd, StdioSettings::default());
        // An unreadable line after a good one closes the stream again.
        let s =
            StdioSettings::from_lines(&["stdout allow", "stdout ALLOW", "stdin allow", "stdin"]);
        assert_eq!(s, StdioSettings::default());
        let s = StdioSettings::from_lines(&[
            "stdin fixed hello world\nsecond line ",
            "monotonic allow",
            "monotonic yes",
        ]);
        assert_eq!(
            s.stdin,
            StdinMode::Fixed("hello world\nsecond line ".into())
        );
        assert!(!s.monotonic);
        assert_eq!(
            StdioSettings::from_lines(&["stdin fixed"]).stdin,
            StdinMode::Fixed(String::new())
        );
        assert_eq!(
            StdioSettings::from_lines(&["stdin fixed "]).stdin,
            StdinMode::Fixed(String::new())
        );
        assert!("stdin maybe".parse::<StdioLine>().is_err());
        assert!("stdio allow".parse::<StdioLine>().is_err());
    }
}
