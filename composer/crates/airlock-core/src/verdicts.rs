//! A cache of validation verdicts, so that the same input is not validated
//! in full on every run: `ROOT/validated/<key>`, one small file per component
//! that validated, where ROOT is the cache folder of pulled components (the
//! CLI's `--cache-dir`, else `AIRLOCK_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/airlock`, else `$HOME/.cache/airlock`). Unix only.
//!
//! What is cached: only that some exact bytes passed [`crate::verify::validate`]
//! (wasmparser, every feature, function bodies included). The key is the
//! sha256 of those bytes together with the composer's version and the identity
//! of the running executable (its size and modification time): a rebuild, or
//! a `cargo update` that moves wasmparser under the same composer version,
//! starts afresh instead of trusting another validator's verdict. An invalid
//! component is never recorded. Nothing else about a component is: its WIT is
//! decoded on every run, because wit-parser's `Resolve` cannot be deserialized
//! and decoding a WIT-only encoding of it again costs about what decoding the
//! component does, without giving back the same ids. That decoding runs
//! wasmparser's validator over every section (all but function bodies), so a
//! cached verdict skips the function bodies and a second structural pass, and
//! every input is still checked structurally on every run.
//! The OUTPUT is always validated and verified in full, whatever is cached.
//!
//! Threat model. The folder is the user's own, as the registry's and the
//! compile cache's are: created `0700`; not used when it is a symbolic link,
//! belongs to someone else or others may write to it. An entry is used only
//! when it is a regular file (not a link) owned by the user that no one else
//! may write to, and when its content is exactly what this build writes for
//! that key (format line, key, input digest); anything else (garbage, a
//! truncated file, another version's entry, an entry copied under another
//! key) is removed and the component validated again. Entries are written to
//! a temporary file and renamed into place, so concurrent runs only ever see
//! whole entries, and two runs storing one verdict write the same bytes.
//! What this does not stop is someone who can write to the user's own cache
//! folder: they could forge an entry for the hash of invalid bytes (there is
//! no secret to sign entries with that such a writer could not read; they
//! could as well replace the `airlock` binary). Such an entry changes no
//! outcome: the structure of the bytes is still validated when they are
//! decoded, their function bodies end up in the output, and the output is
//! validated in full before anything is written. When a run that trusted
//! cached verdicts fails, those components are validated again
//! ([`crate::pipeline::compose_cached`], [`crate::inspect::decode_cached`]),
//! so the error names the invalid input as it would without the cache, and
//! the forged entry is removed.

use crate::private_dir::{self, mode, owner, same_file};
use sha2::Digest as _;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The first line of an entry, and the start of every key: the entry format.
const FORMAT: &str = "airlock validation verdict 1";

/// The largest entry read (an entry is about 180 bytes).
const MAX_ENTRY: u64 = 1024;

/// The folder under the cache root.
const FOLDER: &str = "validated";

/// Why the cache cannot be used (the composer then validates everything).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The folder could not be created or read.
    #[error("cannot use the validation cache `{path}`: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The folder is not the user's own.
    #[error("not using the validation cache `{path}`: {problem}")]
    Unsafe {
        /// The folder.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
}

/// How often the cache was consulted, for tests and benchmarks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Verdicts found and trusted.
    pub hits: usize,
    /// Components validated because no entry was there.
    pub misses: usize,
    /// Entries rejected (and removed): corrupt, foreign, not the user's.
    pub rejected: usize,
    /// Entries written.
    pub stored: usize,
    /// Entries removed because the component turned out invalid.
    pub forgotten: usize,
}

/// A verdict cache (see the module docs). Its folder is created and checked
/// when first used, so a run that validates nothing writes nothing.
#[derive(Debug)]
pub struct VerdictCache {
    dir: PathBuf,
    /// Part of every key: this build of the composer.
    build: [u8; 32],
    /// The folder, once created and checked: the user's id, or why it is not used.
    folder: OnceLock<Result<u32, CacheError>>,
    hits: AtomicUsize,
    misses: AtomicUsize,
    rejected: AtomicUsize,
    stored: AtomicUsize,
    forgotten: AtomicUsize,
}

impl VerdictCache {
    /// The cache in `ROOT/validated`, for this build of the composer (see
    /// the module docs). Fails when the running executable cannot be
    /// identified; the folder itself is created (mode 0700) and checked when
    /// first used: see [`problem`](Self::problem).
    pub fn new(root: &Path) -> Result<Self, CacheError> {
        let exe = std::env::current_exe().and_then(std::fs::metadata);
        match &exe {
            Ok(meta) => Ok(Self::for_build(root, &build_stamp(meta))),
            Err(e) => Err(CacheError::Unsafe {
                path: root.join(FOLDER),
                problem: format!("the running executable cannot be identified ({e})"),
            }),
        }
    }

