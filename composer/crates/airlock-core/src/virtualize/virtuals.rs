//! Virtual values: per-function overrides of a denial, configured per
//! component instance (`env`, `args`, `cwd`, `clock`, `random` in
//! `airlock.toml`). They need no host: fixed data lives in the stub's memory
//! (data segments), and the seeded generator's state in a global.
//!
//! - `wasi:cli/environment`: `get-environment`, `get-arguments`,
//!   `initial-cwd` (0.3: `get-initial-cwd`) return exactly the configured
//!   values (the others of the interface keep their denial).
//! - `wasi:clocks`: wall-clock `now` (0.3: system-clock `now`) returns the
//!   frozen time; monotonic `now` returns 0 (a frozen clock does not advance).
//!
//! The same values serve WASI 0.2 and 0.3 imports: the functions keep their
//! shapes across the versions, only some names changed.
//! - `wasi:random`: bytes and `u64`s from splitmix64 seeded with `seed`, the
//!   same sequence on every run. NOT cryptographically secure.

use super::core_module::{Body, RandomOut, StaticData};
use super::fates::Fate;
use super::values::Value;
use airlock_slice_settings::clock::{Clock, ClockError, format_time};

/// The virtual values of one component instance. Empty: plain denials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Virtuals {
    /// `get-environment` returns exactly these pairs, in this order.
    pub env: Option<Vec<(String, String)>>,
    /// `get-arguments` returns these.
    pub args: Option<Vec<String>>,
    /// `initial-cwd` returns `some` of this.
    pub cwd: Option<String>,
    /// A frozen clock: seconds since the Unix epoch.
    pub clock: Option<u64>,
    /// The seed of the deterministic (not secure) random generator.
    pub random_seed: Option<u64>,
    /// An interposer's settings: `airlock:interpose/config.get` returns
    /// these (see `attenuate`).
    pub config: Option<Vec<String>>,
}

impl Virtuals {
    /// Whether no value is configured.
    pub fn is_empty(&self) -> bool {
        *self == Virtuals::default()
    }

    /// The interfaces (unversioned, e.g. `wasi:cli/environment`) the values
    /// serve, each with the manifest key that configures it.
    pub fn interfaces(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        for (set, key) in [
            (self.env.is_some(), "env"),
            (self.args.is_some(), "args"),
            (self.cwd.is_some(), "cwd"),
        ] {
            if set {
                out.push(("wasi:cli/environment", key));
            }
        }
        if self.clock.is_some() {
            // WASI 0.2's `wall-clock` is 0.3's `system-clock`.
            out.push(("wasi:clocks/wall-clock", "clock"));
            out.push(("wasi:clocks/system-clock", "clock"));
            out.push(("wasi:clocks/monotonic-clock", "clock"));
        }
        if self.config.is_some() {
            out.push((crate::attenuate::CONFIG_INTERFACE, "config"));
        }
        if self.random_seed.is_some() {
            for iface in [
                "wasi:random/random",
                "wasi:random/insecure",
                "wasi:random/insecure-seed",
            ] {
                out.push((iface, "random"));
            }
        }
        out
    }

