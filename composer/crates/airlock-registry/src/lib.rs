//! OCI registries: package references, where a package lives, the wasm
//! artifact layout that `wkg` uses, and a digest-addressed cache.
//!
//! - [`config`]: which registry serves a namespace (wkg's config file, the
//!   manifest's `[registry]`, `AIRLOCK_REGISTRY`, `--registry`).
//! - [`client`]: push, list versions, pull (HTTP on a current-thread runtime):
//!   credentials only to their host over their scheme, bounded and streamed
//!   downloads, timeouts.
//! - [`cache`]: blobs by sha256 and the versions seen (keyed by the full
//!   registry reference), for `--offline`; a private folder per user.
//! - [`resolve`]: a manifest's `package = ...` to verified bytes (read once)
//!   and their cached file, lock-aware.

pub mod cache;
pub mod client;
pub mod config;
pub mod lock;
pub mod resolve;

use semver::{Version, VersionReq};
use std::fmt;
use std::path::PathBuf;

/// A package name, `namespace:name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageName {
    /// `airlock`
    pub namespace: String,
    /// `stats`
    pub name: String,
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.namespace, self.name)
    }
}

impl PackageName {
    /// Parses `namespace:name` (lowercase letters, digits and `-`, as WIT package names).
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        let bad = |why: &str| RegistryError::BadPackage {
            text: text.to_string(),
            problem: why.to_string(),
        };
        let (namespace, name) = text
            .split_once(':')
            .ok_or_else(|| bad("expected `namespace:name`"))?;
        for part in [namespace, name] {
            let ok = !part.is_empty()
                && !part.starts_with('-')
                && !part.ends_with('-')
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok {
                return Err(bad(
                    "each part must be lowercase letters, digits and `-` (e.g. `airlock:stats`)",
                ));
            }
        }
        Ok(Self {
            namespace: namespace.into(),
            name: name.into(),
        })
    }

    /// The OCI repository path: `namespace/name` (wkg's default mapping).
    pub fn repository(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// An exact package version, `namespace:name@1.2.3`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PackageRef {
    pub name: PackageName,
    pub version: Version,
}

impl fmt::Display for PackageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

impl PackageRef {
    /// Parses `namespace:name@1.2.3` (the version must be exact semver).
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        let (name, version) = text
            .split_once('@')
            .ok_or_else(|| RegistryError::BadPackage {
                text: text.to_string(),
                problem: "expected `namespace:name@1.2.3`".into(),
            })?;
        let version = Version::parse(version).map_err(|e| RegistryError::BadPackage {
            text: text.to_string(),
            problem: format!("`{version}` is not an exact semver version: {e}"),
        })?;
        Ok(Self {
            name: PackageName::parse(name)?,
            version,
        })
    }
}

/// A package with a semver requirement, `namespace:name@0.1` (`^0.1`); no
/// version means any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageReq {
    pub name: PackageName,
    /// The requirement (`0.1` means `^0.1`, as in Cargo).
    pub req: VersionReq,
}

impl fmt::Display for PackageReq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.req)
    }
}

impl PackageReq {
    /// Parses `namespace:name[@REQ]`.
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        let (name, req) = match text.split_once('@') {
            Some((n, r)) => (n, r),
            None => (text, "*"),
        };
        let req = VersionReq::parse(req).map_err(|e| RegistryError::BadPackage {
            text: text.to_string(),
            problem: format!("`{req}` is not a semver requirement: {e}"),
        })?;
        Ok(Self {
            name: PackageName::parse(name)?,
            req,
        })
    }

    /// The highest version that meets the requirement (pre-releases only when
    /// the requirement names one, as semver does).
    pub fn best<'a>(&self, versions: impl IntoIterator<Item = &'a Version>) -> Option<&'a Version> {
        versions.into_iter().filter(|v| self.req.matches(v)).max()
    }
}

pub use airlock_core::digest::{digest_text, is_digest, sha256};

