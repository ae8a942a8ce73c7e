//! `env-from-host = ["LANG"]`: host environment variables passed through by
//! name ([`EnvName`]: not empty, no `=`, no NUL), with the fixed `env`,
//! `args` and `cwd` values beside them.
//!
//! Settings lines of the env interposer ([`EnvLine`]): `host NAME`, `set
//! NAME=VALUE` (split at the first `=`: the value may hold more), `arg
//! VALUE`, `cwd PATH`.

use crate::{LineError, SliceKind};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

/// An environment variable's name: not empty, no `=`, no NUL.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvName(String);

impl EnvName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for EnvName {
    type Err = EnvNameError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            return Err(EnvNameError { name: name.into() });
        }
        Ok(EnvName(name.into()))
    }
}

impl AsRef<str> for EnvName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<EnvName> for String {
    fn from(n: EnvName) -> String {
        n.0
    }
}

/// Not a variable name; the message is the composer's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvNameError {
    /// The name as written.
    pub name: String,
}

impl fmt::Display for EnvNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a variable name", self.name)
    }
}

impl core::error::Error for EnvNameError {}

/// A name of the manifest's env slice that cannot be used, with its key:
/// `env-from-host` or `env` (the fixed values' names, checked whether they
/// go to the interposer or are virtual values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvError {
    /// The manifest key: `env-from-host` or `env`.
    pub key: &'static str,
    /// What is wrong.
    pub error: EnvNameError,
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl core::error::Error for EnvError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// One settings line of the env interposer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EnvLine {
    /// `host NAME`: pass the host's variable through.
    Host(EnvName),
    /// `set NAME=VALUE`: a fixed variable.
    Set(EnvName, String),
    /// `arg VALUE`: a fixed argument.
    Arg(String),
    /// `cwd PATH`: the fixed initial working directory.
    Cwd(String),
}

impl fmt::Display for EnvLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvLine::Host(name) => write!(f, "host {name}"),
            EnvLine::Set(name, value) => write!(f, "set {name}={value}"),
            EnvLine::Arg(value) => write!(f, "arg {value}"),
            EnvLine::Cwd(path) => write!(f, "cwd {path}"),
        }
    }
}

impl FromStr for EnvLine {
    type Err = LineError;

    /// As the interposer has always read them: `set NAME` without `=` is
    /// `NAME` set to the empty string; `arg` alone is an empty argument.
    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let bad = || LineError::new(SliceKind::Env, line);
        match crate::verb(line) {
            ("host", name) => name.parse().map(EnvLine::Host).map_err(|_| bad()),
            ("set", pair) => {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let name = name.parse().map_err(|_| bad())?;
                Ok(EnvLine::Set(name, value.into()))
            }
            ("arg", value) => Ok(EnvLine::Arg(value.into())),
            ("cwd", path) => Ok(EnvLine::Cwd(path.into())),
            _ => Err(bad()),
        }
    }
}

/// The env interposer's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct EnvSettings {
    /// Host variables to pass through, in order.
    pub host: Vec<EnvName>,
    /// Fixed variables, in order.
    pub set: Vec<(EnvName, String)>,
    /// Fixed arguments.
    pub args: Vec<String>,
    /// Fixed initial working directory.
    pub cwd: Option<String>,
}

