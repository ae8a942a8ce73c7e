//! `airlock.lock`, next to the manifest: the exact version and content digest
//! of each registry component, and the capability surface (imports) of every
//! component. A component that asks for an import the lock does not list
//! stops `airlock compose` and `airlock check` until the user accepts it
//! (`airlock lock --update`); imports that went away are fine.
//!
//! Imports are compared on their semver track (`wasi:cli/stdout@0.2.4` and
//! `@0.2.6` are the same capability; `@0.3.0` is new), so rebuilding with a
//! newer toolchain does not trip the lock.

use crate::names::InterfaceName;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The lock file's name.
pub const FILE_NAME: &str = "airlock.lock";

/// The lock file's format version.
pub const FORMAT: u32 = 1;

/// The whole lock file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LockFile {
    /// The format version ([`FORMAT`]).
    pub version: u32,
    /// One entry per component instance, by name.
    #[serde(default)]
    pub components: BTreeMap<String, LockedComponent>,
}

impl Default for LockFile {
    fn default() -> Self {
        Self {
            version: FORMAT,
            components: BTreeMap::new(),
        }
    }
}

/// `[components.NAME]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LockedComponent {
    /// The exact registry package, `ns:name@1.2.3` (registry components only).
    pub package: Option<String>,
    /// The component's content digest, `sha256:...` (registry components only:
    /// files on disk change with every build).
    pub digest: Option<String>,
    /// Its imports, as `airlock inspect` lists them.
    #[serde(default)]
    pub imports: Vec<String>,
}

/// A lock file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// It cannot be read or written.
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The lock file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// It does not parse.
    #[error("invalid lock file `{path}`: {message}")]
    Parse {
        /// The lock file.
        path: PathBuf,
        /// toml's message.
        message: String,
    },
    /// Components ask for capabilities the lock does not list.
    #[error("{}", added_message(.path, .added))]
    CapabilitiesAdded {
        /// The lock file.
        path: PathBuf,
        /// Component -> (its source, the imports it added).
        added: BTreeMap<String, (String, Vec<String>)>,
    },
    /// A registry component's content is not what the lock pinned.
    #[error(
        "component `{component}` (`{package}`): the lock pins {locked} but the registry now serves {actual}; a published version must not change. If you trust the new content, remove `[components.{component}]` from `{path}` and lock again"
    )]
    DigestMismatch {
        /// The instance.
        component: String,
        /// The package version.
        package: String,
        /// The digest in the lock.
        locked: String,
        /// The digest of what the registry served.
        actual: String,
        /// The lock file.
        path: PathBuf,
    },
}

fn added_message(path: &Path, added: &BTreeMap<String, (String, Vec<String>)>) -> String {
    let mut text = format!(
        "capabilities not in `{}` (the capability lock):",
        path.display()
    );
    for (component, (source, imports)) in added {
        for import in imports {
            let family = crate::inspect::Family::of(import).label();
            text.push_str(&format!(
                "\n  component `{component}` ({source}) now imports `{import}` ({family})"
            ));
        }
    }
    text.push_str(
        "\nreview them, then accept with `airlock lock --update` (or `airlock compose --update-lock`)",
    );
    text
}

impl LockFile {
    /// The lock file beside a manifest.
    pub fn path_for(manifest: &Path) -> PathBuf {
        manifest.with_file_name(FILE_NAME)
    }

