//! What the audit says about slices and denials, typed: [`Slice`] (one
//! audit line per slice of a library), [`DenyReason`] (why an import is
//! virtualized) and [`TrapReason`] (why a denied function traps). Each
//! `Display` is the audit's text, word for word.

use crate::clock::ClockSettings;
use crate::env::EnvName;
use crate::files::{FilesSettings, PreopenName};
use crate::http::HttpSettings;
use crate::sockets::SocketsSettings;
use crate::stdio::{StdinMode, StdioSettings};
use crate::{Access, UnknownWord};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

/// Why an import is virtualized (`Fate::Denied { reason }` of the plan).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DenyReason {
    /// WASI, not granted: denied by default.
    Default,
    /// The user's `deny`.
    Explicit,
    /// The instance's virtual values serve some functions.
    Virtual,
    /// Needed only for the types of a granted interface: the types line
    /// up, the functions are denied.
    TypesOnly,
}

impl DenyReason {
    /// Every reason.
    pub const ALL: [DenyReason; 4] = [
        DenyReason::Default,
        DenyReason::Explicit,
        DenyReason::Virtual,
        DenyReason::TypesOnly,
    ];

    /// The keyword, as the JSON audit's `reason` says it: `default`,
    /// `explicit`, `virtual`, `types-only`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DenyReason::Default => "default",
            DenyReason::Explicit => "explicit",
            DenyReason::Virtual => "virtual",
            DenyReason::TypesOnly => "types-only",
        }
    }

    /// The table audit's words for the import: `denied (by default)`,
    /// `denied (explicitly)`, `virtual (values inside the output)`, `types
    /// only (for `OF`)`. `of` is the granted interface whose types need a
    /// types-only import (without it, `denied (by default)`, as always).
    pub fn describe(self, of: Option<&str>) -> String {
        match (self, of) {
            (DenyReason::Explicit, _) => "denied (explicitly)".into(),
            (DenyReason::TypesOnly, Some(of)) => format!("types only (for `{of}`)"),
            (DenyReason::Virtual, _) => "virtual (values inside the output)".into(),
            _ => "denied (by default)".into(),
        }
    }
}

/// The keyword (see [`DenyReason::as_str`]).
impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DenyReason {
    type Err = UnknownWord;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DenyReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownWord::new(s, "default, explicit, virtual, types-only"))
    }
}

/// Why a denied function traps (`Fate::Trap { reason }`; the audit says
/// `trap (REASON)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TrapReason {
    /// `wasi:cli/exit`: continuing after a denied exit would be wrong.
    ExitCannotReturn,
    /// `wasi:random/random` `get-random-u64`: a fake value would be silent.
    FakeSecureRandom,
    /// A user function without a result: nothing can say "denied".
    NoResult,
    /// A `result` whose error type cannot be made without the host.
    NoErrorValue,
    /// A result that only the host can make (e.g. a handle it owns).
    NeedsHost,
    /// A user function whose result has no error case.
    NoErrorCase,
    /// A future whose denial value is not plain data.
    FutureNotPlain,
}

impl TrapReason {
    /// Every reason.
    pub const ALL: [TrapReason; 7] = [
        TrapReason::ExitCannotReturn,
        TrapReason::FakeSecureRandom,
        TrapReason::NoResult,
        TrapReason::NoErrorValue,
        TrapReason::NeedsHost,
        TrapReason::NoErrorCase,
        TrapReason::FutureNotPlain,
    ];

    /// The audit's words.
    pub const fn as_str(self) -> &'static str {
        match self {
            TrapReason::ExitCannotReturn => "exit cannot return",
            TrapReason::FakeSecureRandom => "a fake secure random value would go unnoticed",
            TrapReason::NoResult => "no result to report the denial",
            TrapReason::NoErrorValue => "no error value without the host",
            TrapReason::NeedsHost => "its result needs the host",
            TrapReason::NoErrorCase => "no error case to report the denial",
            TrapReason::FutureNotPlain => "a denied future can only carry plain data",
        }
    }
}

impl fmt::Display for TrapReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TrapReason {
    type Err = UnknownWord;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TrapReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownWord::new(s, "a trap reason of the audit"))
    }
}

