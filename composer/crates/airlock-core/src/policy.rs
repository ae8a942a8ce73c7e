//! Interface patterns for allow-lists, grants and explicit denials:
//! `wasi:cli/stdout@0.2`, `wasi:sockets/*`, `wasi:http/outgoing-handler@0.2.*`, `wasi:*`,
//! `wasi:cli/stdout@0.3.0-rc-*`.
//!
//! A pattern without `:` or `/` names plain names: the bare functions and
//! inline interfaces a world imports as `thing-in: func(..)` or `lists:
//! interface { .. }`. `lists` matches the plain name `lists` and never
//! `wasi:cli/lists` or `ns:pkg/lists`; `thing-*` matches plain names only;
//! `*` alone matches everything, plain names too. A plain name has no
//! version, so neither has its pattern. Grants and the allow-list reach a
//! plain name only by naming it exactly (see [`PatternSet::find_exact`]).
//!
//! Versions are semver requirements, so a requirement without a pre-release
//! (`@0.3`, `@0.3.*`, `@>=0.2`) never matches a pre-release such as
//! `0.3.0-rc-2026-03-15`; a pre-release matches only when written, exactly
//! (`@=0.3.0-rc-2026-03-15`, or `@0.3.0-rc-2026-03-15`, which as a semver
//! requirement also admits later rcs and releases of 0.3) or with `*` in it
//! (`@0.3.0-rc-*`: any pre-release of 0.3.0 that starts `rc-`).

use crate::names::{InterfaceName, is_plain_name};
use semver::{Version, VersionReq};
use std::fmt;
use std::str::FromStr;

/// One pattern: a glob over `namespace:package/interface` plus an optional semver requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    glob: String,
    version: Option<VersionPattern>,
}

/// The version part of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum VersionPattern {
    /// A semver requirement (`0.2`, `0.2.*`, `>=0.2.3`, `=0.3.0-rc-2026-03-15`).
    Req(VersionReq),
    /// `MAJOR.MINOR.PATCH-GLOB`, `*` in the pre-release (`0.3.0-rc-*`), which
    /// semver has no syntax for: pre-releases of exactly that version whose
    /// pre-release matches the glob. Never a release.
    Pre {
        /// `0.3.0`
        base: Version,
        /// `rc-*`
        pre: String,
    },
}

impl VersionPattern {
    fn parse(text: &str) -> Result<Self, String> {
        let Some((base, pre)) = text
            .strip_prefix('=')
            .unwrap_or(text)
            .split_once('-')
            .filter(|(_, pre)| pre.contains('*'))
        else {
            return VersionReq::parse(text)
                .map(VersionPattern::Req)
                .map_err(|e| format!("bad version requirement `{text}`: {e}"));
        };
        let bad = |why: &str| format!("bad version requirement `{text}`: {why}");
        let base = Version::parse(base).map_err(|_| {
            bad("a `*` in a pre-release needs a full version before it (`0.3.0-rc-*`)")
        })?;
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '*');
        if pre.is_empty() || !pre.chars().all(valid) {
            return Err(bad(
                "a pre-release is letters, digits, `-` and `.`, with `*` as a wildcard",
            ));
        }
        Ok(VersionPattern::Pre {
            base,
            pre: pre.to_string(),
        })
    }

    fn matches(&self, v: &Version) -> bool {
        match self {
            VersionPattern::Req(req) => req.matches(v),
            VersionPattern::Pre { base, pre } => {
                (v.major, v.minor, v.patch) == (base.major, base.minor, base.patch)
                    && !v.pre.is_empty()
                    && glob_matches(pre, v.pre.as_str())
            }
        }
    }
}

/// Why a pattern could not be parsed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("invalid interface pattern `{pattern}`: {reason}")]
pub struct PatternError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for Pattern {
    type Err = PatternError;

