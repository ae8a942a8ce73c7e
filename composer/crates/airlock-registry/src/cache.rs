//! A cache of pulled components, addressed by content digest:
//! `ROOT/blobs/sha256/<hex>`, plus `ROOT/refs/<registry>/<ns>/<name>/<version>`
//! (holding a digest) so that `--offline` can resolve versions it has seen.
//! `<registry>` is the full registry reference (scheme, host, port and
//! prefix, escaped), so two prefixes on one host never share a record.
//!
//! ROOT is `AIRLOCK_CACHE_DIR`, else `$XDG_CACHE_HOME/airlock`, else
//! `$HOME/.cache/airlock`; with neither, a private folder in the temporary
//! directory, `airlock-<uid>`, created `0700` and checked to be this user's
//! own and writable by nobody else (a folder someone else made is refused).
//!
//! Every read re-hashes the blob: a corrupted entry is dropped, never used.
//! A blob is read once: [`Cache::get`] returns the bytes it checked, and
//! those bytes are what the caller uses (never the file again).

use super::client::Limits;
use super::config::Registry;
use super::{PackageName, RegistryError, digest_text, is_digest, sha256};
use semver::Version;
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The cache folder.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    max_bytes: u64,
}

/// A blob whose bytes hash to its digest, as read (or written) once.
#[derive(Debug, Clone)]
pub struct Blob {
    /// `sha256:<hex>`
    pub digest: String,
    /// Where it is cached (for messages: never read again).
    pub path: PathBuf,
    /// The verified bytes.
    pub bytes: Arc<[u8]>,
}

