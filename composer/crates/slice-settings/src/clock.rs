//! `clock = "offset:+SECONDS"` (the host's wall clock shifted: a slice,
//! served by the clock interposer) or `clock = "frozen:2024-01-01T00:00:00Z"`
//! / `"frozen:SECONDS"` (a virtual value inside the output, no host).
//!
//! Settings line of the clock interposer ([`ClockLine`]): `offset SECONDS`
//! (signed; the first such line counts, unreadable means 0).

use crate::{LineError, SliceKind};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

/// A manifest `clock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Clock {
    /// `frozen:...`: wall-clock `now` returns these seconds since the Unix
    /// epoch, monotonic `now` 0.
    Frozen(u64),
    /// `offset:+N`: the host's wall clock shifted by N seconds.
    Offset(i64),
}

impl Clock {
    /// Whether `text` (a manifest `clock`) asks for the offset slice rather
    /// than a frozen clock, readable or not: the composer routes on this
    /// before it reads the value (errors of `offset:` go under the slice,
    /// the others under the virtual value; files and stdio treat every
    /// other text as frozen).
    pub fn is_offset_text(text: &str) -> bool {
        text.starts_with("offset:")
    }
}

/// `frozen:SECONDS` (always seconds: every value round-trips, which the
/// date form cannot past the year 9999) or `offset:+N` / `offset:-N`.
impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clock::Frozen(secs) => write!(f, "frozen:{secs}"),
            Clock::Offset(n) => write!(f, "offset:{n:+}"),
        }
    }
}

impl FromStr for Clock {
    type Err = ClockError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(offset) = text.strip_prefix("offset:") {
            return offset
                .trim()
                .parse()
                .map(Clock::Offset)
                .map_err(|_| ClockError::Offset {
                    text: offset.into(),
                });
        }
        let Some(at) = text.strip_prefix("frozen:") else {
            return Err(ClockError::Unknown { text: text.into() });
        };
        if !at.is_empty() && at.bytes().all(|b| b.is_ascii_digit()) {
            return at
                .parse()
                .map(Clock::Frozen)
                .map_err(|_| ClockError::OutOfRange { at: at.into() });
        }
        parse_time(at)
            .map(Clock::Frozen)
            .ok_or_else(|| ClockError::BadTime { at: at.into() })
    }
}

const USAGE: &str =
    "expected `frozen:YYYY-MM-DDTHH:MM:SSZ` or `frozen:SECONDS` (since the Unix epoch)";

/// A `clock` that cannot be read; the messages are the composer's (under
/// the key `clock`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClockError {
    /// `offset:` without a whole number of seconds.
    Offset {
        /// The text after `offset:`, as written.
        text: String,
    },
    /// Neither `offset:` nor `frozen:`.
    Unknown {
        /// The whole text.
        text: String,
    },
    /// `frozen:DIGITS` past `u64`.
    OutOfRange {
        /// The digits.
        at: String,
    },
    /// `frozen:` with a time that cannot be read.
    BadTime {
        /// The text after `frozen:`.
        at: String,
    },
}

impl ClockError {
    /// Whether the text asked for an offset clock (a slice) rather than a
    /// frozen one (a virtual value).
    pub fn is_offset(&self) -> bool {
        matches!(self, ClockError::Offset { .. })
    }
}

impl fmt::Display for ClockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClockError::Offset { text } => write!(
                f,
                "`offset:{text}` needs a whole number of seconds, e.g. `offset:+3600` or `offset:-60`"
            ),
            ClockError::Unknown { text } => write!(f, "unknown clock `{text}`; {USAGE}"),
            ClockError::OutOfRange { at } => write!(f, "`{at}` is out of range; {USAGE}"),
            ClockError::BadTime { at } => write!(f, "cannot read the time `{at}`; {USAGE}"),
        }
    }
}

impl core::error::Error for ClockError {}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC, no fractions, from 1970) to seconds.
fn parse_time(at: &str) -> Option<u64> {
    let b = at.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: core::ops::Range<usize>| -> Option<i64> {
        let s = at.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, min, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if y < 1970 || !(1..=12).contains(&m) || d < 1 || d > days_in_month[m as usize - 1] {
        return None;
    }
    if h > 23 || min > 59 || s > 59 {
        return None;
    }
    let secs = days_from_civil(y, m, d) * 86_400 + h * 3600 + min * 60 + s;
    u64::try_from(secs).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch (the audit's
/// `clock frozen at ...`).
pub fn format_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// The settings line of the clock interposer: `offset SECONDS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClockLine {
    /// `offset N` (signed, no `+`).
    Offset(i64),
}

impl fmt::Display for ClockLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClockLine::Offset(n) => write!(f, "offset {n}"),
        }
    }
}

impl FromStr for ClockLine {
    type Err = LineError;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        line.strip_prefix("offset ")
            .and_then(|n| n.trim().parse().ok())
            .map(ClockLine::Offset)
            .ok_or_else(|| LineError::new(SliceKind::Clock, line))
    }
}

/// The clock interposer's settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClockSettings {
    /// Seconds added to the host's wall clock.
    pub offset: i64,
}