    /// One line for the audit, e.g. `env LOG_LEVEL=info (fixed); clock frozen
    /// at 2024-01-01T00:00:00Z; random seeded (42, not secure)`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(env) = &self.env {
            if env.is_empty() {
                parts.push("env empty (fixed)".to_string());
            }
            for (k, v) in env {
                parts.push(format!("env {k}={v} (fixed)"));
            }
        }
        if let Some(args) = &self.args {
            parts.push(format!("args {} (fixed)", quoted(args)));
        }
        if let Some(cwd) = &self.cwd {
            parts.push(format!("cwd {cwd} (fixed)"));
        }
        if let Some(secs) = self.clock {
            parts.push(format!("clock frozen at {}", format_time(secs)));
        }
        if let Some(seed) = self.random_seed {
            parts.push(format!("random seeded ({seed}, not secure)"));
        }
        parts.join("; ")
    }

    /// What `interface#func` does instead of its denial, if a value serves it.
    pub(crate) fn serve(&self, interface: &str, func: &str) -> Option<(Fate, Body)> {
        let fixed = |value: String| Fate::Fixed { value };
        let seeded = |out| {
            let seed = self.random_seed?;
            Some((Fate::Seeded { seed }, Body::Random { seed, out }))
        };
        match (interface, func) {
            ("wasi:cli/environment", "get-environment") => {
                let env = self.env.as_ref()?;
                let text: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
                Some((
                    fixed(quoted(&text)),
                    Body::Static(StaticData::Pairs(env.clone())),
                ))
            }
            ("airlock:interpose/config", "get") => {
                let lines = self.config.as_ref()?;
                Some((
                    fixed(format!("{} settings", lines.len())),
                    Body::Static(StaticData::Strings(lines.clone())),
                ))
            }
            ("wasi:cli/environment", "get-arguments") => {
                let args = self.args.as_ref()?;
                Some((
                    fixed(quoted(args)),
                    Body::Static(StaticData::Strings(args.clone())),
                ))
            }
            // `initial-cwd` in WASI 0.2, `get-initial-cwd` in 0.3.
            ("wasi:cli/environment", "initial-cwd" | "get-initial-cwd") => {
                let cwd = self.cwd.as_ref()?;
                Some((
                    fixed(format!("some({cwd:?})")),
                    Body::Static(StaticData::SomeString(cwd.clone())),
                ))
            }
            // 0.2's `datetime` and 0.3's `instant` lower alike (an i64 of
            // seconds, a u32 of nanoseconds).
            ("wasi:clocks/wall-clock" | "wasi:clocks/system-clock", "now") => {
                let secs = self.clock?;
                Some((
                    fixed(format!("frozen at {}", format_time(secs))),
                    Body::Static(StaticData::Datetime(secs)),
                ))
            }
            ("wasi:clocks/monotonic-clock", "now") => {
                self.clock?;
                Some((fixed("0, frozen".into()), Body::Return(Some(Value::Zero))))
            }
            ("wasi:random/random", "get-random-bytes")
            | ("wasi:random/insecure", "get-insecure-random-bytes") => seeded(RandomOut::Bytes),
            ("wasi:random/random", "get-random-u64")
            | ("wasi:random/insecure", "get-insecure-random-u64") => seeded(RandomOut::U64),
            // `insecure-seed` in WASI 0.2, `get-insecure-seed` in 0.3.
            ("wasi:random/insecure-seed", "insecure-seed" | "get-insecure-seed") => {
                seeded(RandomOut::Pair)
            }
            _ => None,
        }
    }
}

fn quoted(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", items.join(" "))
}

/// Reads a frozen clock setting (`frozen:2024-01-01T00:00:00Z` or
/// `frozen:SECONDS`, see [`Clock`]) as seconds since the Unix epoch. An
/// offset clock is a slice, not a value: `offset:...` is an unknown clock here.
pub fn parse_clock(text: &str) -> Result<u64, String> {
    match text.parse::<Clock>() {
        Ok(Clock::Frozen(secs)) => Ok(secs),
        Ok(Clock::Offset(_)) => Err(ClockError::Unknown { text: text.into() }.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// splitmix64, as the stub computes it (for tests and documentation).
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_frozen_clocks_are_values() {
        assert_eq!(parse_clock("frozen:1704067200"), Ok(1_704_067_200));
        assert_eq!(
            parse_clock("offset:+60").unwrap_err(),
            "unknown clock `offset:+60`; expected `frozen:YYYY-MM-DDTHH:MM:SSZ` or \
             `frozen:SECONDS` (since the Unix epoch)"
        );
        assert!(parse_clock("frozen:2023-02-29T00:00:00Z").is_err());
    }

    #[test]
    fn summary_reads_like_the_audit() {
        let v = Virtuals {
            env: Some(vec![("LOG_LEVEL".into(), "info".into())]),
            clock: Some(1_704_067_200),
            random_seed: Some(42),
            ..Virtuals::default()
        };
        assert_eq!(
            v.summary(),
            "env LOG_LEVEL=info (fixed); clock frozen at 2024-01-01T00:00:00Z; random seeded (42, not secure)"
        );
    }
}