/// One slice of a library, as its audit line says it (the `slices` section,
/// the plan's JSON and the provenance record these lines).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Slice {
    /// `env NAME (host)`, `env K=V (fixed)`, `args [...] (fixed)`, `cwd P
    /// (fixed)`, comma separated.
    Env {
        /// `env-from-host`.
        host: Vec<EnvName>,
        /// `env`, in the manifest's (sorted) order.
        fixed: Vec<(String, String)>,
        /// `args`, when given (even empty).
        args: Option<Vec<String>>,
        /// `cwd`.
        cwd: Option<String>,
    },
    /// `clock host wall clock +N s`.
    Clock(ClockSettings),
    /// `http RULE; RULE`.
    Http(HttpSettings),
    /// `tcp connect A, B; tcp bind C`.
    Tcp(SocketsSettings),
    /// `files DIR (MODE)` or `files DIR as NAME (MODE)`.
    Files(FilesSettings),
    /// `files embedded from `PATH` as NAME (files: N, directories: M, B
    /// bytes, read-only)`.
    FilesEmbedded {
        /// The directory as the manifest names it (the path shown).
        from: String,
        /// The preopen name the library sees.
        name: PreopenName,
        /// How many files.
        files: usize,
        /// How many directories (below the root).
        directories: usize,
        /// Bytes of file contents.
        bytes: u64,
    },
    /// `stdout MODE, stderr MODE, stdin MODE[, monotonic clock allow]`
    /// (`stdin fixed (N bytes)`).
    Stdio(StdioSettings),
    /// `exit allowed` or `exit denied (traps)`.
    Exit(Access),
    /// A slice whose interposer was left out because the library does not
    /// import what it serves: `LINE (unused: not imported)`.
    Unused(Box<Slice>),
}

impl Slice {
    /// This slice, marked unused (its interposer was left out).
    pub fn unused(self) -> Slice {
        match self {
            Slice::Unused(_) => self,
            other => Slice::Unused(Box::new(other)),
        }
    }
}

