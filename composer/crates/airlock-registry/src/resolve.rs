//! Turns `package = "ns:name@REQ"` into a component's verified bytes (and
//! its file in the cache): the locked version and digest when the lock has a
//! usable entry, else the highest published version that meets the requirement.
//!
//! A locked digest already in the cache is used without asking the registry
//! (so a warm cache works offline). Otherwise the locked version is pulled by
//! its tag, and content that does not hash to the locked digest is an error
//! (found from the manifest, before downloading).
//!
//! The bytes are read once: [`Resolved::bytes`] are the bytes that hashed to
//! [`Resolved::digest`] (as read from the cache, or as they arrived); the
//! lock check and the composition use them, never the cached file again.

use super::cache::{Blob, Cache};
use super::client::Client;
use super::config::{Registry, RegistryConfig};
use super::{PackageRef, PackageReq, RegistryError};
use crate::Error;
use crate::lock::{LockError, LockedComponent};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// A resolved registry component.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The exact version.
    pub package: PackageRef,
    /// Its content digest.
    pub digest: String,
    /// The cached file (for messages; its content may have changed since).
    pub path: PathBuf,
    /// The bytes that hash to `digest`: use these, not the file.
    pub bytes: Arc<[u8]>,
}

impl Resolved {
    fn new(package: PackageRef, blob: Blob) -> Self {
        Self {
            package,
            digest: blob.digest,
            path: blob.path,
            bytes: blob.bytes,
        }
    }
}

/// Resolves and fetches registry components, with progress lines on `progress`.
pub struct Resolver<'a> {
    /// Where packages live.
    pub config: RegistryConfig,
    /// The blob cache.
    pub cache: Cache,
    /// Use the cache only.
    pub offline: bool,
    /// The lock file (for messages).
    pub lock_path: PathBuf,
    /// Where progress goes (stderr in the CLI).
    pub progress: &'a mut dyn Write,
    clients: BTreeMap<String, Client>,
}

impl<'a> Resolver<'a> {
    /// A resolver; nothing is contacted until needed.
    pub fn new(
        config: RegistryConfig,
        cache: Cache,
        offline: bool,
        lock_path: PathBuf,
        progress: &'a mut dyn Write,
    ) -> Self {
        Self {
            config,
            cache,
            offline,
            lock_path,
            progress,
            clients: BTreeMap::new(),
        }
    }

    /// Resolves instance `instance`'s requirement. `locked` is its lock entry;
    /// with `update`, the lock's version is not preferred (the digest of an
    /// unchanged version is still checked).
    pub fn resolve(
        &mut self,
        instance: &str,
        req: &PackageReq,
        locked: Option<&LockedComponent>,
        update: bool,
    ) -> Result<Resolved, Error> {
        let pinned = locked.and_then(|l| {
            let package = PackageRef::parse(l.package.as_deref()?).ok()?;
            let digest = l.digest.clone()?;
            (package.name == req.name).then_some((package, digest))
        });
        let registry = self.config.registry_for(&req.name)?;
        if let Some((package, digest)) = &pinned
            && !update
            && req.req.matches(&package.version)
        {
            if let Some(blob) = self.cache.get(digest)? {
                return Ok(Resolved::new(package.clone(), blob));
            }
            if self.offline {
                return Err(RegistryError::NotCached {
                    what: format!("no copy of `{package}` ({digest}, locked for `{instance}`)"),
                    cache: self.cache.root().to_path_buf(),
                }
                .into());
            }
            return self.fetch(instance, &registry, package, Some(digest));
        }
        let version = if self.offline {
            let seen = self.cache.versions(&registry, &req.name)?;
            let Some(v) = req.best(seen.keys()).cloned() else {
                return Err(RegistryError::NotCached {
                    what: format!(
                        "no version of `{}` that meets `{}` (seen: {})",
                        req.name,
                        req.req,
                        list(seen.keys())
                    ),
                    cache: self.cache.root().to_path_buf(),
                }
                .into());
            };
            v
        } else {
            let versions = self.client(&registry)?.versions(&req.name)?;
            req.best(&versions)
                .cloned()
                .ok_or_else(|| RegistryError::NoMatchingVersion {
                    package: req.name.to_string(),
                    req: req.req.to_string(),
                    registry: registry.to_string(),
                    available: list(&versions),
                })?
        };
        let package = PackageRef {
            name: req.name.clone(),
            version,
        };
        // The same version as locked: its content must not have changed.
        let expected = pinned
            .as_ref()
            .filter(|(p, _)| *p == package)
            .map(|(_, d)| d.as_str());
        if self.offline {
            let seen = self.cache.versions(&registry, &req.name)?;
            let digest = seen[&package.version].clone();
            if let Some(expected) = expected {
                self.check_digest(instance, &package, expected, &digest)?;
            }
            let blob = self
                .cache
                .get(&digest)?
                .ok_or_else(|| RegistryError::NotCached {
                    what: format!("no copy of `{package}` ({digest})"),
                    cache: self.cache.root().to_path_buf(),
                })?;
            return Ok(Resolved::new(package, blob));
        }
        let expected = expected.map(str::to_string);
        self.fetch(instance, &registry, &package, expected.as_deref())
    }

    /// Reads the version's manifest; unless the layer is cached already,
    /// streams it into the cache (hashed as it is written, bounded by its
    /// declared size); records the version.
    fn fetch(
        &mut self,
        instance: &str,
        registry: &Registry,
        package: &PackageRef,
        expected: Option<&str>,
    ) -> Result<Resolved, Error> {
        let _ = writeln!(
            self.progress,
            "fetching `{package}` from `{registry}` for `{instance}`"
        );
        let start = Instant::now();
        let client = self.client(registry)?;
        let layer = client.layer(package)?;
        // A moved tag is found from the manifest: nothing is downloaded.
        if let Some(expected) = expected {
            self.check_digest(instance, package, expected, &layer.digest)?;
        }
        let blob = match self.cache.get(&layer.digest)? {
            Some(blob) => blob,
            None => {
                let mut writer = self.cache.writer()?;
                self.client(registry)?
                    .download(package, &layer, &mut writer)?;
                writer.commit(&layer.digest)?
            }
        };
        let _ = writeln!(
            self.progress,
            "fetched `{package}`: {:.1} KiB in {} ms, {}",
            blob.bytes.len() as f64 / 1024.0,
            start.elapsed().as_millis(),
            blob.digest
        );
        self.cache
            .record_version(registry, &package.name, &package.version, &blob.digest)?;
        Ok(Resolved::new(package.clone(), blob))
    }

    fn check_digest(
        &self,
        instance: &str,
        package: &PackageRef,
        locked: &str,
        actual: &str,
    ) -> Result<(), Error> {
        if locked == actual {
            return Ok(());
        }
        Err(LockError::DigestMismatch {
            component: instance.to_string(),
            package: package.to_string(),
            locked: locked.to_string(),
            actual: actual.to_string(),
            path: self.lock_path.clone(),
        }
        .into())
    }

    fn client(&mut self, registry: &Registry) -> Result<&Client, RegistryError> {
        let key = registry.cache_key();
        if !self.clients.contains_key(&key) {
            self.clients.insert(key.clone(), Client::new(registry)?);
        }
        Ok(&self.clients[&key])
    }
}

fn list<'v>(versions: impl IntoIterator<Item = &'v semver::Version>) -> String {
    let v: Vec<String> = versions.into_iter().map(|v| format!("`{v}`")).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}
