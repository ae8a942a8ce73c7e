//! The `airlock.toml` manifest: which components, what the output may import,
//! and what each component instance is granted. Kebab-case keys; unknown keys
//! are rejected with their line number (serde + toml spans).

use airlock_slice_settings::{Access, StdinMode, StreamMode};
use serde::Deserialize;

/// The manifest's usual file name, found in the current folder when none is given.
pub const FILE_NAME: &str = "airlock.toml";
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The whole manifest, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    /// Which component's exports become the output's exports. Missing, the
    /// spec says what to add (rather than serde's "missing field").
    #[serde(default)]
    pub output: OutputSpec,
    /// The allow-list: what the OUTPUT may import.
    #[serde(default)]
    pub allow: AllowSpec,
    /// One entry per component instance, keyed by its name.
    #[serde(default)]
    pub components: BTreeMap<String, ComponentSpec>,
    /// Where `package = ...` components are fetched from.
    pub registry: Option<RegistrySection>,
}

/// `[output]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OutputSpec {
    /// The component whose exports the output re-exports (at most one of the
    /// output's exporters; optional when `export` names the components).
    pub root: Option<String>,
    /// More components whose exports the output re-exports too (wac's
    /// `export i.iface`): a library bundle exports several libraries at once.
    #[serde(default)]
    pub export: Vec<String>,
    /// The output's package name, `namespace:name@version` (recorded in its metadata).
    pub package: Option<String>,
    /// Where `airlock compose` writes the output, relative to the manifest.
    pub path: Option<PathBuf>,
}

/// `[allow]`
#[derive(Debug, Default)]
pub struct AllowSpec {
    /// Interface patterns, e.g. `wasi:cli/stdout@0.2`, `wasi:sockets/*`.
    pub interfaces: Vec<String>,
}

/// `[allow]` is a table; a list written as `allow = [...]` gets a message
/// that shows the table form instead of serde's "expected a sequence".
impl<'de> Deserialize<'de> for AllowSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        struct Table {
            #[serde(default)]
            interfaces: Vec<String>,
        }
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = AllowSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a table: `[allow]` then `interfaces = [...]`")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<AllowSpec, A::Error> {
                let t = Table::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(AllowSpec {
                    interfaces: t.interfaces,
                })
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<AllowSpec, A::Error> {
                Err(serde::de::Error::custom(
                    "`allow` is a table, not a list: write `[allow]` and under it \
                     `interfaces = [\"wasi:cli/stdout@0.2\", ...]`",
                ))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// `[components.NAME]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ComponentSpec {
    /// Path to the component, relative to the manifest's folder (or `package`).
    pub path: Option<PathBuf>,
    /// A registry package instead of `path`: `namespace:name@REQUIREMENT`
    /// (semver, `0.1` means `^0.1`), pinned in `airlock.lock`.
    pub package: Option<String>,
    /// What this instance may reach of the allow-list. Default: nothing.
    #[serde(default)]
    pub grant: Vec<String>,
    /// Explicit wiring: import pattern -> name of the component that provides it.
    #[serde(default)]
    pub wire: BTreeMap<String, String>,
    /// Non-WASI imports to virtualize as denied (WASI is denied by default anyway).
    #[serde(default)]
    pub deny: Vec<String>,
    /// Virtual `wasi:cli/environment` variables: exactly these pairs, served
    /// inside the output (the interface must not be granted).
    pub env: Option<BTreeMap<String, String>>,
    /// Virtual `wasi:cli/environment` arguments.
    pub args: Option<Vec<String>>,
    /// Virtual `wasi:cli/environment` initial working directory.
    pub cwd: Option<String>,
    /// A virtual clock: `frozen:2024-01-01T00:00:00Z` or `frozen:SECONDS`
    /// (since the Unix epoch): wall-clock `now` returns it, monotonic `now` 0.
    pub clock: Option<String>,
    /// Seeded deterministic random (NOT cryptographically secure).
    pub random: Option<RandomSpec>,
    /// Host environment variables passed through by name (an attenuated
    /// `wasi:cli/environment`): the library sees these, the fixed `env`
    /// pairs, and nothing else of the host's environment.
    pub env_from_host: Option<Vec<String>>,
    /// `wasi:cli/exit`: `allow` (granted) or `deny` (the default: a trap
    /// that names the call).
    #[serde(default, deserialize_with = "keyword::option")]
    pub exit: Option<Access>,
    /// `wasi:cli/stdout`: `allow`, `discard` (writes succeed, go nowhere) or
    /// `deny` (the default: the stream is closed).
    #[serde(default, deserialize_with = "keyword::option")]
    pub stdout: Option<StreamMode>,
    /// `wasi:cli/stderr`, as `stdout`.
    #[serde(default, deserialize_with = "keyword::option")]
    pub stderr: Option<StreamMode>,
    /// `wasi:cli/stdin`: `allow`, `deny` (the default) or `{ fixed = "text" }`.
    #[serde(default, deserialize_with = "stdin")]
    pub stdin: Option<StdinMode>,
    /// Outgoing HTTP passed through for these rules only, each `METHODS
    /// AUTHORITY` (e.g. `GET *.example.com`, `GET,POST 127.0.0.1:8080`, `*
    /// api.example.com`); any other request gets `HTTP-request-denied`.
    pub http: Option<Vec<String>>,
    /// TCP passed through for the listed addresses only.
    pub sockets: Option<SocketsSpec>,
    /// A filesystem slice: a narrowed host preopen or an embedded directory.
    pub files: Option<FilesSpec>,
}