impl fmt::Display for Slice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Slice::Env {
                host,
                fixed,
                args,
                cwd,
            } => {
                let mut sep = "";
                let mut part = |f: &mut fmt::Formatter<'_>, args: fmt::Arguments<'_>| {
                    let r = write!(f, "{sep}{args}");
                    sep = ", ";
                    r
                };
                for name in host {
                    part(f, format_args!("env {name} (host)"))?;
                }
                for (k, v) in fixed {
                    part(f, format_args!("env {k}={v} (fixed)"))?;
                }
                if let Some(args) = args {
                    part(f, format_args!("args {args:?} (fixed)"))?;
                }
                if let Some(cwd) = cwd {
                    part(f, format_args!("cwd {cwd} (fixed)"))?;
                }
                Ok(())
            }
            Slice::Clock(c) => write!(f, "clock host wall clock {:+} s", c.offset),
            Slice::Http(h) => {
                f.write_str("http ")?;
                for (i, rule) in h.rules.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{rule}")?;
                }
                Ok(())
            }
            Slice::Tcp(s) => {
                let mut sep = "";
                for (verb, list) in [("connect", &s.connect), ("bind", &s.bind)] {
                    if list.is_empty() {
                        continue;
                    }
                    write!(f, "{sep}tcp {verb} ")?;
                    sep = "; ";
                    for (i, a) in list.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{a}")?;
                    }
                }
                Ok(())
            }
            Slice::Files(s) if s.name.as_str() == s.dir.as_str() => {
                write!(f, "files {} ({})", s.dir, s.access)
            }
            Slice::Files(s) => write!(f, "files {} as {} ({})", s.dir, s.name, s.access),
            Slice::FilesEmbedded {
                from,
                name,
                files,
                directories,
                bytes,
            } => write!(
                f,
                "files embedded from `{from}` as {name} (files: {files}, directories: \
                 {directories}, {bytes} bytes, read-only)"
            ),
            Slice::Stdio(s) => {
                write!(f, "stdout {}, stderr {}, stdin ", s.stdout, s.stderr)?;
                match &s.stdin {
                    StdinMode::Fixed(text) => write!(f, "fixed ({} bytes)", text.len())?,
                    other => write!(f, "{other}")?,
                }
                if s.monotonic {
                    f.write_str(", monotonic clock allow")?;
                }
                Ok(())
            }
            Slice::Exit(Access::Allow) => f.write_str("exit allowed"),
            Slice::Exit(Access::Deny) => f.write_str("exit denied (traps)"),
            Slice::Unused(inner) => write!(f, "{inner} (unused: not imported)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stdio::StreamMode;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn deny_reasons_are_the_audits_words() {
        for r in DenyReason::ALL {
            assert_eq!(r.to_string().parse(), Ok(r));
        }
        assert_eq!(DenyReason::TypesOnly.to_string(), "types-only");
        assert_eq!(DenyReason::Default.describe(None), "denied (by default)");
        assert_eq!(DenyReason::Explicit.describe(None), "denied (explicitly)");
        assert_eq!(
            DenyReason::Virtual.describe(None),
            "virtual (values inside the output)"
        );
        assert_eq!(
            DenyReason::TypesOnly.describe(Some("wasi:filesystem/types@0.2.12")),
            "types only (for `wasi:filesystem/types@0.2.12`)"
        );
        assert_eq!(DenyReason::TypesOnly.describe(None), "denied (by default)");
        assert!("by default".parse::<DenyReason>().is_err());
    }

    #[test]
    fn trap_reasons_are_the_audits_words() {
        for r in TrapReason::ALL {
            assert_eq!(r.to_string().parse(), Ok(r));
        }
        assert_eq!(
            TrapReason::NeedsHost.to_string(),
            "its result needs the host"
        );
        assert_eq!(
            TrapReason::FakeSecureRandom.to_string(),
            "a fake secure random value would go unnoticed"
        );
        assert!("".parse::<TrapReason>().is_err());
    }

    /// The audit lines of the golden tests, word for word.
    #[test]
    fn slices_read_as_the_goldens() {
        let env = Slice::Env {
            host: vec!["LANG".parse().unwrap(), "TZ".parse().unwrap()],
            fixed: vec![("LOG_LEVEL".into(), "info".into())],
            args: None,
            cwd: None,
        };
        let clock = Slice::Clock(ClockSettings { offset: -3600 });
        let exit = Slice::Exit(Access::Deny);
        // `slice-env-clock-exit`: the three lines, joined by the report.
        let lines: Vec<String> = [env, clock, exit].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            lines.join("; "),
            "env LANG (host), env TZ (host), env LOG_LEVEL=info (fixed); clock host wall clock -3600 s; exit denied (traps)"
        );
        // `slice-http`
        let http = HttpSettings::from_manifest(&[
            "GET *.example.com",
            "GET,POST 127.0.0.1:8080",
            "* API.example.com:*",
        ])
        .unwrap();
        assert_eq!(
            Slice::Http(http).to_string(),
            "http GET *.example.com; GET,POST 127.0.0.1:8080; * api.example.com:*"
        );
        // `slice-sockets`, `slice-sockets-set`
        let tcp =
            SocketsSettings::from_manifest(&["127.0.0.1:8080", "10.0.0.1:*", "[0::1]:443"], &[])
                .unwrap();
        assert_eq!(
            Slice::Tcp(tcp).to_string(),
            "tcp connect 127.0.0.1:8080, 10.0.0.1:*, [::1]:443"
        );
        let tcp = SocketsSettings::from_manifest(&["192.168.1.10:5432"], &["0.0.0.0:*"]).unwrap();
        assert_eq!(
            Slice::Tcp(tcp).to_string(),
            "tcp connect 192.168.1.10:5432; tcp bind 0.0.0.0:*"
        );
        let tcp = SocketsSettings::from_manifest(&[], &["[::1]:0"]).unwrap();
        assert_eq!(Slice::Tcp(tcp).to_string(), "tcp bind [::1]:0");
        // `slice-files`
        let files = FilesSettings::from_manifest("/docs/public", Some("/data"), None).unwrap();
        assert_eq!(
            Slice::Files(files).to_string(),
            "files /docs/public as /data (read-only)"
        );
        let files = FilesSettings::from_manifest("/d", None, Some(false)).unwrap();
        assert_eq!(Slice::Files(files).to_string(), "files /d (read-write)");
        let files = FilesSettings::from_manifest("/d", Some("/d"), None).unwrap();
        assert_eq!(Slice::Files(files).to_string(), "files /d (read-only)");
        // `slice-stdio`
        let stdio = StdioSettings {
            stdout: StreamMode::Discard,
            stderr: StreamMode::Allow,
            stdin: StdinMode::Fixed("hello, world".into()),
            monotonic: false,
        };
        assert_eq!(
            Slice::Stdio(stdio).to_string(),
            "stdout discard, stderr allow, stdin fixed (12 bytes)"
        );
        let plain = StdioSettings {
            stdout: StreamMode::Allow,
            ..StdioSettings::default()
        };
        assert_eq!(
            Slice::Stdio(plain).to_string(),
            "stdout allow, stderr deny, stdin deny"
        );
        let mono = StdioSettings {
            stdout: StreamMode::Discard,
            stdin: StdinMode::Allow,
            stderr: StreamMode::Allow,
            monotonic: true,
        };
        assert_eq!(
            Slice::Stdio(mono).to_string(),
            "stdout discard, stderr allow, stdin allow, monotonic clock allow"
        );
        // `slice-unused`
        let http = HttpSettings::from_manifest(&["GET api.example.com"]).unwrap();
        assert_eq!(
            Slice::Http(http).unused().unused().to_string(),
            "http GET api.example.com (unused: not imported)"
        );
        assert_eq!(Slice::Exit(Access::Allow).to_string(), "exit allowed");
    }

    /// The composer's manifest types (`Vec<String>`, `Option<Vec<String>>`,
    /// `Option<BTreeMap<String, String>>`) go in as they are.
    #[test]
    fn manifest_types_go_in_as_they_are() {
        use crate::env::EnvSettings;
        use alloc::collections::BTreeMap;
        let rules: Vec<String> = vec!["GET a.com".into()];
        assert!(HttpSettings::from_manifest(&rules).is_ok());
        let (connect, bind): (Vec<String>, Vec<String>) = (vec!["1.2.3.4:5".into()], vec![]);
        assert!(SocketsSettings::from_manifest(&connect, &bind).is_ok());
        let names: Vec<String> = vec!["LANG".into()];
        let env: Option<BTreeMap<String, String>> =
            Some(BTreeMap::from([("A".into(), "b".into())]));
        let args: Option<Vec<String>> = None;
        let cwd: Option<String> = None;
        let s = EnvSettings::from_manifest(
            &names,
            env.iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())),
            args.as_deref().unwrap_or_default(),
            cwd.as_deref(),
        )
        .unwrap();
        assert_eq!(s.lines(), ["host LANG", "set A=b"]);
    }

    #[test]
    fn env_lines_quote_arguments_as_before() {
        let env = Slice::Env {
            host: vec![],
            fixed: vec![],
            args: Some(vec!["a b".into(), "q\"\n".into()]),
            cwd: Some("/w".into()),
        };
        assert_eq!(
            env.to_string(),
            "args [\"a b\", \"q\\\"\\n\"] (fixed), cwd /w (fixed)"
        );
        let empty = Slice::Env {
            host: vec![],
            fixed: vec![],
            args: Some(vec![]),
            cwd: None,
        };
        assert_eq!(empty.to_string(), "args [] (fixed)");
        let nothing = Slice::Env {
            host: vec![],
            fixed: vec![],
            args: None,
            cwd: None,
        };
        assert_eq!(nothing.to_string(), "");
    }

    #[test]
    fn embedded_files_read_as_before() {
        let s = Slice::FilesEmbedded {
            from: "assets".into(),
            name: "/assets".parse().unwrap(),
            files: 2,
            directories: 1,
            bytes: 5,
        };
        assert_eq!(
            s.to_string(),
            "files embedded from `assets` as /assets (files: 2, directories: 1, 5 bytes, read-only)"
        );
    }
}