impl Cache {
    /// A cache in `root` (created when first written), reading blobs up to
    /// the default maximum component size.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            max_bytes: Limits::default().max_component_bytes,
        }
    }

    /// The cache in `dir` if given, else the [default](Self::default_root)
    /// (checked), with the maximum component size of [`Limits::from_env`].
    pub fn open(dir: Option<PathBuf>) -> Result<Self, RegistryError> {
        let root = match dir {
            Some(d) => d,
            None => Self::default_root()?,
        };
        Ok(Self::new(root).with_max_bytes(Limits::from_env()?.max_component_bytes))
    }

    /// The same cache, reading blobs of at most `max` bytes.
    pub fn with_max_bytes(mut self, max: u64) -> Self {
        self.max_bytes = max;
        self
    }

    /// `AIRLOCK_CACHE_DIR`, else `$XDG_CACHE_HOME/airlock`, else
    /// `$HOME/.cache/airlock`, else `airlock-<uid>` in the temporary
    /// directory: created `0700`, and refused unless it is a folder (not a
    /// link) owned by this user that no one else may write to.
    pub fn default_root() -> Result<PathBuf, RegistryError> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        if let Some(dir) = var("AIRLOCK_CACHE_DIR") {
            return Ok(dir.into());
        }
        if let Some(dir) = var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))
        {
            return Ok(dir.join("airlock"));
        }
        private_temp_dir()
    }

    /// The cache folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with this digest lives (whether or not it is there).
    pub fn blob_path(&self, digest: &str) -> Result<PathBuf, RegistryError> {
        if !is_digest(digest) {
            return Err(RegistryError::BadPackage {
                text: digest.to_string(),
                problem: "expected a digest `sha256:<64 lowercase hex digits>`".into(),
            });
        }
        Ok(self.root.join("blobs").join("sha256").join(&digest[7..]))
    }

    /// The cached blob with this digest, read once and checked: its bytes
    /// are the ones that hash to `digest`. A blob that does not (or is larger
    /// than the maximum component size) is deleted and `None` returned.
    pub fn get(&self, digest: &str) -> Result<Option<Blob>, RegistryError> {
        let path = self.blob_path(digest)?;
        let err = |source| RegistryError::Cache {
            path: path.clone(),
            source,
        };
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(err(e)),
        };
        let mut bytes = Vec::new();
        file.take(self.max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(err)?;
        if bytes.len() as u64 > self.max_bytes || sha256(&bytes) != digest {
            // Corrupted (or swollen): drop it so it is fetched again.
            let _ = std::fs::remove_file(&path);
            return Ok(None);
        }
        Ok(Some(Blob {
            digest: digest.to_string(),
            path,
            bytes: bytes.into(),
        }))
    }

    /// Stores bytes under their digest.
    pub fn put(&self, bytes: &[u8]) -> Result<Blob, RegistryError> {
        let mut writer = self.writer()?;
        writer
            .write_all(bytes)
            .map_err(|source| RegistryError::Cache {
                path: writer.file.path().to_path_buf(),
                source,
            })?;
        let digest = sha256(bytes);
        writer.commit(&digest)
    }

    /// A blob being written: a temporary file beside the blobs, hashed as it
    /// is written; [`BlobWriter::commit`] moves it into place.
    pub fn writer(&self) -> Result<BlobWriter, RegistryError> {
        let dir = self.root.join("blobs").join("sha256");
        let err = |source| RegistryError::Cache {
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(err)?;
        let file = tempfile::NamedTempFile::new_in(&dir).map_err(err)?;
        Ok(BlobWriter {
            cache: self.clone(),
            file,
            bytes: Vec::new(),
            hasher: sha2::Sha256::new(),
        })
    }

    /// Remembers that `registry` serves `package@version` with this digest.
    pub fn record_version(
        &self,
        registry: &Registry,
        package: &PackageName,
        version: &Version,
        digest: &str,
    ) -> Result<(), RegistryError> {
        self.blob_path(digest)?;
        let path = self.refs_dir(registry, package).join(version.to_string());
        write_file(&path, digest.as_bytes())
    }

    /// The versions of `package` seen in `registry` (this exact reference:
    /// scheme, host, port and prefix), with their digests. Records that do
    /// not hold a digest are ignored.
    pub fn versions(
        &self,
        registry: &Registry,
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
            let Ok(v) = Version::parse(&name) else {
                continue;
            };
            let mut text = String::new();
            let read = std::fs::File::open(entry.path())
                .and_then(|f| f.take(128).read_to_string(&mut text));
            let digest = text.trim();
            if read.is_ok() && is_digest(digest) {
                out.insert(v, digest.to_string());
            }
        }
        Ok(out)
    }

    fn refs_dir(&self, registry: &Registry, package: &PackageName) -> PathBuf {
        self.root
            .join("refs")
            .join(escape(&registry.cache_key()))
            .join(&package.namespace)
            .join(&package.name)
    }
}

