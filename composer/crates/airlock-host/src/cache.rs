//! A cache of compiled components on disk, so that `airlock run` compiles a
//! component once, as `wasmtime run` does with its own cache.
//!
//! An entry is [`Component::serialize`]'s output, keyed by the sha256 of the
//! component's bytes, the wasmtime version and the engine's compilation
//! settings ([`Engine::precompile_compatibility_hash`]). Loading one is
//! [`Component::deserialize`], which trusts its input (it maps machine code), so:
//! - the directory must be a real directory owned by the user, mode 0700
//!   (created so; one that others could read is made private, one that others
//!   could write is not used);
//! - an entry must be a regular file owned by the user, not writable by others;
//! - an entry starts with a magic line and the sha256 of the rest, checked
//!   before deserializing: a truncated or corrupt entry is removed and the
//!   component compiled again, never loaded;
//! - entries are written to a temporary file in the directory and renamed into
//!   place, so a reader never sees half an entry.
//!
//! Where: `$AIRLOCK_CACHE_DIR/compiled`, else `$XDG_CACHE_HOME/airlock/compiled`,
//! else `$HOME/.cache/airlock/compiled` ([`default_dir`]). Unix only.

use airlock_core::private_dir::{self, mode, owner};
use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The wasmtime this crate is pinned to (`=48.0.8` in the workspace); part of
/// every key. wasmtime also refuses artifacts of another version on its own.
const WASMTIME_VERSION: &str = "48.0.8";

/// The first bytes of an entry: the format, then the sha256 of the payload.
const MAGIC: &[u8; 16] = b"airlock-cwasm-1\n";

/// The file name extension of entries.
const EXTENSION: &str = "cwasm";

/// The cache directory the environment names, if any: `$AIRLOCK_CACHE_DIR/compiled`,
/// `$XDG_CACHE_HOME/airlock/compiled` (an absolute path only, as the XDG
/// specification says) or `$HOME/.cache/airlock/compiled`; none off Unix.
pub fn default_dir() -> Option<PathBuf> {
    if cfg!(not(unix)) {
        // The ownership and mode checks are Unix's; elsewhere, no cache.
        return None;
    }
    dir_from(|name| std::env::var_os(name))
}

/// [`default_dir`] with the environment given as a function.
fn dir_from(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let var = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("AIRLOCK_CACHE_DIR") {
        return Some(dir.join("compiled"));
    }
    if let Some(dir) = var("XDG_CACHE_HOME").filter(|d| d.is_absolute()) {
        return Some(dir.join("airlock/compiled"));
    }
    var("HOME").map(|home| home.join(".cache/airlock/compiled"))
}

/// An open cache directory, checked to be the user's own.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
    uid: u32,
}

/// What a lookup found.
pub enum Lookup {
    /// A valid entry, deserialized.
    Hit(Component),
    /// No entry.
    Miss,
    /// An entry that failed a check (and was removed); why.
    Rejected(String),
}

/// How [`compile_cached`] got its component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheUse {
    /// Loaded from the cache.
    Hit,
    /// Compiled and stored.
    Stored,
    /// Compiled; the entry could not be stored (the reason).
    NotStored(String),
    /// Compiled after the entry was rejected (the reason); the new one is stored.
    Replaced(String),
}

