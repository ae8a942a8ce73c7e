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
//!
//! Credentials come from wkg's config only, and travel only over the scheme it
//! says: `auth` without `protocol = "http"` is for HTTPS, and a registry chosen
//! as `http://HOST` (by the flag, the environment or a manifest) is then an
//! error, never a downgrade. The other hosts' credentials are kept apart
//! ([`Registry::token_auth`]) for a token service on one of them.

use super::{PackageName, RegistryError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use airlock_core::manifest::RegistrySection;

/// One registry: where, and whether over plain HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// `host[:port]`, lowercase.
    pub host: String,
    /// A repository prefix (`team/` in `ghcr.io/team`), empty or ending in `/`.
    pub prefix: String,
    /// Plain HTTP instead of HTTPS.
    pub http: bool,
    /// Basic credentials from wkg's config for this host, if any (only when
    /// the scheme above is the one they are configured for).
    pub auth: Option<Credentials>,
    /// Credentials wkg's config has for other hosts (`host[:port]`,
    /// lowercase): a token service (`WWW-Authenticate: Bearer realm=...`) on
    /// one of them gets its own, never this registry's.
    pub token_auth: BTreeMap<String, Credentials>,
}

/// A user name and password from wkg's config, and the scheme they may use.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    /// The password or token.
    pub password: String,
    /// wkg's config says `protocol = "http"` for their host: they may travel
    /// over plain HTTP. Otherwise HTTPS only.
    pub http: bool,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("http", &self.http)
            .finish()
    }
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
        // OCI repository path components: lowercase letters, digits, `.`, `_`, `-`.
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
                })
        };
        if !prefix.is_empty() && !prefix.trim_end_matches('/').split('/').all(segment_ok) {
            return Err(bad(
                "the prefix after the host must be lowercase letters, digits, `.`, `_` and `-` between `/`s (e.g. `ghcr.io/team`)",
            ));
        }
        Ok(Self {
            host: host.to_ascii_lowercase(),
            prefix,
            http,
            auth: None,
            token_auth: BTreeMap::new(),
        })
    }

    /// The OCI repository of a package here: `[PREFIX/]namespace/name`.
    pub fn repository(&self, package: &PackageName) -> String {
        format!("{}{}", self.prefix, package.repository())
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.http { "http" } else { "https" }
    }

    /// The full reference, `SCHEME://HOST[:PORT]/[PREFIX/]`: what the cache
    /// keys its version records by, so that two prefixes (or schemes) on one
    /// host never share them.
    pub fn cache_key(&self) -> String {
        format!("{}://{}/{}", self.scheme(), self.host, self.prefix)
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
    Table { registry: String },
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
    pub username: String,
    /// The password or token.
    pub password: String,
}