    /// [`new`](Self::new) with the build identity given (tests).
    fn for_build(root: &Path, stamp: &str) -> Self {
        let mut build = sha2::Sha256::new();
        build.update(FORMAT.as_bytes());
        build.update(b"\0airlock ");
        build.update(env!("CARGO_PKG_VERSION").as_bytes());
        build.update(b"\0features ");
        build.update(wasmparser::WasmFeatures::all().bits().to_le_bytes());
        build.update(b"\0build ");
        build.update(stamp.as_bytes());
        Self {
            dir: root.join(FOLDER),
            build: build.finalize().into(),
            folder: OnceLock::new(),
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
            rejected: AtomicUsize::new(0),
            stored: AtomicUsize::new(0),
            forgotten: AtomicUsize::new(0),
        }
    }

    /// Why the cache was not used, when it was tried and could not be.
    pub fn problem(&self) -> Option<&CacheError> {
        self.folder.get().and_then(|f| f.as_ref().err())
    }

    /// The user's id, once the folder is created and checked (`None`: not usable).
    fn uid(&self) -> Option<u32> {
        self.folder
            .get_or_init(|| open_folder(&self.dir))
            .as_ref()
            .ok()
            .copied()
    }

    /// The folder of the entries.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How often the cache was consulted so far.
    pub fn stats(&self) -> Stats {
        let get = |c: &AtomicUsize| c.load(Ordering::Relaxed);
        Stats {
            hits: get(&self.hits),
            misses: get(&self.misses),
            rejected: get(&self.rejected),
            stored: get(&self.stored),
            forgotten: get(&self.forgotten),
        }
    }

    /// Validates `bytes` (whose sha256 is `digest`, as
    /// [`crate::digest::sha256`] gives it) with [`crate::verify::validate`],
    /// unless an entry says that these exact bytes validated; records the
    /// verdict when they do. Returns whether the verdict came from the cache
    /// (then the caller checks it again if anything later goes wrong with
    /// these bytes: see [`recheck`](Self::recheck)).
    pub fn validate(&self, bytes: &[u8], digest: &str) -> Result<Verdict, String> {
        debug_assert_eq!(
            digest,
            crate::digest::sha256(bytes),
            "the digest of the bytes"
        );
        let key = self.key(digest);
        if self.lookup(&key, digest) {
            return Ok(Verdict::Cached);
        }
        crate::verify::validate(bytes)?;
        // A verdict that cannot be stored is only a lost speed-up.
        if self.store(&key, digest).is_ok() {
            self.stored.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Verdict::Checked)
    }

    /// Validates `bytes` (whose sha256 is `digest`) in full, ignoring any
    /// entry; when they do not validate, removes the entry that said they did.
    pub fn recheck(&self, bytes: &[u8], digest: &str) -> Result<(), String> {
        crate::verify::validate(bytes).inspect_err(|_| {
            if std::fs::remove_file(self.path(&self.key(digest))).is_ok() {
                self.forgotten.fetch_add(1, Ordering::Relaxed);
            }
        })
    }

    /// The entry's file name: 64 hex digits.
    fn key(&self, digest: &str) -> String {
        let mut key = sha2::Sha256::new();
        key.update(self.build);
        key.update(b"\0input ");
        key.update(digest.as_bytes());
        crate::digest::digest_text(key.finalize())["sha256:".len()..].to_string()
    }

    /// Where the entry `key` lives.
    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(key)
    }

    /// The path of the entry for these exact bytes (whether or not it is there).
    pub fn entry_for(&self, bytes: &[u8]) -> PathBuf {
        self.path(&self.key(&crate::digest::sha256(bytes)))
    }

    /// What an entry holds: nothing but what its name already says.
    fn content(key: &str, digest: &str) -> String {
        format!("{FORMAT}\nkey {key}\ninput {digest}\nvalid\n")
    }

    /// True when the entry `key` is there and says `valid`; an entry that is
    /// not exactly what [`store`](Self::store) writes, or that someone else
    /// could have written, is removed.
    fn lookup(&self, key: &str, digest: &str) -> bool {
        let Some(uid) = self.uid() else {
            return false;
        };
        let path = self.path(key);
        match read_entry(&path, uid) {
            Ok(None) => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                false
            }
            Ok(Some(text)) if text == Self::content(key, digest).as_bytes() => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                true
            }
            Ok(Some(_)) | Err(()) => {
                let _ = std::fs::remove_file(&path);
                self.rejected.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Writes the entry `key` atomically: a temporary file, then a rename.
    fn store(&self, key: &str, digest: &str) -> std::io::Result<()> {
        if self.uid().is_none() {
            return Err(std::io::ErrorKind::PermissionDenied.into());
        }
        let mut file = tempfile::Builder::new()
            .prefix(".entry-")
            .tempfile_in(&self.dir)?;
        file.write_all(Self::content(key, digest).as_bytes())?;
        file.persist(self.path(key)).map_err(|e| e.error)?;
        Ok(())
    }
}