    /// Reads a lock file; `None` when there is none.
    pub fn load(path: &Path) -> Result<Option<Self>, LockError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(LockError::Io {
                    action: "read",
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let lock: LockFile = toml::from_str(&text).map_err(|e| LockError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        if lock.version != FORMAT {
            return Err(LockError::Parse {
                path: path.to_path_buf(),
                message: format!(
                    "format version {} is not supported (this airlock writes {FORMAT})",
                    lock.version
                ),
            });
        }
        Ok(Some(lock))
    }

    /// The file's text (stable: sorted by name; one import per line, so a
    /// review of the diff shows each capability that comes or goes).
    pub fn to_text(&self) -> String {
        let string = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut text = format!(
            "# airlock.lock: written by `airlock`; commit it.\n\
             # Registry components are pinned to a version and digest; every\n\
             # component's imports are its accepted capabilities.\n\n\
             version = {}\n",
            self.version
        );
        for (name, c) in &self.components {
            let bare = !name.is_empty()
                && name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
            let key = if bare { name.clone() } else { string(name) };
            text.push_str(&format!("\n[components.{key}]\n"));
            if let Some(p) = &c.package {
                text.push_str(&format!("package = {}\n", string(p)));
            }
            if let Some(d) = &c.digest {
                text.push_str(&format!("digest = {}\n", string(d)));
            }
            if c.imports.is_empty() {
                text.push_str("imports = []\n");
            } else {
                text.push_str("imports = [\n");
                for i in &c.imports {
                    text.push_str(&format!("  {},\n", string(i)));
                }
                text.push_str("]\n");
            }
        }
        text
    }
}

/// How the current components differ from the lock.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Component -> imports on a track the lock does not list.
    pub added: BTreeMap<String, Vec<String>>,
    /// Component -> locked imports it no longer has.
    pub removed: BTreeMap<String, Vec<String>>,
    /// Components the lock does not know yet (recorded without question:
    /// adding a component is a change to the manifest, reviewed there).
    pub new_components: Vec<String>,
    /// Locked components no longer in the manifest.
    pub dropped_components: Vec<String>,
}

/// Compares the current surfaces with the lock.
pub fn compare(lock: &LockFile, current: &BTreeMap<String, LockedComponent>) -> Changes {
    let mut changes = Changes::default();
    for (name, now) in current {
        let Some(locked) = lock.components.get(name) else {
            changes.new_components.push(name.clone());
            continue;
        };
        let before: BTreeSet<String> = locked.imports.iter().map(|i| track(i)).collect();
        let after: BTreeSet<String> = now.imports.iter().map(|i| track(i)).collect();
        let added: Vec<String> = now
            .imports
            .iter()
            .filter(|i| !before.contains(&track(i)))
            .cloned()
            .collect();
        let removed: Vec<String> = locked
            .imports
            .iter()
            .filter(|i| !after.contains(&track(i)))
            .cloned()
            .collect();
        if !added.is_empty() {
            changes.added.insert(name.clone(), added);
        }
        if !removed.is_empty() {
            changes.removed.insert(name.clone(), removed);
        }
    }
    changes.dropped_components = lock
        .components
        .keys()
        .filter(|n| !current.contains_key(*n))
        .cloned()
        .collect();
    changes
}

/// An import's capability: its name on its semver track (`wasi:cli/stdout@0.2`).
fn track(import: &str) -> String {
    let Some(name) = InterfaceName::parse(import) else {
        return import.to_string();
    };
    match &name.version {
        None => name.unversioned(),
        Some(v) if !v.pre.is_empty() => format!("{}@{v}", name.unversioned()),
        Some(v) if v.major > 0 => format!("{}@{}", name.unversioned(), v.major),
        Some(v) if v.minor > 0 => format!("{}@0.{}", name.unversioned(), v.minor),
        Some(v) => format!("{}@0.0.{}", name.unversioned(), v.patch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(imports: &[&str]) -> LockedComponent {
        LockedComponent {
            package: None,
            digest: None,
            imports: imports.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn compares_on_semver_tracks() {
        let mut lock = LockFile::default();
        lock.components.insert(
            "stats".into(),
            entry(&["wasi:cli/stdout@0.2.4", "wasi:random/random@0.2.0"]),
        );
        lock.components.insert("gone".into(), entry(&[]));
        let current: BTreeMap<String, LockedComponent> = [
            (
                "stats".to_string(),
                entry(&[
                    "wasi:cli/stdout@0.2.6",
                    "wasi:sockets/tcp@0.2.0",
                    "wasi:io/streams@0.3.0",
                ]),
            ),
            ("new".to_string(), entry(&["wasi:cli/stdout@0.2.0"])),
        ]
        .into();
        let c = compare(&lock, &current);
        assert_eq!(
            c.added["stats"],
            ["wasi:sockets/tcp@0.2.0", "wasi:io/streams@0.3.0"]
        );
        assert_eq!(c.removed["stats"], ["wasi:random/random@0.2.0"]);
        assert_eq!(c.new_components, ["new"]);
        assert_eq!(c.dropped_components, ["gone"]);
        assert_eq!(track("run"), "run");
        assert_eq!(track("a:b/c@1.4.0"), "a:b/c@1");
    }

    #[test]
    fn round_trips_and_rejects_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        assert_eq!(LockFile::load(&path).unwrap(), None);
        let mut lock = LockFile::default();
        lock.components.insert("odd name.\"x\"".into(), entry(&[]));
        lock.components.insert(
            "stats".into(),
            LockedComponent {
                package: Some("airlock:stats@0.1.0".into()),
                digest: Some(crate::registry::sha256(b"x")),
                imports: vec!["wasi:cli/stdout@0.2.0".into(), "run".into()],
            },
        );
        std::fs::write(&path, lock.to_text()).unwrap();
        assert!(
            lock.to_text()
                .contains("imports = [\n  \"wasi:cli/stdout@0.2.0\",\n")
        );
        assert_eq!(LockFile::load(&path).unwrap(), Some(lock));
        std::fs::write(&path, "version = 2\n").unwrap();
        let e = LockFile::load(&path).unwrap_err().to_string();
        assert!(e.contains("format version 2"), "{e}");
        std::fs::write(&path, "version = 1\n[components.a]\nimprots = []\n").unwrap();
        let e = LockFile::load(&path).unwrap_err().to_string();
        assert!(e.contains("improts"), "{e}");
    }
}