    fn from_str(text: &str) -> Result<Self, PatternError> {
        let err = |reason: &str| PatternError {
            pattern: text.to_string(),
            reason: reason.to_string(),
        };
        let (glob, version) = match text.split_once('@') {
            Some((glob, v)) => (glob, Some(VersionPattern::parse(v).map_err(|e| err(&e))?)),
            None => (text, None),
        };
        if glob.is_empty() {
            return Err(err("it is empty"));
        }
        const EXPECTED: &str = "expected `namespace:package/interface` or the plain name of a \
                                bare function or inline interface (`thing-in`), with `*` as a \
                                wildcard";
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '/' | '*');
        if !glob.chars().all(valid) {
            return Err(err(EXPECTED));
        }
        if is_plain_glob(glob) && glob != "*" {
            if version.is_some() {
                return Err(err(
                    "a plain name (a bare function or inline interface) has no version",
                ));
            }
            if !glob.contains('*') && !is_plain_name(glob) {
                return Err(err(EXPECTED));
            }
        } else if !glob.contains('*') && InterfaceName::parse(glob).is_none() {
            return Err(err(EXPECTED));
        }
        Ok(Self {
            text: text.to_string(),
            glob: glob.to_string(),
            version,
        })
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Pattern {
    /// True when `name` (an import or export name) matches this pattern. Names
    /// without a version match only patterns without a version requirement;
    /// pre-release versions only requirements that name a pre-release.
    pub fn matches(&self, name: &InterfaceName) -> bool {
        if !self.names_interfaces() || !glob_matches(&self.glob, &name.unversioned()) {
            return false;
        }
        match (&self.version, &name.version) {
            (None, _) => true,
            (Some(req), Some(v)) => req.matches(v),
            (Some(_), None) => false,
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The `namespace:package/interface` glob, without the version requirement.
    pub fn glob(&self) -> &str {
        &self.glob
    }

    /// True when the glob matches `unversioned` (`wasi:cli/stdout`), whatever
    /// the version, or the plain name `unversioned` (`thing-in`).
    pub fn matches_unversioned(&self, unversioned: &str) -> bool {
        match InterfaceName::parse(unversioned) {
            Some(_) => self.names_interfaces() && glob_matches(&self.glob, unversioned),
            None => self.matches_plain(unversioned),
        }
    }

    /// True when the plain name `name` (a bare function or inline interface,
    /// `thing-in`) matches: a pattern without `:` or `/` (`thing-in`,
    /// `thing-*`, `*`) and no version requirement.
    pub fn matches_plain(&self, name: &str) -> bool {
        is_plain_glob(&self.glob) && self.version.is_none() && glob_matches(&self.glob, name)
    }

    /// True when the pattern is `name` itself, without a wildcard.
    pub fn is_exactly(&self, name: &str) -> bool {
        self.text == name && !self.text.contains('*')
    }

    /// True unless the pattern names plain names only (a glob without `:`
    /// or `/` other than `*`).
    fn names_interfaces(&self) -> bool {
        !is_plain_glob(&self.glob) || self.glob == "*"
    }
}

/// A glob without `:` and `/`: over plain names (`*` is over every name).
fn is_plain_glob(glob: &str) -> bool {
    !glob.contains([':', '/'])
}

/// A list of patterns; a name matches the set when it matches any member.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatternSet(pub Vec<Pattern>);

impl PatternSet {
    /// The first pattern that matches `name`.
    pub fn find(&self, name: &InterfaceName) -> Option<&Pattern> {
        self.0.iter().find(|p| p.matches(name))
    }

    /// True when any pattern matches `name`.
    pub fn matches(&self, name: &InterfaceName) -> bool {
        self.find(name).is_some()
    }

    /// The first pattern that matches the plain name `name` (see [`Pattern::matches_plain`]).
    pub fn find_plain(&self, name: &str) -> Option<&Pattern> {
        self.0.iter().find(|p| p.matches_plain(name))
    }

    /// True when any pattern matches the plain name `name`.
    pub fn matches_plain(&self, name: &str) -> bool {
        self.find_plain(name).is_some()
    }

    /// The pattern that is `name` itself, without a wildcard: how grants and
    /// the allow-list must name a plain name to reach it.
    pub fn find_exact(&self, name: &str) -> Option<&Pattern> {
        self.0.iter().find(|p| p.is_exactly(name))
    }

    /// True when the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Parses each string; the first bad one is the error.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, PatternError> {
        items
            .iter()
            .map(|s| s.as_ref().parse())
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

/// `*` matches any run of characters (including `:` and `/`).
fn glob_matches(glob: &str, text: &str) -> bool {
    let parts: Vec<&str> = glob.split('*').collect();
    if parts.len() == 1 {
        return glob == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, name: &str) -> bool {
        let p: Pattern = pattern.parse().unwrap();
        p.matches(&InterfaceName::parse(name).unwrap())
    }

    #[test]
    fn versions_match_by_requirement() {
        assert!(matches("wasi:cli/stdout@0.2", "wasi:cli/stdout@0.2.4"));
        assert!(!matches("wasi:cli/stdout@0.2", "wasi:cli/stdout@0.3.0"));
        assert!(matches(
            "wasi:http/outgoing-handler@0.2.*",
            "wasi:http/outgoing-handler@0.2.0"
        ));
        assert!(matches("wasi:cli/stdout", "wasi:cli/stdout@9.0.0"));
    }

    #[test]
    fn wasi_03_and_its_release_candidates() {
        let rc = "wasi:cli/stdout@0.3.0-rc-2026-03-15";
        assert!(matches("wasi:cli/stdout@0.3", "wasi:cli/stdout@0.3.0"));
        assert!(matches("wasi:cli/stdout@0.3", "wasi:cli/stdout@0.3.7"));
        assert!(!matches("wasi:cli/stdout@0.3", "wasi:cli/stdout@0.2.12"));
        assert!(!matches("wasi:cli/stdout@0.2", "wasi:cli/stdout@0.3.0"));
        // Never an rc unless written.
        for p in [
            "wasi:cli/stdout@0.3",
            "wasi:cli/stdout@0.3.*",
            "wasi:cli/stdout@0.3.0",
            "wasi:cli/stdout@>=0.2",
            "wasi:*@0.3",
        ] {
            assert!(!matches(p, rc), "{p}");
        }
        // Written: exactly, or with `*` in the pre-release.
        assert!(matches("wasi:cli/stdout@=0.3.0-rc-2026-03-15", rc));
        assert!(matches("wasi:cli/stdout@0.3.0-rc-2026-03-15", rc));
        assert!(!matches("wasi:cli/stdout@=0.3.0-rc-2026-02-09", rc));
        assert!(matches("wasi:cli/stdout@0.3.0-rc-*", rc));
        assert!(matches("wasi:cli/*@0.3.0-rc-*", rc));
        assert!(matches("wasi:cli/stdout@=0.3.0-rc-*", rc));
        assert!(matches("wasi:cli/stdout@0.3.0-rc-2026-*", rc));
        assert!(matches("wasi:cli/stdout@0.3.0-*", rc));
        assert!(!matches("wasi:cli/stdout@0.3.0-rc-2025-*", rc));
        // A pre-release glob is never a release, nor another version's rc.
        assert!(!matches(
            "wasi:cli/stdout@0.3.0-rc-*",
            "wasi:cli/stdout@0.3.0"
        ));
        assert!(!matches(
            "wasi:cli/stdout@0.3.0-rc-*",
            "wasi:cli/stdout@0.3.1-rc-2026-03-15"
        ));
        assert!(!matches(
            "wasi:cli/stdout@0.3.0-rc-*",
            "wasi:cli/stdout@0.2.0-rc-2023-12-05"
        ));
        assert!(!matches("wasi:cli/stdout@0.3.0-rc-*", "wasi:cli/stdout"));
        // Malformed.
        for bad in [
            "wasi:cli/stdout@0.3-rc-*",
            "wasi:cli/stdout@>=0.3.0-rc-*",
            "wasi:cli/stdout@0.3.0-",
            "wasi:cli/stdout@0.3.0-rc_*",
            "wasi:cli/stdout@0.3.0-rc-*, <0.4",
        ] {
            assert!(bad.parse::<Pattern>().is_err(), "{bad}");
        }
        assert_eq!(
            "wasi:cli/stdout@0.3.0-rc-*"
                .parse::<Pattern>()
                .unwrap()
                .to_string(),
            "wasi:cli/stdout@0.3.0-rc-*"
        );
    }

    #[test]
    fn wildcards() {
        assert!(matches("wasi:sockets/*", "wasi:sockets/tcp@0.2.0"));
        assert!(!matches("wasi:sockets/*", "wasi:http/types@0.2.0"));
        assert!(matches("wasi:*", "wasi:http/types@0.2.0"));
        assert!(matches("*", "my:lib/thing"));
        assert!(matches("wasi:cli/std*", "wasi:cli/stderr@0.2.0"));
        assert!(!matches("wasi:cli/std*", "wasi:cli/exit@0.2.0"));
    }

    #[test]
    fn rejects_garbage() {
        assert!("".parse::<Pattern>().is_err());
        assert!("wasi cli".parse::<Pattern>().is_err());
        assert!("wasi:cli/stdout@x.y".parse::<Pattern>().is_err());
        for bad in [
            "lists@0.1",
            "thing-*@1",
            "-lists",
            "lists-",
            "thing--in",
            "1st",
        ] {
            assert!(bad.parse::<Pattern>().is_err(), "{bad}");
        }
    }

    fn plain(pattern: &str, name: &str) -> bool {
        pattern.parse::<Pattern>().unwrap().matches_plain(name)
    }

    #[test]
    fn plain_names_match_plain_patterns_only() {
        assert!(plain("lists", "lists"));
        assert!(!plain("lists", "list"));
        assert!(plain("thing-*", "thing-in"));
        assert!(plain("*", "thing-in"));
        assert!(!plain("wasi:*", "thing-in"));
        assert!(!plain("*/lists", "lists"));
        assert!(!plain("wasi:cli/stdout", "stdout"));
        assert!(!plain("*@0.2", "lists"));
        // A plain pattern never matches an interface, WASI or namespaced.
        for name in [
            "wasi:cli/lists",
            "ns:pkg/lists",
            "ns:lists/lists@0.1.0",
            "wasi:cli/stdout@0.2.0",
        ] {
            for pattern in ["lists", "*lists", "*", "l*"] {
                let expected = pattern == "*";
                assert_eq!(matches(pattern, name), expected, "{pattern} {name}");
                let unversioned = InterfaceName::parse(name).unwrap().unversioned();
                let p: Pattern = pattern.parse().unwrap();
                assert_eq!(p.matches_unversioned(&unversioned), expected);
            }
        }
        let set = PatternSet::parse(&["*", "thing-*", "thing-in"]).unwrap();
        assert_eq!(set.find_plain("thing-in").unwrap().as_str(), "*");
        assert_eq!(set.find_exact("thing-in").unwrap().as_str(), "thing-in");
        assert!(set.find_exact("thing-out").is_none());
    }
}