/// A blob on its way into the cache (see [`Cache::writer`]).
pub struct BlobWriter {
    cache: Cache,
    file: tempfile::NamedTempFile,
    bytes: Vec<u8>,
    hasher: sha2::Sha256,
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl BlobWriter {
    /// How many bytes were written so far.
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Moves the blob into place if what was written hashes to `digest`;
    /// returns the bytes as written (they are not read back). Otherwise the
    /// temporary file is deleted and the mismatch is an error.
    pub fn commit(mut self, digest: &str) -> Result<Blob, RegistryError> {
        let actual = digest_text(self.hasher.finalize());
        if actual != digest {
            return Err(RegistryError::Corrupt {
                reference: self.file.path().display().to_string(),
                expected: digest.to_string(),
                actual,
            });
        }
        let path = self.cache.blob_path(digest)?;
        self.file.flush().map_err(|source| RegistryError::Cache {
            path: path.clone(),
            source,
        })?;
        self.file.persist(&path).map_err(|e| RegistryError::Cache {
            path: path.clone(),
            source: e.error,
        })?;
        Ok(Blob {
            digest: actual,
            path,
            bytes: self.bytes.into(),
        })
    }
}

/// A registry reference as one folder name, injectively: letters, digits,
/// `.` and `-` stay, every other byte is `%XX`. A very long one is hashed.
fn escape(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.len() > 200 {
        return format!("sha256-{}", &sha256(key.as_bytes())[7..]);
    }
    out
}

/// `airlock-<uid>` in the temporary directory, created `0700`; refused
/// unless it is a real folder owned by this user and writable by no one else.
#[cfg(unix)]
fn private_temp_dir() -> Result<PathBuf, RegistryError> {
    private_dir_in(&std::env::temp_dir())
}

/// [`private_temp_dir`] in `tmp`.
#[cfg(unix)]
fn private_dir_in(tmp: &Path) -> Result<PathBuf, RegistryError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let dir = tmp.join(format!("airlock-{uid}"));
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(source) => return Err(RegistryError::Cache { path: dir, source }),
    }
    let unsafe_cache = |problem: String| RegistryError::UnsafeCache {
        path: dir.clone(),
        problem,
    };
    let meta = std::fs::symlink_metadata(&dir).map_err(|source| RegistryError::Cache {
        path: dir.clone(),
        source,
    })?;
    if meta.file_type().is_symlink() {
        return Err(unsafe_cache(
            "it is a symbolic link (no home directory, so the cache would be in the shared temporary directory)".into(),
        ));
    }
    if !meta.is_dir() {
        return Err(unsafe_cache("it is not a folder".into()));
    }
    if meta.uid() != uid {
        return Err(unsafe_cache(format!(
            "it belongs to uid {}, not to you (uid {uid}); someone may have made it to feed you components",
            meta.uid()
        )));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(unsafe_cache(format!(
            "others may write to it (mode {mode:04o}); `chmod 700` it or remove it"
        )));
    }
    Ok(dir)
}

/// Without a home directory, elsewhere than Unix: refuse.
#[cfg(not(unix))]
fn private_temp_dir() -> Result<PathBuf, RegistryError> {
    Err(RegistryError::UnsafeCache {
        path: std::env::temp_dir(),
        problem: "there is no home directory, and the temporary directory may be shared".into(),
    })
}