impl WkgConfig {
    /// The `[registry."HOST".oci]` table for a host (`host[:port]`; hosts
    /// compare without case).
    pub fn oci(&self, host: &str) -> Option<&WkgOci> {
        self.registry
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(host))
            .and_then(|(_, r)| r.oci.as_ref())
    }

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

    /// The registry that serves `package`, with the credentials wkg's
    /// config has for it. Credentials configured for HTTPS (no `protocol =
    /// "http"`) and a registry chosen as `http://HOST` is an error: they are
    /// never sent in clear text.
    pub fn registry_for(&self, package: &PackageName) -> Result<Registry, RegistryError> {
        let ns = &package.namespace;
        let manifest = self.manifest.as_ref();
        let wkg_file = || {
            self.wkg_path
                .as_ref()
                .map_or("wkg's config".into(), |p| format!("`{}`", p.display()))
        };
        let (chosen, from) = self
            .flag
            .clone()
            .map(|r| (r, "`--registry`".to_string()))
            .or_else(|| {
                self.env
                    .clone()
                    .map(|r| (r, "`AIRLOCK_REGISTRY`".to_string()))
            })
            .or_else(|| {
                manifest
                    .and_then(|m| m.namespaces.get(ns).cloned())
                    .map(|r| (r, "the manifest's `[registry] namespaces`".to_string()))
            })
            .or_else(|| {
                manifest
                    .and_then(|m| m.default.clone())
                    .map(|r| (r, "the manifest's `[registry] default`".to_string()))
            })
            .or_else(|| {
                self.wkg.namespace_registries.get(ns).map(|r| {
                    let r = match r {
                        NamespaceRegistry::Name(n) => n.clone(),
                        NamespaceRegistry::Table { registry } => registry.clone(),
                    };
                    (r, wkg_file())
                })
            })
            .or_else(|| self.wkg.default_registry.clone().map(|r| (r, wkg_file())))
            .ok_or_else(|| RegistryError::NoRegistry {
                namespace: ns.clone(),
                config: self
                    .wkg_path
                    .as_ref()
                    .map_or("the wkg config".into(), |p| p.display().to_string()),
            })?;
        let mut registry = Registry::parse(&chosen)?;
        if let Some(oci) = self.wkg.oci(&registry.host) {
            let config_http = self.config_http(&registry.host, oci)?;
            if config_http {
                registry.http = true;
            }
            if let Some(auth) = &oci.auth {
                if registry.http && !config_http {
                    return Err(RegistryError::Downgrade {
                        host: registry.host.clone(),
                        chosen,
                        from,
                        config: wkg_file(),
                    });
                }
                registry.auth = Some(Credentials {
                    username: auth.username.clone(),
                    password: auth.password.clone(),
                    http: config_http,
                });
            }
        }
        for (host, settings) in &self.wkg.registry {
            let host = host.to_ascii_lowercase();
            let Some(oci) = settings.oci.as_ref() else {
                continue;
            };
            let Some(auth) = &oci.auth else { continue };
            if host == registry.host {
                continue;
            }
            let http = self.config_http(&host, oci)?;
            registry.token_auth.insert(
                host,
                Credentials {
                    username: auth.username.clone(),
                    password: auth.password.clone(),
                    http,
                },
            );
        }
        Ok(registry)
    }

    /// Whether wkg's config says plain HTTP for a host (`protocol = "http"`);
    /// anything but `http` and `https` is an error.
    fn config_http(&self, host: &str, oci: &WkgOci) -> Result<bool, RegistryError> {
        match oci
            .protocol
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("https") => Ok(false),
            Some("http") => Ok(true),
            Some(other) => Err(RegistryError::Config {
                path: self.wkg_path.clone().unwrap_or_default(),
                message: format!(
                    "`[registry.\"{host}\".oci] protocol = \"{other}\"`: expected `http` or `https`"
                ),
            }),
        }
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
        let auth = r.auth.as_ref().unwrap();
        assert_eq!(
            (auth.username.as_str(), auth.password.as_str(), auth.http),
            ("u", "p", true)
        );
        assert!(
            !format!("{r:?}").contains("\"p\""),
            "the password is not in Debug output"
        );
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

    fn wkg(text: &str) -> RegistryConfig {
        RegistryConfig {
            wkg: toml::from_str(text).unwrap(),
            wkg_path: Some("/home/me/.config/wasm-pkg/config.toml".into()),
            ..Default::default()
        }
    }

    /// Credentials configured for HTTPS are never sent over plain HTTP,
    /// whichever source names the registry with `http://`.
    #[test]
    fn https_credentials_refuse_a_downgrade() {
        let secure = r#"
[registry."127.0.0.1:5112".oci]
auth = { username = "u", password = "p" }
"#;
        let set = |config: &mut RegistryConfig, which: usize, value: &str| match which {
            0 => config.flag = Some(value.into()),
            1 => config.env = Some(value.into()),
            2 => {
                config.manifest = Some(RegistrySection {
                    default: Some(value.into()),
                    ..Default::default()
                })
            }
            _ => {
                config.manifest = Some(RegistrySection {
                    namespaces: [("airlock".to_string(), value.to_string())].into(),
                    ..Default::default()
                })
            }
        };
        for (which, from) in [
            (0, "`--registry`"),
            (1, "`AIRLOCK_REGISTRY`"),
            (2, "the manifest's `[registry] default`"),
            (3, "the manifest's `[registry] namespaces`"),
        ] {
            let mut config = wkg(secure);
            set(&mut config, which, "http://127.0.0.1:5112/team");
            let e = config
                .registry_for(&pkg("airlock:stats"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("registry `127.0.0.1:5112`")
                    && e.contains("over HTTPS")
                    && e.contains(from)
                    && e.contains("`http://127.0.0.1:5112/team`")
                    && e.contains("refusing to send them in clear text"),
                "{e}"
            );
            // Case does not slip past the config's key either.
            let mut config = wkg(r#"
[registry."Registry.Example".oci]
auth = { username = "u", password = "p" }
"#);
            set(&mut config, which, "http://REGISTRY.example");
            assert!(config.registry_for(&pkg("airlock:stats")).is_err());

            // Over HTTPS (explicit or bare), the credentials are used.
            for ok in ["https://127.0.0.1:5112", "127.0.0.1:5112/team"] {
                let mut config = wkg(secure);
                set(&mut config, which, ok);
                let r = config.registry_for(&pkg("airlock:stats")).unwrap();
                assert!(!r.http && r.auth.as_ref().is_some_and(|a| !a.http), "{ok}");
            }
        }
        // A host differing only in case is the same host.
        let mut config = wkg(secure);
        config.flag = Some("http://LOCALHOST:1".into());
        assert_eq!(
            config.registry_for(&pkg("a:b")).unwrap().host,
            "localhost:1"
        );

        // `protocol = "http"`: the user's own config allows plain HTTP.
        let mut config = wkg(r#"
[registry."127.0.0.1:5112".oci]
protocol = "http"
auth = { username = "u", password = "p" }
"#);
        config.flag = Some("http://127.0.0.1:5112".into());
        let r = config.registry_for(&pkg("airlock:stats")).unwrap();
        assert!(r.http && r.auth.is_some_and(|a| a.http));

        // No credentials: plain HTTP is the user's choice.
        let mut config = wkg("");
        config.flag = Some("http://127.0.0.1:5112".into());
        let r = config.registry_for(&pkg("airlock:stats")).unwrap();
        assert!(r.http && r.auth.is_none());

        let mut config = wkg(r#"
[registry."x".oci]
protocol = "gopher"
"#);
        config.flag = Some("x".into());
        let e = config.registry_for(&pkg("a:b")).unwrap_err().to_string();
        assert!(e.contains("expected `http` or `https`"), "{e}");
    }

    /// Other hosts' credentials are kept apart, for a token service there.
    #[test]
    fn other_hosts_credentials_are_kept_apart() {
        let mut config = wkg(r#"
[registry."registry.example".oci]
auth = { username = "reg", password = "p1" }
[registry."Auth.Example".oci]
auth = { username = "tok", password = "p2" }
[registry."plain.example:8080".oci]
protocol = "http"
auth = { username = "plain", password = "p3" }
[registry."noauth.example".oci]
protocol = "http"
"#);
        config.flag = Some("registry.example/team".into());
        let r = config.registry_for(&pkg("a:b")).unwrap();
        assert_eq!(r.auth.as_ref().unwrap().username, "reg");
        let hosts: Vec<_> = r.token_auth.keys().map(String::as_str).collect();
        assert_eq!(hosts, ["auth.example", "plain.example:8080"]);
        assert!(!r.token_auth["auth.example"].http);
        assert!(r.token_auth["plain.example:8080"].http);
    }

    #[test]
    fn prefixes_are_repository_paths_and_keys_are_whole() {
        for bad in [
            "ghcr.io/Team",
            "ghcr.io/a/../b",
            "ghcr.io/a?b",
            "ghcr.io/a#b",
            "ghcr.io/a//b",
            "ghcr.io/a%2fb",
        ] {
            assert!(Registry::parse(bad).is_err(), "{bad}");
        }
        let keys: Vec<String> = [
            "ghcr.io/team",
            "ghcr.io/attacker",
            "http://ghcr.io/team",
            "ghcr.io:443/team",
            "ghcr.io",
        ]
        .iter()
        .map(|r| Registry::parse(r).unwrap().cache_key())
        .collect();
        assert_eq!(keys[0], "https://ghcr.io/team/");
        assert_eq!(keys[2], "http://ghcr.io/team/");
        assert_eq!(keys[4], "https://ghcr.io/");
        let unique: std::collections::BTreeSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len());
    }
}