/// The entry's bytes (`None`: no entry), after checking that user `uid`
/// wrote it; `Err` for an entry that must not be used.
fn read_entry(path: &Path, uid: u32) -> Result<Option<Vec<u8>>, ()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(_) => return Err(()),
    };
    if !meta.is_file() || meta.len() > MAX_ENTRY {
        return Err(());
    }
    let file = std::fs::File::open(path).map_err(drop)?;
    // The file opened is the one checked (not something renamed into place
    // since), and no one but the user may have written it.
    let opened = file.metadata().map_err(drop)?;
    if !opened.is_file()
        || !same_file(&opened, &meta)
        || owner(&opened) != uid
        || mode(&opened) & 0o022 != 0
    {
        return Err(());
    }
    let mut bytes = Vec::new();
    file.take(MAX_ENTRY + 1)
        .read_to_end(&mut bytes)
        .map_err(drop)?;
    Ok(Some(bytes))
}

/// Where a "valid" verdict came from.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Validated in this run.
    Checked,
    /// Taken from the cache.
    Cached,
}

/// The identity of the running executable: its size and modification time.
fn build_stamp(meta: &std::fs::Metadata) -> String {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default();
    format!("{} bytes, modified {}", meta.len(), modified.as_nanos())
}

/// Creates `dir` (mode 0700) if it is missing, and checks that it is a real
/// folder owned by the user that no one else may write to; the user's id.
fn open_folder(dir: &Path) -> Result<u32, CacheError> {
    let io = |source| CacheError::Io {
        path: dir.to_path_buf(),
        source,
    };
    private_dir::create(dir).map_err(io)?;
    let unsafe_dir = |problem: String| CacheError::Unsafe {
        path: dir.to_path_buf(),
        problem,
    };
    let meta = std::fs::symlink_metadata(dir).map_err(io)?;
    if !meta.is_dir() {
        return Err(unsafe_dir("it is not a folder (a symbolic link?)".into()));
    }
    // The user's id: the owner of a file created here.
    let probe = tempfile::Builder::new()
        .prefix(".probe-")
        .tempfile_in(dir)
        .map_err(io)?;
    let uid = owner(&probe.as_file().metadata().map_err(io)?);
    if owner(&meta) != uid {
        return Err(unsafe_dir(format!(
            "it belongs to uid {}, not to you (uid {uid})",
            owner(&meta)
        )));
    }
    let mode = mode(&meta);
    if mode & 0o022 != 0 {
        return Err(unsafe_dir(format!(
            "others may write to it (mode {mode:04o}); `chmod 700` it or remove it"
        )));
    }
    Ok(uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny valid component and an invalid one (a function body that does
    /// not produce its result).
    fn components() -> (Vec<u8>, Vec<u8>) {
        let valid = wat::parse_str("(component (core module (func (result i32) i32.const 1)))")
            .expect("parses");
        let invalid =
            wat::parse_str("(component (core module (func (result i32))))").expect("parses");
        assert!(crate::verify::validate(&valid).is_ok());
        assert!(crate::verify::validate(&invalid).is_err());
        (valid, invalid)
    }

    fn sha(bytes: &[u8]) -> String {
        crate::digest::sha256(bytes)
    }

    fn cache(root: &Path) -> VerdictCache {
        VerdictCache::for_build(root, "test build")
    }

    #[test]
    fn a_verdict_is_stored_once_and_then_trusted() {
        let root = tempfile::tempdir().unwrap();
        let (valid, invalid) = components();
        let c = cache(root.path());
        assert_eq!(c.validate(&valid, &sha(&valid)), Ok(Verdict::Checked));
        assert_eq!(c.validate(&valid, &sha(&valid)), Ok(Verdict::Cached));
        let stats = c.stats();
        assert_eq!((stats.misses, stats.stored, stats.hits), (1, 1, 1));
        // Another process (same build) sees it too.
        assert_eq!(
            cache(root.path()).validate(&valid, &sha(&valid)),
            Ok(Verdict::Cached)
        );
        // An invalid component is never recorded.
        assert!(c.validate(&invalid, &sha(&invalid)).is_err());
        assert!(c.validate(&invalid, &sha(&invalid)).is_err());
        assert!(!c.entry_for(&invalid).exists());
        let names: Vec<String> = std::fs::read_dir(c.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 1, "one entry, no temporary files: {names:?}");
        // Another build does not trust it.
        let other = VerdictCache::for_build(root.path(), "another build");
        assert_eq!(other.validate(&valid, &sha(&valid)), Ok(Verdict::Checked));
    }

    #[test]
    fn corrupt_and_foreign_entries_are_recomputed() {
        let root = tempfile::tempdir().unwrap();
        let (valid, invalid) = components();
        let c = cache(root.path());
        let entry = c.entry_for(&valid);
        c.validate(&valid, &sha(&valid)).unwrap();
        let good = std::fs::read(&entry).unwrap();
        let rewrite = |bytes: &[u8]| {
            std::fs::remove_file(&entry).ok();
            std::fs::write(&entry, bytes).unwrap();
        };
        let mut truncated = good.clone();
        truncated.pop();
        let other_version = String::from_utf8(good.clone())
            .unwrap()
            .replace(FORMAT, "airlock validation verdict 0");
        // An entry of other bytes, copied under this key.
        let copied = VerdictCache::content(&c.key("sha256:00"), "sha256:00");
        for bad in [
            &b"garbage"[..],
            &truncated,
            other_version.as_bytes(),
            copied.as_bytes(),
            &[b'x'; 4096][..],
        ] {
            rewrite(bad);
            assert_eq!(
                c.validate(&valid, &sha(&valid)),
                Ok(Verdict::Checked),
                "{bad:?}"
            );
            assert_eq!(std::fs::read(&entry).unwrap(), good, "rewritten");
        }
        // A symbolic link to a good entry is not followed, even to a genuine one.
        #[cfg(unix)]
        {
            let elsewhere = root.path().join("elsewhere");
            std::fs::write(&elsewhere, &good).unwrap();
            std::fs::remove_file(&entry).unwrap();
            std::os::unix::fs::symlink(&elsewhere, &entry).unwrap();
            assert_eq!(c.validate(&valid, &sha(&valid)), Ok(Verdict::Checked));
            assert!(!std::fs::symlink_metadata(&entry).unwrap().is_symlink());
        }
        // An entry others may write to is not trusted.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
            assert_eq!(c.validate(&valid, &sha(&valid)), Ok(Verdict::Checked));
        }
        assert_eq!(c.stats().rejected, 7);

        // A forged entry for the real hash of invalid bytes: trusted by the
        // lookup (nothing in the folder can tell), caught by `recheck`, which
        // removes it.
        let forged = c.entry_for(&invalid);
        let digest = crate::digest::sha256(&invalid);
        let key = forged.file_name().unwrap().to_str().unwrap().to_string();
        std::fs::write(&forged, VerdictCache::content(&key, &digest)).unwrap();
        assert_eq!(c.validate(&invalid, &sha(&invalid)), Ok(Verdict::Cached));
        assert!(c.recheck(&invalid, &sha(&invalid)).is_err());
        assert!(!forged.exists());
        assert_eq!(c.stats().forgotten, 1);
        assert!(c.validate(&invalid, &sha(&invalid)).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_others_can_write_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let (valid, _) = components();
        let root = tempfile::tempdir().unwrap();
        let c = cache(root.path());
        assert!(!c.dir().exists(), "created when first used");
        c.validate(&valid, &sha(&valid)).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(c.dir()), 0o700);
        assert!(c.problem().is_none());

        std::fs::set_permissions(c.dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let c = cache(root.path());
        assert_eq!(c.validate(&valid, &sha(&valid)), Ok(Verdict::Checked));
        assert_eq!(c.validate(&valid, &sha(&valid)), Ok(Verdict::Checked));
        let e = c.problem().expect("not used");
        assert!(e.to_string().contains("others may write"), "{e}");
        assert_eq!(c.stats(), Stats::default());

        // A symbolic link in place of the folder is not used either.
        std::fs::set_permissions(c.dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let other = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(c.dir(), other.path().join(FOLDER)).unwrap();
        let linked = cache(other.path());
        assert_eq!(linked.validate(&valid, &sha(&valid)), Ok(Verdict::Checked));
        let e = linked.problem().expect("not used");
        assert!(e.to_string().contains("not a folder"), "{e}");
    }
}