/// Writes a file atomically (temporary file, then rename), creating its folder.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
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
        let blob = cache.put(b"hello").unwrap();
        let digest = blob.digest.clone();
        let path = blob.path.clone();
        let got = cache.get(&digest).unwrap().unwrap();
        assert_eq!((&*got.bytes, &got.path), (&b"hello"[..], &path));
        assert!(path.starts_with(dir.path().join("blobs/sha256")));
        std::fs::write(&path, b"tampered").unwrap();
        assert!(cache.get(&digest).unwrap().is_none());
        assert!(!path.exists());
        assert!(cache.get("sha256:../../etc/passwd").is_err());
        assert!(cache.get(&digest.to_uppercase()).is_err());

        let pkg = PackageName::parse("airlock:stats").unwrap();
        let v = Version::new(0, 1, 0);
        let registry = Registry::parse("http://127.0.0.1:5000").unwrap();
        cache.record_version(&registry, &pkg, &v, &digest).unwrap();
        let seen = cache.versions(&registry, &pkg).unwrap();
        assert_eq!(seen.get(&v), Some(&digest));
        let other = Registry::parse("other").unwrap();
        assert!(cache.versions(&other, &pkg).unwrap().is_empty());
        assert!(cache.record_version(&registry, &pkg, &v, "x").is_err());
    }

    /// Version records are kept per full reference: scheme, host, port, prefix.
    #[test]
    fn records_are_per_registry_reference() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let pkg = PackageName::parse("t:lib").unwrap();
        let v = Version::new(1, 0, 0);
        let evil = cache.put(b"evil").unwrap().digest;
        let attacker = Registry::parse("ghcr.io/attacker").unwrap();
        cache.record_version(&attacker, &pkg, &v, &evil).unwrap();
        for other in [
            "ghcr.io/team",
            "ghcr.io",
            "http://ghcr.io/attacker",
            "ghcr.io:8443/attacker",
            "ghcr.io/attacker/x",
            "ghcr.io/attacker_",
        ] {
            let r = Registry::parse(other).unwrap();
            assert!(cache.versions(&r, &pkg).unwrap().is_empty(), "{other}");
        }
        assert_eq!(cache.versions(&attacker, &pkg).unwrap().len(), 1);
        assert_ne!(escape("https://a/b_c/"), escape("https://a/b/c/"));
        assert!(escape(&"x".repeat(300)).starts_with("sha256-"));
    }

    /// A record that does not hold a digest is ignored.
    #[test]
    fn bad_records_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let pkg = PackageName::parse("t:lib").unwrap();
        let r = Registry::parse("ghcr.io/team").unwrap();
        let d = cache.refs_dir(&r, &pkg);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("1.0.0"), "../../../../etc/passwd").unwrap();
        std::fs::write(d.join("1.0.1"), "x".repeat(10_000)).unwrap();
        assert!(cache.versions(&r, &pkg).unwrap().is_empty());
    }

    /// The bytes `get` returns are the ones it verified: changing the file
    /// afterwards changes nothing for the caller.
    #[test]
    fn verified_bytes_do_not_change_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let blob = cache.put(b"good component").unwrap();
        let got = cache.get(&blob.digest).unwrap().unwrap();
        std::fs::write(&blob.path, b"evil component").unwrap();
        assert_eq!(&*got.bytes, b"good component");
        assert_eq!(sha256(&got.bytes), blob.digest);
    }

    /// Without a home: `airlock-<uid>` in the temporary directory, made
    /// private; one that someone else could have made or can write is refused.
    #[cfg(unix)]
    #[test]
    fn the_temporary_fallback_is_private() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let tmp = tempfile::tempdir().unwrap();
        let dir = private_dir_in(tmp.path()).unwrap();
        // SAFETY: no preconditions.
        let uid = unsafe { libc::geteuid() };
        assert_eq!(dir, tmp.path().join(format!("airlock-{uid}")));
        let meta = std::fs::metadata(&dir).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
        assert_eq!(private_dir_in(tmp.path()).unwrap(), dir, "reused");

        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = private_dir_in(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("others may write to it (mode 0777)"), "{e}");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1733)).unwrap();
        assert!(private_dir_in(tmp.path()).is_err());
        std::fs::remove_dir(&dir).unwrap();

        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), &dir).unwrap();
        let e = private_dir_in(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        std::fs::remove_file(&dir).unwrap();

        std::fs::write(&dir, b"").unwrap();
        assert!(private_dir_in(tmp.path()).is_err());
        std::fs::remove_file(&dir).unwrap();

        if uid == 0 {
            std::fs::create_dir(&dir).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
            std::os::unix::fs::chown(&dir, Some(65534), None).unwrap();
            assert_eq!(std::fs::metadata(&dir).unwrap().uid(), 65534);
            let e = private_dir_in(tmp.path()).unwrap_err().to_string();
            assert!(e.contains("belongs to uid 65534, not to you"), "{e}");
        }
    }

    /// A blob larger than the maximum component size is not read (and dropped).
    #[test]
    fn oversized_blobs_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let blob = cache.put(&[7u8; 100]).unwrap();
        let small = cache.clone().with_max_bytes(99);
        assert!(small.get(&blob.digest).unwrap().is_none());
        assert!(!blob.path.exists());
    }

    /// What a writer hashed as it wrote is what it commits; a mismatch
    /// leaves nothing in the cache.
    #[test]
    fn writers_commit_verified_bytes_only() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let mut w = cache.writer().unwrap();
        w.write_all(b"abc").unwrap();
        assert_eq!(w.len(), 3);
        let e = w.commit(&sha256(b"abd")).unwrap_err();
        assert!(e.to_string().contains("hashes to"), "{e}");
        assert!(cache.get(&sha256(b"abd")).unwrap().is_none());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("blobs/sha256"))
            .unwrap()
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        let mut w = cache.writer().unwrap();
        w.write_all(b"abc").unwrap();
        let blob = w.commit(&sha256(b"abc")).unwrap();
        assert_eq!(&*blob.bytes, b"abc");
        assert_eq!(std::fs::read(&blob.path).unwrap(), b"abc");
    }
}
