//! Which registry serves a package namespace, and how to talk to it.
//!
//! Compatible with wkg's config file (`$XDG_CONFIG_HOME/wasm-pkg/config.toml`):
//!
//! ```toml
//! default_registry = "ghcr.io"
//! [namespace_registries]
//! airlock = "127.0.0.1:5000"
//! [registry."127.0.0.1:5000".oci]
//! protocol = "http"
//! auth = { username = "me", password = "secret" }
//! ```
//!
//! First match wins: `--registry`, then `AIRLOCK_REGISTRY`, then the manifest's
//! `[registry]` (`namespaces`, then `default`), then wkg's `namespace_registries`,
//! then wkg's `default_registry`. A registry is `HOST[:PORT][/PREFIX]`; an
//! `http://` scheme (or wkg's `protocol = "http"`) means plain HTTP.

use super::{PackageName, RegistryError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `[registry]` in `airlock.toml`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RegistrySection {
    /// The registry for every namespace not listed in `namespaces`.
    pub default: Option<String>,
    /// Namespace -> registry.
    #[serde(default)]
    pub namespaces: BTreeMap<String, String>,
}

/// One registry: where, and whether over plain HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// `host[:port]`
    pub host: String,
    /// A repository prefix (`team/` in `ghcr.io/team`), empty or ending in `/`.
    pub prefix: String,
    /// Plain HTTP instead of HTTPS.
    pub http: bool,
    /// Basic credentials from wkg's config, if any.
    pub auth: Option<(String, String)>,
}

impl std::fmt::Display for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.host)?;
        if !self.prefix.is_empty() {
            write!(f, "/{}", self.prefix.trim_end_matches('/'))?;
        }
        Ok(())
    }
}

impl Registry {
    /// Parses `[http://|https://]HOST[:PORT][/PREFIX]`.
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        let bad = |problem: &str| RegistryError::BadRegistry {
            text: text.to_string(),
            problem: problem.to_string(),
        };
        let (http, rest) = if let Some(r) = text.strip_prefix("http://") {
            (true, r)
        } else if let Some(r) = text.strip_prefix("https://") {
            (false, r)
        } else if text.contains("://") {
            return Err(bad("only `http://` and `https://` are supported"));
        } else {
            (false, text)
        };
        let rest = rest.trim_end_matches('/');
        let (host, prefix) = match rest.split_once('/') {
            Some((h, p)) => (h, format!("{p}/")),
            None => (rest, String::new()),
        };
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        {
            return Err(bad(
                "expected `HOST[:PORT][/PREFIX]`, e.g. `ghcr.io/team` or `http://127.0.0.1:5000`",
            ));
        }
        Ok(Self {
            host: host.to_string(),
            prefix,
            http,
            auth: None,
        })
    }

    /// The OCI repository of a package here: `[PREFIX/]namespace/name`.
    pub fn repository(&self, package: &PackageName) -> String {
        format!("{}{}", self.prefix, package.repository())
    }
}

/// wkg's config file, as far as Airlock reads it (other keys are ignored).
#[derive(Debug, Default, Deserialize)]
pub struct WkgConfig {
    /// The registry for namespaces without their own.
    pub default_registry: Option<String>,
    /// Namespace -> registry.
    #[serde(default)]
    pub namespace_registries: BTreeMap<String, NamespaceRegistry>,
    /// Per-registry settings, keyed by `host[:port]`.
    #[serde(default)]
    pub registry: BTreeMap<String, WkgRegistry>,
}

/// A namespace's registry: a name, or a table with `registry = "..."`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum NamespaceRegistry {
    /// `airlock = "ghcr.io"`
    Name(String),
    /// `airlock = { registry = "ghcr.io", metadata = { ... } }`
    Table {
        /// The registry.
        registry: String,
    },
}

/// `[registry."host".oci]` and friends.
#[derive(Debug, Default, Deserialize)]
pub struct WkgRegistry {
    /// The OCI backend's settings.
    pub oci: Option<WkgOci>,
}

/// `[registry."host".oci]`
#[derive(Debug, Default, Deserialize)]
pub struct WkgOci {
    /// `http` or `https`.
    pub protocol: Option<String>,
    /// Basic credentials.
    pub auth: Option<WkgAuth>,
}

/// `auth = { username = "...", password = "..." }`
#[derive(Debug, Deserialize)]
pub struct WkgAuth {
    /// The user name.
    pub username: String,
    /// The password or token.
    pub password: String,
}

impl WkgConfig {
    /// Where wkg keeps its config: `$XDG_CONFIG_HOME/wasm-pkg/config.toml`
    /// (`~/.config/...` without it).
    pub fn default_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(base.join("wasm-pkg").join("config.toml"))
    }

    /// Reads the file; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Self, RegistryError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(RegistryError::Config {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                });
            }
        };
        toml::from_str(&text).map_err(|e| RegistryError::Config {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })
    }
}

/// Everything that says where packages live, in order of precedence.
#[derive(Debug, Default)]
pub struct RegistryConfig {
    /// `--registry`
    pub flag: Option<String>,
    /// `AIRLOCK_REGISTRY`
    pub env: Option<String>,
    /// The manifest's `[registry]`.
    pub manifest: Option<RegistrySection>,
    /// wkg's config file.
    pub wkg: WkgConfig,
    /// Where wkg's config was looked for (for messages).
    pub wkg_path: Option<PathBuf>,
}

