//! The `airlock.toml` manifest: which components, what the output may import,
//! and what each component instance is granted. Kebab-case keys; unknown keys
//! are rejected with their line number (serde + toml spans).

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
    pub exit: Option<Access>,
    /// `wasi:cli/stdout`: `allow`, `discard` (writes succeed, go nowhere) or
    /// `deny` (the default: the stream is closed).
    pub stdout: Option<StreamMode>,
    /// `wasi:cli/stderr`, as `stdout`.
    pub stderr: Option<StreamMode>,
    /// `wasi:cli/stdin`: `allow`, `deny` (the default) or `{ fixed = "text" }`.
    pub stdin: Option<StdinSpec>,
    /// Outgoing HTTP passed through for these rules only, each `METHODS
    /// AUTHORITY` (e.g. `GET *.example.com`, `GET,POST 127.0.0.1:8080`, `*
    /// api.example.com`); any other request gets `HTTP-request-denied`.
    pub http: Option<Vec<String>>,
    /// TCP passed through for the listed addresses only.
    pub sockets: Option<SocketsSpec>,
    /// A filesystem slice: a narrowed host preopen or an embedded directory.
    pub files: Option<FilesSpec>,
}

/// `allow` or `deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Granted from the host (the allow-list must permit it).
    Allow,
    /// Denied inside the output.
    Deny,
}

/// What an output stream (stdout, stderr) may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StreamMode {
    /// The host's stream (the allow-list must permit it).
    Allow,
    /// Writes succeed and go nowhere.
    Discard,
    /// Writes fail: the stream is closed.
    Deny,
}

/// `stdin = "allow" | "deny" | { fixed = "text" }`
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(
    untagged,
    expecting = "expected `allow`, `deny` or `{ fixed = \"text\" }`"
)]
pub enum StdinSpec {
    /// The host's stdin, or a closed one.
    Access(Access),
    /// These bytes, then end of stream.
    Fixed {
        /// The text stdin yields.
        fixed: String,
    },
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