impl ClockSettings {
    /// Reads settings lines: the first `offset ...` line counts; absent or
    /// unreadable, the offset is 0.
    pub fn from_lines<S: AsRef<str>>(lines: &[S]) -> Self {
        let offset = lines
            .iter()
            .find(|l| l.as_ref().starts_with("offset "))
            .and_then(|l| l.as_ref().parse().ok())
            .map_or(0, |ClockLine::Offset(n)| n);
        Self { offset }
    }

    /// The settings line: `offset N`.
    pub fn lines(&self) -> Vec<String> {
        Vec::from([ClockLine::Offset(self.offset).to_string()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_parse_every_form_and_round_trip() {
        for (text, clock) in [
            ("frozen:2024-01-01T00:00:00Z", Clock::Frozen(1_704_067_200)),
            ("frozen:1704067200", Clock::Frozen(1_704_067_200)),
            ("frozen:2000-02-29T11:59:59Z", Clock::Frozen(951_825_599)),
            ("frozen:0", Clock::Frozen(0)),
            ("frozen:18446744073709551615", Clock::Frozen(u64::MAX)),
            ("offset:+3600", Clock::Offset(3600)),
            ("offset:-3600", Clock::Offset(-3600)),
            ("offset:0", Clock::Offset(0)),
            ("offset: 60 ", Clock::Offset(60)),
        ] {
            assert_eq!(text.parse(), Ok(clock), "{text}");
            assert_eq!(clock.to_string().parse(), Ok(clock), "{text}");
        }
        assert_eq!(Clock::Offset(3600).to_string(), "offset:+3600");
        assert_eq!(Clock::Offset(0).to_string(), "offset:+0");
        assert_eq!(Clock::Frozen(5).to_string(), "frozen:5");
        assert!(Clock::is_offset_text("offset:x"));
        assert!(!Clock::is_offset_text("frozen:0"));
    }

    #[test]
    fn bad_clocks_say_what_the_composer_says() {
        let usage =
            "expected `frozen:YYYY-MM-DDTHH:MM:SSZ` or `frozen:SECONDS` (since the Unix epoch)";
        for (bad, says) in [
            ("now", format!("unknown clock `now`; {usage}")),
            ("", format!("unknown clock ``; {usage}")),
            ("frozen:", format!("cannot read the time ``; {usage}")),
            (
                "frozen:2023-02-29T00:00:00Z",
                format!("cannot read the time `2023-02-29T00:00:00Z`; {usage}"),
            ),
            // golden `virtual-values-bad-clock`
            (
                "frozen:2024-13-01T00:00:00Z",
                format!("cannot read the time `2024-13-01T00:00:00Z`; {usage}"),
            ),
            (
                "frozen:2024-01-01",
                format!("cannot read the time `2024-01-01`; {usage}"),
            ),
            (
                "frozen:1969-12-31T23:59:59Z",
                format!("cannot read the time `1969-12-31T23:59:59Z`; {usage}"),
            ),
            ("frozen:-1", format!("cannot read the time `-1`; {usage}")),
            (
                "frozen:18446744073709551616",
                format!("`18446744073709551616` is out of range; {usage}"),
            ),
            (
                "offset:",
                "`offset:` needs a whole number of seconds, e.g. `offset:+3600` or `offset:-60`"
                    .into(),
            ),
            (
                "offset:1h",
                "`offset:1h` needs a whole number of seconds, e.g. `offset:+3600` or `offset:-60`"
                    .into(),
            ),
            (
                "offset: x ",
                "`offset: x ` needs a whole number of seconds, e.g. `offset:+3600` or `offset:-60`"
                    .into(),
            ),
        ] {
            let err = bad.parse::<Clock>().unwrap_err();
            assert_eq!(err.to_string(), says, "{bad}");
            assert_eq!(err.is_offset(), Clock::is_offset_text(bad), "{bad}");
        }
    }

    #[test]
    fn times_format_as_they_parse() {
        assert_eq!(format_time(1_704_067_200), "2024-01-01T00:00:00Z");
        assert_eq!(format_time(951_825_599), "2000-02-29T11:59:59Z");
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        for secs in [0, 59, 86_399, 951_825_599, 1_704_067_200, 253_402_300_799] {
            let text = format!("frozen:{}", format_time(secs));
            assert_eq!(text.parse(), Ok(Clock::Frozen(secs)), "{text}");
        }
    }

    #[test]
    fn settings_lines_round_trip_and_read_as_the_interposer_did() {
        // golden `slice-env-clock-exit`
        let s = ClockSettings { offset: -3600 };
        assert_eq!(s.lines(), ["offset -3600"]);
        assert_eq!(ClockSettings::from_lines(&s.lines()), s);
        assert_eq!(ClockSettings { offset: 60 }.lines(), ["offset 60"]);
        assert_eq!(ClockSettings::from_lines(&["offset +5"]).offset, 5);
        // The first `offset` line counts, readable or not.
        assert_eq!(
            ClockSettings::from_lines(&["x", "offset 5", "offset 6"]).offset,
            5
        );
        assert_eq!(
            ClockSettings::from_lines(&["offset x", "offset 6"]).offset,
            0
        );
        let none: [&str; 0] = [];
        assert_eq!(ClockSettings::from_lines(&none).offset, 0);
        assert!("offset".parse::<ClockLine>().is_err());
    }
}