/// Manifest values that are keywords of `airlock-slice-settings` types, read
/// as serde reads a unit-variant enum (same path, same messages), the word
/// checked by the type's `FromStr`.
mod keyword {
    use serde::de::{self, Deserializer, EnumAccess, VariantAccess, Visitor};
    use std::fmt;
    use std::marker::PhantomData;
    use std::str::FromStr;

    /// A type read from one keyword: its name (for serde's messages) and words.
    pub trait Keyword: FromStr<Err: fmt::Display> {
        const NAME: &'static str;
        const WORDS: &'static [&'static str];
    }

    impl Keyword for airlock_slice_settings::Access {
        const NAME: &'static str = "Access";
        const WORDS: &'static [&'static str] = &airlock_slice_settings::Access::WORDS;
    }

    impl Keyword for airlock_slice_settings::StreamMode {
        const NAME: &'static str = "StreamMode";
        const WORDS: &'static [&'static str] = &airlock_slice_settings::StreamMode::WORDS;
    }

    struct Words<T>(PhantomData<T>);

    impl<'de, T: Keyword> Visitor<'de> for Words<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "enum {}", T::NAME)
        }
        fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<T, A::Error> {
            // The word is checked where serde's derive checks it (inside
            // `variant_seed`), so the message points at the same place.
            let (value, unit) = data.variant_seed(Word(PhantomData))?;
            unit.unit_variant()?;
            Ok(value)
        }
    }

    /// The variant's word, parsed by `T`.
    struct Word<T>(PhantomData<T>);

    impl<'de, T: Keyword> de::DeserializeSeed<'de> for Word<T> {
        type Value = T;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
            d.deserialize_identifier(self)
        }
    }

    impl<'de, T: Keyword> Visitor<'de> for Word<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("variant identifier")
        }
        fn visit_str<E: de::Error>(self, word: &str) -> Result<T, E> {
            word.parse().map_err(E::custom)
        }
    }

    /// One keyword.
    pub fn one<'de, D: Deserializer<'de>, T: Keyword>(d: D) -> Result<T, D::Error> {
        d.deserialize_enum(T::NAME, T::WORDS, Words(PhantomData))
    }

    /// One keyword, for an optional key (`#[serde(default)]` covers its absence).
    pub fn option<'de, D: Deserializer<'de>, T: Keyword>(d: D) -> Result<Option<T>, D::Error> {
        one(d).map(Some)
    }
}

/// `stdin = "allow" | "deny" | { fixed = "text" }` (the shape only; the
/// `expecting` text is `airlock_slice_settings::stdio::STDIN_EXPECTED`,
/// which serde's attribute cannot name).
#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "expected `allow`, `deny` or `{ fixed = \"text\" }`"
)]
enum StdinSpec {
    Access(#[serde(deserialize_with = "keyword::one")] Access),
    Fixed { fixed: String },
}

fn stdin<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<StdinMode>, D::Error> {
    StdinSpec::deserialize(d).map(|s| {
        Some(match s {
            StdinSpec::Access(a) => a.into(),
            StdinSpec::Fixed { fixed } => StdinMode::Fixed(fixed),
        })
    })
}

/// `sockets = { connect = ["127.0.0.1:8080"], bind = [] }`
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SocketsSpec {
    /// Addresses TCP may connect to: `IP:PORT`, `IP:*`.
    #[serde(default)]
    pub connect: Vec<String>,
    /// Addresses TCP may bind and listen on (default: none).
    #[serde(default)]
    pub bind: Vec<String>,
}

/// `files = { dir = "/docs/public", read-only = true }` (a narrowed host
/// preopen) or `files = { embed = "assets", as = "/assets" }` (a directory
/// of the build machine, embedded read-only in the output).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FilesSpec {
    /// A directory under one of the host's preopens (guest path), the only
    /// part of the host's files the library sees.
    pub dir: Option<String>,
    /// A directory on the build machine (relative to the manifest) to embed.
    pub embed: Option<PathBuf>,
    /// The preopen name the library sees (default: `dir`, or `/` for `embed`).
    #[serde(rename = "as")]
    pub as_name: Option<String>,
    /// Whether writes are refused (default: true).
    pub read_only: Option<bool>,
}