impl CompileCache {
    /// Opens (creating it, mode 0700) the cache directory `dir`. Fails when it
    /// cannot be created, or is not a directory owned by the user that only
    /// the user can read and write.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        let shown = dir.display();
        private_dir::create(&dir).with_context(|| format!("creating `{shown}`"))?;
        // The user's id: the owner of a file we create here.
        let probe = tempfile::Builder::new()
            .prefix(".probe-")
            .tempfile_in(&dir)
            .with_context(|| format!("`{shown}` is not writable"))?;
        let uid = owner(&probe.as_file().metadata()?);
        drop(probe);
        let meta = std::fs::symlink_metadata(&dir).with_context(|| format!("reading `{shown}`"))?;
        if !meta.is_dir() {
            bail!("`{shown}` is not a directory (a symbolic link?)");
        }
        if owner(&meta) != uid {
            bail!("`{shown}` is owned by another user");
        }
        let mode = mode(&meta);
        if mode & 0o022 != 0 {
            bail!(
                "`{shown}` is writable by other users (mode {mode:03o}); \
                 remove what it holds, or make it private: chmod 700"
            );
        }
        if mode & 0o077 != 0 {
            // Ours and writable by no one else, so nothing in it was planted:
            // make it private, as if we had just created it.
            set_private(&dir).with_context(|| format!("making `{shown}` private (chmod 700)"))?;
        }
        Ok(Self { dir, uid })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of `component_bytes` compiled by `engine`: 64 hex digits.
    pub fn key(engine: &Engine, component_bytes: &[u8]) -> String {
        let mut settings = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut settings);
        let mut key = Sha256::new();
        key.update(b"airlock compiled component\0wasmtime ");
        key.update(WASMTIME_VERSION.as_bytes());
        key.update(b"\0settings ");
        key.update(settings.0.finalize());
        key.update(b"\0component ");
        key.update(Sha256::digest(component_bytes));
        hex(&key.finalize())
    }

    /// The file of the entry `key`.
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.{EXTENSION}"))
    }

    /// Loads the entry `key`, checking it first (see the module docs). A
    /// rejected entry is removed.
    pub fn load(&self, engine: &Engine, key: &str) -> Lookup {
        let path = self.path(key);
        let bytes = match self.read_entry(&path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Lookup::Miss,
            Err(reason) => return self.reject(&path, reason),
        };
        let payload = match checked_payload(&bytes) {
            Ok(payload) => payload,
            Err(reason) => return self.reject(&path, reason),
        };
        // SAFETY: `payload` is what `store` wrote from `Component::serialize`
        // with an engine of the same settings (both are in the key): the file
        // is the user's own, in a directory only the user can write, and its
        // checksum matches. wasmtime checks its version and settings again.
        match unsafe { Component::deserialize(engine, payload) } {
            Ok(component) => Lookup::Hit(component),
            Err(e) => self.reject(&path, format!("wasmtime refused it: {e}")),
        }
    }

    /// Stores `component` as the entry `key`, atomically.
    pub fn store(&self, key: &str, component: &Component) -> Result<()> {
        let payload = component
            .serialize()
            .map_err(super::state::to_anyhow)
            .context("serializing the compiled component")?;
        let mut file = tempfile::Builder::new()
            .prefix(".entry-")
            .tempfile_in(&self.dir)
            .with_context(|| format!("creating a file in `{}`", self.dir.display()))?;
        file.write_all(MAGIC)?;
        file.write_all(&Sha256::digest(&payload))?;
        file.write_all(&payload)?;
        file.flush()?;
        let path = self.path(key);
        file.persist(&path)
            .map_err(|e| e.error)
            .with_context(|| format!("writing `{}`", path.display()))?;
        Ok(())
    }

    /// The entry's bytes (`None`: no entry), after checking who may have written it.
    fn read_entry(&self, path: &Path) -> Result<Option<Vec<u8>>, String> {
        let meta = match std::fs::symlink_metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        if owner(&meta) != self.uid {
            return Err("owned by another user".into());
        }
        if mode(&meta) & 0o022 != 0 {
            return Err("writable by other users".into());
        }
        std::fs::read(path).map(Some).map_err(|e| e.to_string())
    }

    fn reject(&self, path: &Path, reason: String) -> Lookup {
        let _ = std::fs::remove_file(path);
        Lookup::Rejected(reason)
    }
}

/// The payload of an entry whose magic and checksum are right.
fn checked_payload(bytes: &[u8]) -> Result<&[u8], String> {
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or("not an airlock cache entry")?;
    if rest.len() < 32 {
        return Err("truncated".into());
    }
    let (sum, payload) = rest.split_at(32);
    if Sha256::digest(payload).as_slice() != sum {
        return Err("checksum mismatch (truncated or corrupt)".into());
    }
    Ok(payload)
}

/// Loads `component_bytes` from `cache`, or compiles it with `compile` and
/// stores the result. Without a cache it only compiles.
pub fn compile_cached(
    engine: &Engine,
    component_bytes: &[u8],
    cache: Option<&CompileCache>,
    compile: impl FnOnce() -> Result<Component>,
) -> Result<(Component, Option<CacheUse>)> {
    let Some(cache) = cache else {
        return Ok((compile()?, None));
    };
    let key = CompileCache::key(engine, component_bytes);
    let rejected = match cache.load(engine, &key) {
        Lookup::Hit(component) => return Ok((component, Some(CacheUse::Hit))),
        Lookup::Miss => None,
        Lookup::Rejected(reason) => Some(reason),
    };
    let component = compile()?;
    let used = match (cache.store(&key, &component), rejected) {
        (Err(e), _) => CacheUse::NotStored(format!("{e:#}")),
        (Ok(()), Some(reason)) => CacheUse::Replaced(reason),
        (Ok(()), None) => CacheUse::Stored,
    };
    Ok((component, Some(used)))
}

