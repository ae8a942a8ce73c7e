//! A cache of pulled components, addressed by content digest:
//! `ROOT/blobs/sha256/<hex>`, plus `ROOT/refs/<registry>/<ns>/<name>/<version>`
//! (holding a digest) so that `--offline` can resolve versions it has seen.
//!
//! ROOT is `AIRLOCK_CACHE_DIR`, else `$XDG_CACHE_HOME/airlock`, else
//! `~/.cache/airlock`. Every read re-hashes the blob: a corrupted entry is
//! dropped, never used.

use super::{PackageName, RegistryError, sha256};
use semver::Version;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The cache folder.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// A cache in `root` (created when first written).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `AIRLOCK_CACHE_DIR`, else `$XDG_CACHE_HOME/airlock`, else `~/.cache/airlock`.
    pub fn default_root() -> PathBuf {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        if let Some(dir) = var("AIRLOCK_CACHE_DIR") {
            return dir.into();
        }
        var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir)
            .join("airlock")
    }

    /// The cache folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with this digest lives (whether or not it is there).
    pub fn blob_path(&self, digest: &str) -> Result<PathBuf, RegistryError> {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()))
            .ok_or_else(|| RegistryError::BadPackage {
                text: digest.to_string(),
                problem: "expected a digest `sha256:<64 hex digits>`".into(),
            })?;
        Ok(self.root.join("blobs").join("sha256").join(hex))
    }

    /// The path of a cached blob whose content still hashes to `digest`.
    pub fn get(&self, digest: &str) -> Result<Option<PathBuf>, RegistryError> {
        let path = self.blob_path(digest)?;
        match std::fs::read(&path) {
            Ok(bytes) if sha256(&bytes) == digest => Ok(Some(path)),
            Ok(_) => {
                // Corrupted: drop it so it is fetched again.
                let _ = std::fs::remove_file(&path);
                Ok(None)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(RegistryError::Cache { path, source }),
        }
    }

    /// Stores bytes under their digest; returns the digest and the path.
    pub fn put(&self, bytes: &[u8]) -> Result<(String, PathBuf), RegistryError> {
        let digest = sha256(bytes);
        let path = self.blob_path(&digest)?;
        if self.get(&digest)?.is_none() {
            write_file(&path, bytes)?;
        }
        Ok((digest, path))
    }

    /// Remembers that `registry` serves `package@version` with this digest.
    pub fn record_version(
        &self,
        registry: &str,
        package: &PackageName,
        version: &Version,
        digest: &str,
    ) -> Result<(), RegistryError> {
        let path = self.refs_dir(registry, package).join(version.to_string());
        write_file(&path, digest.as_bytes())
    }

    /// The versions of `package` seen in `registry`, with their digests.
    pub fn versions(
        &self,
        registry: &str,
        package: &PackageName,
    ) -> Result<BTreeMap<Version, String>, RegistryError> {
        let dir = self.refs_dir(registry, package);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(source) => return Err(RegistryError::Cache { path: dir, source }),
        };
        let mut out = BTreeMap::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let (Ok(v), Ok(d)) = (Version::parse(&name), std::fs::read_to_string(entry.path())) {
                out.insert(v, d.trim().to_string());
            }
        }
        Ok(out)
    }

    fn refs_dir(&self, registry: &str, package: &PackageName) -> PathBuf {
        let safe = |s: &str| s.replace([':', '/'], "_");
        self.root
            .join("refs")
            .join(safe(registry))
            .join(&package.namespace)
            .join(&package.name)
    }
}

/// Writes a file atomically (temporary file, then rename), creating its folder.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    use std::io::Write;
    let dir = path.parent().expect("cache paths have a folder");
    let err = |source| RegistryError::Cache {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_by_digest_and_drops_corrupt_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let (digest, path) = cache.put(b"hello").unwrap();
        assert_eq!(cache.get(&digest).unwrap(), Some(path.clone()));
        assert!(path.starts_with(dir.path().join("blobs/sha256")));
        std::fs::write(&path, b"tampered").unwrap();
        assert_eq!(cache.get(&digest).unwrap(), None);
        assert!(!path.exists());
        assert!(cache.get("sha256:../../etc/passwd").is_err());

        let pkg = PackageName::parse("airlock:stats").unwrap();
        let v = Version::new(0, 1, 0);
        cache
            .record_version("127.0.0.1:5000", &pkg, &v, &digest)
            .unwrap();
        let seen = cache.versions("127.0.0.1:5000", &pkg).unwrap();
        assert_eq!(seen.get(&v), Some(&digest));
        assert!(cache.versions("other", &pkg).unwrap().is_empty());
    }
}