impl RegistryConfig {
    /// The usual sources: the flag, `AIRLOCK_REGISTRY`, the manifest's section
    /// and wkg's config file.
    pub fn from_env(
        flag: Option<String>,
        manifest: Option<RegistrySection>,
    ) -> Result<Self, RegistryError> {
        let wkg_path = WkgConfig::default_path();
        let wkg = match &wkg_path {
            Some(p) => WkgConfig::load(p)?,
            None => WkgConfig::default(),
        };
        Ok(Self {
            flag,
            env: std::env::var("AIRLOCK_REGISTRY")
                .ok()
                .filter(|v| !v.is_empty()),
            manifest,
            wkg,
            wkg_path,
        })
    }

    /// The registry that serves `package`.
    pub fn registry_for(&self, package: &PackageName) -> Result<Registry, RegistryError> {
        let ns = &package.namespace;
        let manifest = self.manifest.as_ref();
        let chosen = self
            .flag
            .clone()
            .or_else(|| self.env.clone())
            .or_else(|| manifest.and_then(|m| m.namespaces.get(ns).cloned()))
            .or_else(|| manifest.and_then(|m| m.default.clone()))
            .or_else(|| {
                self.wkg.namespace_registries.get(ns).map(|r| match r {
                    NamespaceRegistry::Name(n) => n.clone(),
                    NamespaceRegistry::Table { registry } => registry.clone(),
                })
            })
            .or_else(|| self.wkg.default_registry.clone())
            .ok_or_else(|| RegistryError::NoRegistry {
                namespace: ns.clone(),
                config: self
                    .wkg_path
                    .as_ref()
                    .map_or("the wkg config".into(), |p| p.display().to_string()),
            })?;
        let mut registry = Registry::parse(&chosen)?;
        if let Some(oci) = self
            .wkg
            .registry
            .get(&registry.host)
            .and_then(|r| r.oci.as_ref())
        {
            if oci.protocol.as_deref() == Some("http") {
                registry.http = true;
            }
            registry.auth = oci
                .auth
                .as_ref()
                .map(|a| (a.username.clone(), a.password.clone()));
        }
        Ok(registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(s: &str) -> PackageName {
        PackageName::parse(s).unwrap()
    }

    #[test]
    fn parses_registries() {
        let r = Registry::parse("http://127.0.0.1:5000").unwrap();
        assert_eq!(
            (r.host.as_str(), r.http, r.prefix.as_str()),
            ("127.0.0.1:5000", true, "")
        );
        let r = Registry::parse("ghcr.io/team/").unwrap();
        assert_eq!(
            (r.host.as_str(), r.http, r.prefix.as_str()),
            ("ghcr.io", false, "team/")
        );
        assert_eq!(r.repository(&pkg("airlock:stats")), "team/airlock/stats");
        assert_eq!(r.to_string(), "ghcr.io/team");
        assert!(Registry::parse("ftp://x").is_err());
        assert!(Registry::parse("").is_err());
        assert!(Registry::parse("a b").is_err());
    }

    #[test]
    fn reads_wkg_config_and_applies_precedence() {
        let wkg: WkgConfig = toml::from_str(
            r#"
default_registry = "ghcr.io"
[namespace_registries]
airlock = "127.0.0.1:5000"
other = { registry = "example.com", metadata = { x = 1 } }
[registry."127.0.0.1:5000".oci]
protocol = "http"
auth = { username = "u", password = "p" }
[registry."ghcr.io".warg]
url = "ignored"
"#,
        )
        .unwrap();
        let mut config = RegistryConfig {
            wkg,
            ..Default::default()
        };
        let r = config.registry_for(&pkg("airlock:stats")).unwrap();
        assert_eq!(r.host, "127.0.0.1:5000");
        assert!(r.http);
        assert_eq!(r.auth, Some(("u".into(), "p".into())));
        assert_eq!(
            config.registry_for(&pkg("other:x")).unwrap().host,
            "example.com"
        );
        assert_eq!(
            config.registry_for(&pkg("wasi:io")).unwrap().host,
            "ghcr.io"
        );
        assert!(!config.registry_for(&pkg("wasi:io")).unwrap().http);

        config.manifest = Some(RegistrySection {
            default: Some("m.example".into()),
            namespaces: [("wasi".to_string(), "w.example".to_string())].into(),
        });
        assert_eq!(
            config.registry_for(&pkg("wasi:io")).unwrap().host,
            "w.example"
        );
        assert_eq!(
            config.registry_for(&pkg("airlock:x")).unwrap().host,
            "m.example"
        );
        config.env = Some("env.example".into());
        assert_eq!(
            config.registry_for(&pkg("wasi:io")).unwrap().host,
            "env.example"
        );
        config.flag = Some("http://flag.example:1".into());
        let r = config.registry_for(&pkg("wasi:io")).unwrap();
        assert_eq!((r.host.as_str(), r.http), ("flag.example:1", true));

        let empty = RegistryConfig::default();
        let e = empty.registry_for(&pkg("airlock:stats")).unwrap_err();
        assert!(
            e.to_string()
                .contains("no registry for the namespace `airlock`"),
            "{e}"
        );
    }
}