/// Feeds `Hash` output into sha256, for a key that is stable across runs
/// (std's hashers promise no stable output).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        // Never used: the digest is read from the inner hasher.
        0
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(unix)]
fn set_private(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn set_private(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny command-less component, compiled once per test.
    fn component(engine: &Engine) -> (Vec<u8>, Component) {
        // An empty component: the header alone.
        let bytes = b"\0asm\x0d\0\x01\0".to_vec();
        let component = Component::new(engine, &bytes).expect("an empty component compiles");
        (bytes, component)
    }

    #[test]
    fn stores_loads_and_rejects_entries() -> Result<()> {
        let engine = super::super::engine();
        let root = tempfile::tempdir()?;
        let cache = CompileCache::open(root.path().join("a/compiled"))?;
        let (bytes, compiled) = component(&engine);
        let key = CompileCache::key(&engine, &bytes);
        assert_eq!(key.len(), 64);
        assert_eq!(key, CompileCache::key(&engine, &bytes), "stable");
        assert_ne!(key, CompileCache::key(&engine, b"\0asm\x0d\0\x01\0\0"));
        assert!(matches!(cache.load(&engine, &key), Lookup::Miss));

        cache.store(&key, &compiled)?;
        assert!(matches!(cache.load(&engine, &key), Lookup::Hit(_)));
        let names: Vec<_> = std::fs::read_dir(cache.dir())?
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, [format!("{key}.cwasm")], "no temporary files left");

        // One flipped byte in the payload: rejected and removed, never loaded.
        let path = cache.path(&key);
        let mut entry = std::fs::read(&path)?;
        let last = entry.len() - 1;
        entry[last] ^= 1;
        std::fs::write(&path, &entry)?;
        match cache.load(&engine, &key) {
            Lookup::Rejected(reason) => assert!(reason.contains("checksum"), "{reason}"),
            _ => panic!("a corrupt entry was not rejected"),
        }
        assert!(!path.exists());

        // Truncated, then foreign: rejected too.
        std::fs::write(&path, &MAGIC[..])?;
        assert!(matches!(cache.load(&engine, &key), Lookup::Rejected(_)));
        std::fs::write(&path, b"\x7fELF")?;
        assert!(matches!(cache.load(&engine, &key), Lookup::Rejected(_)));

        // compile_cached: stored once, then a hit; a corrupt entry is replaced.
        let other = tempfile::tempdir()?;
        let cache = CompileCache::open(other.path().join("compiled"))?;
        let compile = || Ok(component(&engine).1);
        let (_, used) = compile_cached(&engine, &bytes, Some(&cache), compile)?;
        assert_eq!(used, Some(CacheUse::Stored));
        let (_, used) = compile_cached(&engine, &bytes, Some(&cache), || unreachable!())?;
        assert_eq!(used, Some(CacheUse::Hit));
        std::fs::write(cache.path(&key), b"garbage")?;
        let (_, used) = compile_cached(&engine, &bytes, Some(&cache), compile)?;
        assert!(matches!(used, Some(CacheUse::Replaced(_))), "{used:?}");
        let (_, used) = compile_cached(&engine, &bytes, None, compile)?;
        assert_eq!(used, None);
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_directory_others_can_write() -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir()?;
        let dir = root.path().join("compiled");
        let cache = CompileCache::open(&dir)?;
        assert_eq!(mode(&std::fs::metadata(cache.dir())?), 0o700);
        // Writable by others: not used.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o775))?;
        let e = CompileCache::open(&dir).unwrap_err();
        assert!(
            format!("{e:#}").contains("writable by other users"),
            "{e:#}"
        );
        // Readable by others only: made private.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        let cache = CompileCache::open(&dir)?;
        assert_eq!(mode(&std::fs::metadata(&dir)?), 0o700);

        // An entry writable by others is not loaded.
        let engine = super::super::engine();
        let (bytes, compiled) = component(&engine);
        let key = CompileCache::key(&engine, &bytes);
        cache.store(&key, &compiled)?;
        std::fs::set_permissions(cache.path(&key), std::fs::Permissions::from_mode(0o666))?;
        match cache.load(&engine, &key) {
            Lookup::Rejected(reason) => assert!(reason.contains("writable"), "{reason}"),
            _ => panic!("an entry writable by others was loaded"),
        }
        Ok(())
    }

    #[test]
    fn the_directory_follows_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        let all = env(&[
            ("AIRLOCK_CACHE_DIR", "/a"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ]);
        assert_eq!(dir_from(all), Some("/a/compiled".into()));
        let xdg = env(&[
            ("AIRLOCK_CACHE_DIR", ""),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ]);
        assert_eq!(dir_from(xdg), Some("/x/airlock/compiled".into()));
        // A relative XDG_CACHE_HOME is ignored, as the XDG specification says.
        let relative = env(&[("XDG_CACHE_HOME", "x"), ("HOME", "/h")]);
        assert_eq!(
            dir_from(relative),
            Some("/h/.cache/airlock/compiled".into())
        );
        assert_eq!(dir_from(env(&[])), None);
    }
}