impl EnvSettings {
    /// The manifest's `env-from-host` names, checked, with the fixed `env`
    /// pairs (their names checked too), `args` and `cwd`.
    pub fn from_manifest<'a, S: AsRef<str>>(
        host: &[S],
        fixed: impl IntoIterator<Item = (&'a str, &'a str)>,
        args: &[S],
        cwd: Option<&str>,
    ) -> Result<Self, EnvError> {
        let name = |key: &'static str, name: &str| {
            name.parse::<EnvName>()
                .map_err(|error| EnvError { key, error })
        };
        let host = host
            .iter()
            .map(|n| name("env-from-host", n.as_ref()))
            .collect::<Result<_, _>>()?;
        let set = fixed
            .into_iter()
            .map(|(k, v)| Ok((name("env", k)?, v.to_string())))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            host,
            set,
            args: args.iter().map(|a| a.as_ref().to_string()).collect(),
            cwd: cwd.map(str::to_string),
        })
    }

    /// Reads settings lines; unknown and malformed lines are skipped, a
    /// later `cwd` wins.
    pub fn from_lines<S: AsRef<str>>(lines: &[S]) -> Self {
        let mut s = Self::default();
        for line in lines.iter().filter_map(|l| l.as_ref().parse().ok()) {
            match line {
                EnvLine::Host(name) => s.host.push(name),
                EnvLine::Set(name, value) => s.set.push((name, value)),
                EnvLine::Arg(value) => s.args.push(value),
                EnvLine::Cwd(path) => s.cwd = Some(path),
            }
        }
        s
    }

    /// The settings lines: `host`, `set`, `arg`, then `cwd`.
    pub fn lines(&self) -> Vec<String> {
        let host = self.host.iter().cloned().map(EnvLine::Host);
        let set = self
            .set
            .iter()
            .map(|(k, v)| EnvLine::Set(k.clone(), v.clone()));
        let args = self.args.iter().cloned().map(EnvLine::Arg);
        let cwd = self.cwd.iter().cloned().map(EnvLine::Cwd);
        host.chain(set)
            .chain(args)
            .chain(cwd)
            .map(|l| l.to_string())
            .collect()
    }

    /// The environment the library sees: the named host variables (in the
    /// host's order) followed by the fixed ones; a fixed value wins over a
    /// host value of the same name. `host` asks the host for its
    /// environment, and is called only when a host variable is named at all.
    pub fn environment(
        &self,
        host: impl FnOnce() -> Vec<(String, String)>,
    ) -> Vec<(String, String)> {
        let host = match self.host.is_empty() {
            true => Vec::new(),
            false => host(),
        };
        let mut out: Vec<(String, String)> = host
            .into_iter()
            .filter(|(k, _)| self.host.iter().any(|h| h.as_str() == k))
            .filter(|(k, _)| !self.set.iter().any(|(s, _)| s.as_str() == k))
            .collect();
        // `as_str`, not `to_string`: no formatting code in the interposer.
        out.extend(self.set.iter().map(|(k, v)| (k.as_str().into(), v.clone())));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn names_are_checked() {
        for good in ["LANG", "a b", "é", "_"] {
            let n: EnvName = good.parse().unwrap();
            assert_eq!(n.to_string().parse(), Ok(n));
        }
        for bad in ["", "A=B", "=", "a\0b"] {
            assert_eq!(
                bad.parse::<EnvName>().unwrap_err().to_string(),
                alloc::format!("`{bad}` is not a variable name")
            );
        }
    }

    #[test]
    fn manifest_values_become_the_composers_lines() {
        // golden `slice-env-clock-exit`
        let s = EnvSettings::from_manifest(&["LANG", "TZ"], [("LOG_LEVEL", "info")], &[], None)
            .unwrap();
        assert_eq!(s.lines(), ["host LANG", "host TZ", "set LOG_LEVEL=info"]);
        let s =
            EnvSettings::from_manifest(&["A"], [("B", "x=y")], &["one", "two words"], Some("/w"))
                .unwrap();
        assert_eq!(
            s.lines(),
            ["host A", "set B=x=y", "arg one", "arg two words", "cwd /w"]
        );
        assert_eq!(EnvSettings::from_lines(&s.lines()), s);
        let err = EnvSettings::from_manifest(&["A=B"], [], &[], None).unwrap_err();
        assert_eq!(
            (err.key, err.to_string().as_str()),
            ("env-from-host", "`A=B` is not a variable name")
        );
        let err = EnvSettings::from_manifest::<&str>(&[], [("A=B", "c")], &[], None).unwrap_err();
        assert_eq!(err.key, "env");
    }

    #[test]
    fn lines_round_trip_and_read_as_the_interposer_did() {
        for line in [
            EnvLine::Host("LANG".parse().unwrap()),
            EnvLine::Set("A".parse().unwrap(), "x=y".into()),
            EnvLine::Set("A".parse().unwrap(), String::new()),
            EnvLine::Arg(String::new()),
            EnvLine::Arg(" two  spaces ".into()),
            EnvLine::Cwd("/w d".into()),
        ] {
            assert_eq!(line.to_string().parse(), Ok(line.clone()), "{line}");
        }
        assert_eq!(
            "set A".parse(),
            Ok(EnvLine::Set("A".parse().unwrap(), String::new()))
        );
        assert_eq!("arg".parse(), Ok(EnvLine::Arg(String::new())));
        for bad in ["host", "host ", "set =x", "unset A", ""] {
            assert!(bad.parse::<EnvLine>().is_err(), "{bad}");
        }
        let s = EnvSettings::from_lines(&["cwd /a", "bogus", "cwd /b"]);
        assert_eq!(s.cwd.as_deref(), Some("/b"));
    }

    #[test]
    fn only_named_host_variables_pass_and_fixed_values_win() {
        let s =
            EnvSettings::from_lines(&["host LANG", "host A", "set LOG_LEVEL=info", "set A=x=y"]);
        let host = pairs(&[("AWS_SECRET", "x"), ("LANG", "C.UTF-8"), ("A", "host")]);
        assert_eq!(
            s.environment(|| host),
            pairs(&[("LANG", "C.UTF-8"), ("LOG_LEVEL", "info"), ("A", "x=y")])
        );
        assert_eq!(EnvSettings::default().environment(Vec::new), vec![]);
        // No host name: the host is never asked.
        let fixed = EnvSettings::from_lines(&["set A=1"]);
        let asked = core::cell::Cell::new(false);
        let env = fixed.environment(|| {
            asked.set(true);
            pairs(&[("SECRET", "x")])
        });
        assert_eq!((env, asked.get()), (pairs(&[("A", "1")]), false));
    }
}