/// `random = { seed = 42 }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RandomSpec {
    /// The seed of the generator (splitmix64).
    pub seed: u64,
}

/// A manifest that could not be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read manifest `{path}`: {source}")]
    Read {
        /// The manifest path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown or missing keys.
    /// `--set NAME.KEY=...` names no component of the manifest (a usage error).
    #[error("`--set {setting}` names no component; available: {available}{suggestion}")]
    UnknownSetTarget {
        /// `NAME.KEY` as given.
        setting: String,
        /// The manifest's components.
        available: String,
        /// `; did you mean ...?`, or empty.
        suggestion: String,
    },
    #[error("invalid manifest `{path}`: {message}")]
    Parse {
        /// The manifest path.
        path: PathBuf,
        /// toml's message, which names the line and column.
        message: String,
    },
}

impl Manifest {
    /// Reads and parses a manifest file.
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses manifest text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ManifestError> {
        toml::from_str(text).map_err(|e| ManifestError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })
    }
}

/// `[registry]` in `airlock.toml`.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RegistrySection {
    /// The registry for every namespace not listed in `namespaces`.
    pub default: Option<String>,
    /// Namespace -> registry.
    #[serde(default)]
    pub namespaces: std::collections::BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_manifest() {
        let m = Manifest::parse(
            r#"
[output]
root = "app"
package = "example:app@0.1.0"

[allow]
interfaces = ["wasi:cli/stdout@0.2"]

[components.app]
path = "app.wasm"
grant = ["wasi:cli/*"]
wire = { "airlock:stats/stats" = "stats" }

[components.stats]
path = "stats.wasm"
deny = ["demo:kv/store"]
"#,
            Path::new("airlock.toml"),
        )
        .unwrap();
        assert_eq!(m.output.root.as_deref(), Some("app"));
        assert_eq!(m.components.len(), 2);
        assert_eq!(m.components["app"].wire["airlock:stats/stats"], "stats");
        assert_eq!(m.components["stats"].deny, ["demo:kv/store"]);
        assert_eq!(
            m.components["stats"].path.as_deref(),
            Some(Path::new("stats.wasm"))
        );
    }

    /// The slice keywords read through `airlock-slice-settings` say what
    /// serde's derived enums said, at the value's line.
    #[test]
    fn slice_keywords_are_read_by_the_settings_types() {
        let spec = |keys: &str| {
            let text = format!("[components.app]\npath = \"a.wasm\"\n{keys}\n");
            Manifest::parse(&text, Path::new("m.toml"))
                .map(|mut m| m.components.remove("app").unwrap())
        };
        let c = spec(
            "exit = \"allow\"\nstdout = \"discard\"\nstderr = \"deny\"\nstdin = { fixed = \"x\" }",
        )
        .unwrap();
        assert_eq!(c.exit, Some(Access::Allow));
        assert_eq!(
            (c.stdout, c.stderr),
            (Some(StreamMode::Discard), Some(StreamMode::Deny))
        );
        assert_eq!(c.stdin, Some(StdinMode::Fixed("x".into())));
        assert_eq!(
            spec("stdin = \"deny\"").unwrap().stdin,
            Some(StdinMode::Deny)
        );
        let c = spec("").unwrap();
        assert_eq!((c.exit, c.stdout, c.stdin), (None, None, None));
        for (keys, says) in [
            (
                "exit = \"maybe\"",
                "unknown variant `maybe`, expected `allow` or `deny`",
            ),
            (
                "stdout = \"ALLOW\"",
                "unknown variant `ALLOW`, expected one of `allow`, `discard`, `deny`",
            ),
            ("stderr = 1", "wanted string or table"),
            (
                "stdin = \"discard\"",
                airlock_slice_settings::stdio::STDIN_EXPECTED,
            ),
        ] {
            let err = spec(keys).unwrap_err().to_string();
            assert!(
                err.contains(says) && err.contains("line 3"),
                "{keys}: {err}"
            );
        }
    }

    #[test]
    fn unknown_keys_name_their_line() {
        let err = Manifest::parse(
            "[output]\nroot = \"app\"\n\n[components.app]\npath = \"a.wasm\"\ngrants = []\n",
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 6"), "{err}");
        assert!(err.contains("grants"), "{err}");
        assert!(err.contains("m.toml"), "{err}");
    }
}