/// What resolving a manifest's registry components can stop on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline's own error (reading a component, say).
    #[error(transparent)]
    Core(#[from] airlock_core::error::Error),
    /// A registry, a package reference or the cache failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The lock file cannot be used, or a component goes beyond it.
    #[error(transparent)]
    Lock(#[from] lock::LockError),
}

/// Anything that goes wrong with a registry, a package reference or the cache.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A package name, reference or requirement that does not parse.
    #[error("bad package `{text}`: {problem}")]
    BadPackage {
        /// As written.
        text: String,
        /// What is wrong.
        problem: String,
    },
    /// No registry is configured for a namespace.
    #[error(
        "no registry for the namespace `{namespace}`: pass `--registry HOST[:PORT]`, set `AIRLOCK_REGISTRY`, add `[registry] default = \"...\"` to the manifest, or set `default_registry` in `{config}`"
    )]
    NoRegistry {
        /// The package namespace.
        namespace: String,
        /// Where wkg's config file would be.
        config: String,
    },
    /// A registry address that does not parse.
    #[error("bad registry `{text}`: {problem}")]
    BadRegistry {
        /// As written.
        text: String,
        /// What is wrong.
        problem: String,
    },
    /// wkg's config file exists but cannot be read.
    #[error("cannot read the registry config `{path}`: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The registry answered with an error or could not be reached.
    #[error("registry `{registry}`: cannot {action} `{reference}`: {message}")]
    Remote {
        /// The registry host.
        registry: String,
        /// What was being done (`push`, `list the versions of`, `pull`).
        action: &'static str,
        /// The OCI reference or repository.
        reference: String,
        /// The client's message (with its causes).
        message: String,
    },
    /// Credentials configured for HTTPS, and a registry chosen over plain HTTP.
    #[error(
        "registry `{host}`: {config} has credentials for `{host}` over HTTPS, but {from} says `{chosen}`: refusing to send them in clear text; name the registry `{host}` or `https://{host}` there"
    )]
    Downgrade {
        /// The registry host.
        host: String,
        /// The registry as written.
        chosen: String,
        /// Where it was written (`--registry`, the manifest, ...).
        from: String,
        /// wkg's config file.
        config: String,
    },
    /// A registry sent, announced or listed more than a limit allows.
    #[error("registry `{registry}`: `{reference}`: {problem}")]
    Limit {
        /// The registry host.
        registry: String,
        /// The OCI reference or repository.
        reference: String,
        /// What went over which limit, and how to raise it.
        problem: String,
    },
    /// An environment setting that does not parse.
    #[error("`{name}={value}`: {problem}")]
    Setting {
        /// The variable.
        name: &'static str,
        value: String,
        /// What was expected.
        problem: String,
    },
    /// The cache folder is not private to this user.
    #[error(
        "the cache `{path}` is not safe to use: {problem}; set `AIRLOCK_CACHE_DIR` (or `XDG_CACHE_HOME` or `HOME`) to a folder of your own, or pass `--cache-dir`"
    )]
    UnsafeCache {
        /// The folder.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// No published version meets the requirement.
    #[error("no version of `{package}` in `{registry}` meets `{req}`; available: {available}")]
    NoMatchingVersion {
        package: String,
        /// The requirement.
        req: String,
        /// Where it was looked up (a registry, or the cache when offline).
        registry: String,
        /// The versions found.
        available: String,
    },
    /// What was pulled is not a wasm artifact (wrong media types or layers).
    #[error("`{reference}` is not a wasm component artifact: {problem}")]
    NotWasm {
        /// The OCI reference.
        reference: String,
        /// What is wrong.
        problem: String,
    },
    /// Pulled bytes do not hash to the digest the registry announced.
    #[error("`{reference}`: the registry announced {expected} but the content hashes to {actual}")]
    Corrupt {
        /// The OCI reference.
        reference: String,
        /// The announced digest.
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// Offline, and the cache does not have what is needed.
    #[error("offline: the cache `{cache}` has {what}; run once without `--offline` to fetch it")]
    NotCached {
        /// What was needed.
        what: String,
        /// The cache folder.
        cache: PathBuf,
    },
    /// The cache folder cannot be read or written.
    #[error("cache `{path}`: {source}")]
    Cache {
        /// The file or folder.
        path: PathBuf,
        source: std::io::Error,
    },
    /// The component to publish cannot be prepared (e.g. its metadata).
    #[error("cannot prepare `{package}` for publishing: {message}")]
    Prepare {
        /// The package reference.
        package: String,
        /// What went wrong.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references_and_requirements() {
        let r = PackageRef::parse("airlock:stats@1.2.3").unwrap();
        assert_eq!(r.to_string(), "airlock:stats@1.2.3");
        assert_eq!(r.name.repository(), "airlock/stats");
        assert!(PackageRef::parse("airlock:stats@0.1").is_err());
        assert!(PackageRef::parse("airlock:stats").is_err());
        assert!(PackageName::parse("Airlock:stats").is_err());
        assert!(PackageName::parse("airlock").is_err());

        let req = PackageReq::parse("airlock:stats@0.1").unwrap();
        let versions: Vec<Version> = ["0.1.0", "0.1.4", "0.2.0", "0.1.5-rc.1"]
            .iter()
            .map(|v| Version::parse(v).unwrap())
            .collect();
        assert_eq!(req.best(&versions).unwrap().to_string(), "0.1.4");
        let any = PackageReq::parse("airlock:stats").unwrap();
        assert_eq!(any.best(&versions).unwrap().to_string(), "0.2.0");
        assert!(
            PackageReq::parse("airlock:stats@0.3")
                .unwrap()
                .best(&versions)
                .is_none()
        );
        assert!(PackageReq::parse("airlock:stats@abc").is_err());
    }

    #[test]
    fn digests_are_sha256() {
        assert_eq!(
            sha256(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
