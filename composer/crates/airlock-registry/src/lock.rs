//! `airlock.lock`, next to the manifest: the exact version and content digest
//! of each registry component, and the capability surface (imports) of every
//! component. A component that asks for an import the lock does not list
//! stops `airlock compose` and `airlock check` until the user accepts it
//! (`airlock lock --update`); imports that went away are fine.
//!
//! Imports are compared on their semver track (`wasi:cli/stdout@0.2.4` and
//! `@0.2.6` are the same capability; `@0.3.0` is new), so rebuilding with a
//! newer toolchain does not trip the lock.
//!
//! The lock also records the functions of each import (format 2): a component
//! imports only the functions it calls, so a library that read
//! `initial-cwd` and now calls `get-environment` of the same
//! `wasi:cli/environment` asks for more. Each function is recorded with the
//! sha256 of its signature ([`signature`]: WIT text with every type spelled
//! out), so a new function or a changed signature stops `compose` like a new
//! import; a function that went away is only reported. Locks written before
//! (format 1) are still honoured for imports; their functions are recorded
//! by `airlock lock --update` (or `compose --update-lock`).

use airlock_core::names::InterfaceName;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use wit_parser::{Function, FunctionKind, Handle, Resolve, Type, TypeDefKind, TypeId, TypeOwner};

/// The lock file's name.
pub const FILE_NAME: &str = "airlock.lock";

/// The lock file's format version: 2 records functions; 1 (imports only) is
/// still read.
pub const FORMAT: u32 = 2;

/// The format version that did not record functions.
pub const FORMAT_IMPORTS_ONLY: u32 = 1;

/// Import name -> function name -> `sha256:` of the function's signature.
pub type Functions = BTreeMap<String, BTreeMap<String, String>>;

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
    /// The functions of its imports (import -> function -> signature hash);
    /// `None` when the lock was written before functions were recorded.
    #[serde(default)]
    pub functions: Option<Functions>,
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
    /// Components ask for capabilities the lock does not list: new imports,
    /// or new or changed functions of imports it lists.
    #[error("{}", added_message(.path, .added, .functions))]
    CapabilitiesAdded {
        /// The lock file.
        path: PathBuf,
        /// Component -> (its source, the imports it added).
        added: BTreeMap<String, (String, Vec<String>)>,
        /// Component -> (its source, functions added or changed in imports
        /// the lock lists).
        functions: BTreeMap<String, (String, Vec<FunctionChange>)>,
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

fn added_message(
    path: &Path,
    added: &BTreeMap<String, (String, Vec<String>)>,
    functions: &BTreeMap<String, (String, Vec<FunctionChange>)>,
) -> String {
    let mut text = format!(
        "capabilities not in `{}` (the capability lock):",
        path.display()
    );
    for (component, (source, imports)) in added {
        for import in imports {
            let family = airlock_core::inspect::Family::of(import).label();
            text.push_str(&format!(
                "\n  component `{component}` ({source}) now imports `{import}` ({family})"
            ));
        }
    }
    for (component, (source, changes)) in functions {
        for line in describe_functions(changes) {
            text.push_str(&format!("\n  component `{component}` ({source}) {line}"));
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
        if lock.version != FORMAT && lock.version != FORMAT_IMPORTS_ONLY {
            return Err(LockError::Parse {
                path: path.to_path_buf(),
                message: format!(
                    "format version {} is not supported (this airlock writes {FORMAT})",
                    lock.version
                ),
            });
        }
        if lock.version == FORMAT_IMPORTS_ONLY
            && let Some((name, _)) = lock.components.iter().find(|(_, c)| c.functions.is_some())
        {
            return Err(LockError::Parse {
                path: path.to_path_buf(),
                message: format!(
                    "format version {FORMAT_IMPORTS_ONLY} has no `functions` (in `[components.{name}]`)"
                ),
            });
        }
        Ok(Some(lock))
    }

    /// True when some component's functions are not recorded (a format 1 lock).
    pub fn functions_missing(&self) -> bool {
        self.components.values().any(|c| c.functions.is_none())
    }

    /// The file's text (stable: sorted by name; one import and one function
    /// per line, so a review of the diff shows each capability that comes or goes).
    pub fn to_text(&self) -> String {
        let string = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut text = format!(
            "# airlock.lock: written by `airlock`; commit it.\n\
             # Registry components are pinned to a version and digest; every\n\
             # component's imports, and the functions it uses from each (with a\n\
             # hash of each signature), are its accepted capabilities.\n\n\
             version = {}\n",
            self.version
        );
        for (name, c) in &self.components {
            let key = key_of(name);
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
            match &c.functions {
                None => {}
                Some(f) if f.is_empty() => text.push_str("functions = {}\n"),
                Some(f) => {
                    for (import, functions) in f {
                        text.push_str(&format!(
                            "\n[components.{key}.functions.{}]\n",
                            string(import)
                        ));
                        for (function, hash) in functions {
                            text.push_str(&format!("{} = {}\n", key_of(function), string(hash)));
                        }
                    }
                }
            }
        }
        text
    }
}

/// A TOML key: bare when it can be.
fn key_of(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
    if bare {
        name.to_string()
    } else {
        toml::Value::String(name.to_string()).to_string()
    }
}

/// How the current components differ from the lock.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Component -> imports on a track the lock does not list.
    pub added: BTreeMap<String, Vec<String>>,
    /// Component -> locked imports it no longer has.
    pub removed: BTreeMap<String, Vec<String>>,
    /// Component -> functions new or changed in imports the lock lists.
    pub functions_added: BTreeMap<String, Vec<FunctionChange>>,
    /// Component -> locked functions it no longer imports.
    pub functions_removed: BTreeMap<String, Vec<FunctionChange>>,
    /// Locked components whose functions the lock does not record (format 1).
    pub functions_unlocked: Vec<String>,
    /// Components the lock does not know yet (recorded without question:
    /// adding a component is a change to the manifest, reviewed there).
    pub new_components: Vec<String>,
    /// Locked components no longer in the manifest.
    pub dropped_components: Vec<String>,
}

/// One function of an import that differs from the lock.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FunctionChange {
    /// The import, as the component names it now (as the lock names it, for
    /// a removed function).
    pub import: String,
    pub function: String,
    /// What changed.
    pub kind: FunctionChangeKind,
}

/// How a function differs from the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FunctionChangeKind {
    /// The lock does not list it.
    Added,
    /// Its signature differs from the locked one.
    Changed,
    /// The lock lists it; the component no longer imports it.
    Removed,
}

/// Lines (without the component) that describe function changes, one per
/// import and kind: `now imports `a`, `b` of `wasi:cli/environment@0.2.12` (environment)`.
pub fn describe_functions(changes: &[FunctionChange]) -> Vec<String> {
    let mut grouped: BTreeMap<(&str, FunctionChangeKind), Vec<String>> = BTreeMap::new();
    for c in changes {
        grouped
            .entry((c.import.as_str(), c.kind))
            .or_default()
            .push(format!("`{}`", c.function));
    }
    grouped
        .into_iter()
        .map(|((import, kind), functions)| {
            let family = airlock_core::inspect::Family::of(import).label();
            let list = functions.join(", ");
            match kind {
                FunctionChangeKind::Added => {
                    format!("now imports {list} of `{import}` ({family})")
                }
                FunctionChangeKind::Changed => {
                    format!("changed the signature of {list} in `{import}` ({family})")
                }
                FunctionChangeKind::Removed => {
                    format!("no longer imports {list} of `{import}`")
                }
            }
        })
        .collect()
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
        match (&locked.functions, &now.functions) {
            (Some(was), Some(is)) => {
                let (added, removed) = compare_functions(&before, &after, was, is);
                if !added.is_empty() {
                    changes.functions_added.insert(name.clone(), added);
                }
                if !removed.is_empty() {
                    changes.functions_removed.insert(name.clone(), removed);
                }
            }
            (None, _) => changes.functions_unlocked.push(name.clone()),
            (Some(_), None) => {}
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

/// Functions added or changed in imports on a locked track, and functions
/// gone from imports still on their track (whole imports that come or go are
/// reported as imports). `before` and `after` are the import tracks.
fn compare_functions(
    before: &BTreeSet<String>,
    after: &BTreeSet<String>,
    was: &Functions,
    is: &Functions,
) -> (Vec<FunctionChange>, Vec<FunctionChange>) {
    // Track -> function -> accepted signature hashes (a component may import
    // two patch versions of one interface).
    let by_track = |functions: &Functions| {
        let mut map: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for (import, fns) in functions {
            let entry = map.entry(track(import)).or_default();
            for (f, hash) in fns {
                entry.entry(f.clone()).or_default().insert(hash.clone());
            }
        }
        map
    };
    let locked = by_track(was);
    let current = by_track(is);
    let none = BTreeMap::new();
    let mut added = Vec::new();
    for (import, fns) in is {
        let t = track(import);
        if !before.contains(&t) {
            continue;
        }
        let accepted = locked.get(&t).unwrap_or(&none);
        for (function, hash) in fns {
            let kind = match accepted.get(function) {
                None => FunctionChangeKind::Added,
                Some(hashes) if !hashes.contains(hash) => FunctionChangeKind::Changed,
                Some(_) => continue,
            };
            added.push(FunctionChange {
                import: import.clone(),
                function: function.clone(),
                kind,
            });
        }
    }
    let mut removed = Vec::new();
    for (import, fns) in was {
        let t = track(import);
        if !after.contains(&t) {
            continue;
        }
        let now = current.get(&t).unwrap_or(&none);
        for function in fns.keys() {
            if !now.contains_key(function) {
                removed.push(FunctionChange {
                    import: import.clone(),
                    function: function.clone(),
                    kind: FunctionChangeKind::Removed,
                });
            }
        }
    }
    added.sort();
    added.dedup();
    removed.sort();
    removed.dedup();
    (added, removed)
}

/// The functions of a component's imports, from its decoded WIT: import ->
/// function -> the sha256 of its [`signature`]. Imports without functions
/// (types only) are left out.
pub fn functions_of(resolve: &Resolve, world: wit_parser::WorldId) -> Functions {
    let mut out = Functions::new();
    for (key, item) in &resolve.worlds[world].imports {
        let functions: Vec<&Function> = match item {
            wit_parser::WorldItem::Interface { id, .. } => {
                resolve.interfaces[*id].functions.values().collect()
            }
            wit_parser::WorldItem::Function(f) => vec![f],
            wit_parser::WorldItem::Type { .. } => continue,
        };
        if functions.is_empty() {
            continue;
        }
        let entry = out.entry(resolve.name_world_key(key)).or_default();
        for f in functions {
            let hash = crate::sha256(signature(resolve, f).as_bytes());
            entry.insert(f.name.clone(), hash);
        }
    }
    out
}

/// A function's signature as WIT text with every type spelled out (records,
/// variants and the like by their structure; resources by their interface on
/// its semver track and their name), e.g.
/// `func(self: borrow<resource wasi:filesystem/types@0.2.descriptor>, ...) -> ...`.
/// Stable across patch versions and type renames; any change to what can be
/// passed or returned changes it.
pub fn signature(resolve: &Resolve, f: &Function) -> String {
    let mut out = String::new();
    if matches!(
        f.kind,
        FunctionKind::AsyncFreestanding
            | FunctionKind::AsyncMethod(_)
            | FunctionKind::AsyncStatic(_)
    ) {
        out.push_str("async ");
    }
    out.push_str("func(");
    for (i, p) in f.params.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&p.name);
        out.push_str(": ");
        write_type(resolve, &p.ty, &mut out);
    }
    out.push(')');
    if let Some(result) = &f.result {
        out.push_str(" -> ");
        write_type(resolve, result, &mut out);
    }
    out
}

fn write_type(resolve: &Resolve, ty: &Type, out: &mut String) {
    let name = match ty {
        Type::Bool => "bool",
        Type::U8 => "u8",
        Type::U16 => "u16",
        Type::U32 => "u32",
        Type::U64 => "u64",
        Type::S8 => "s8",
        Type::S16 => "s16",
        Type::S32 => "s32",
        Type::S64 => "s64",
        Type::F32 => "f32",
        Type::F64 => "f64",
        Type::Char => "char",
        Type::String => "string",
        Type::ErrorContext => "error-context",
        Type::Id(id) => return write_typedef(resolve, *id, out),
    };
    out.push_str(name);
}

fn write_optional(resolve: &Resolve, ty: Option<&Type>, out: &mut String) {
    match ty {
        Some(t) => write_type(resolve, t, out),
        None => out.push('_'),
    }
}

fn write_typedef(resolve: &Resolve, id: TypeId, out: &mut String) {
    let def = &resolve.types[id];
    let names = |items: Vec<&str>| items.join(", ");
    match &def.kind {
        TypeDefKind::Type(t) => write_type(resolve, t, out),
        TypeDefKind::Resource => {
            let owner = match def.owner {
                TypeOwner::Interface(i) => interface_track(resolve, i),
                TypeOwner::World(w) => format!("world {}", resolve.worlds[w].name),
                TypeOwner::None => String::new(),
            };
            let name = def.name.as_deref().unwrap_or("?");
            out.push_str(&format!("resource {owner}.{name}"));
        }
        TypeDefKind::Handle(Handle::Own(r)) => {
            out.push_str("own<");
            write_typedef(resolve, *r, out);
            out.push('>');
        }
        TypeDefKind::Handle(Handle::Borrow(r)) => {
            out.push_str("borrow<");
            write_typedef(resolve, *r, out);
            out.push('>');
        }
        TypeDefKind::Record(r) => {
            out.push_str("record { ");
            for (i, field) in r.fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&field.name);
                out.push_str(": ");
                write_type(resolve, &field.ty, out);
            }
            out.push_str(" }");
        }
        TypeDefKind::Flags(f) => {
            out.push_str("flags { ");
            out.push_str(&names(f.flags.iter().map(|f| f.name.as_str()).collect()));
            out.push_str(" }");
        }
        TypeDefKind::Enum(e) => {
            out.push_str("enum { ");
            out.push_str(&names(e.cases.iter().map(|c| c.name.as_str()).collect()));
            out.push_str(" }");
        }
        TypeDefKind::Variant(v) => {
            out.push_str("variant { ");
            for (i, case) in v.cases.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&case.name);
                if let Some(t) = &case.ty {
                    out.push('(');
                    write_type(resolve, t, out);
                    out.push(')');
                }
            }
            out.push_str(" }");
        }
        TypeDefKind::Tuple(t) => {
            out.push_str("tuple<");
            for (i, ty) in t.types.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_type(resolve, ty, out);
            }
            out.push('>');
        }
        TypeDefKind::Option(t) => {
            out.push_str("option<");
            write_type(resolve, t, out);
            out.push('>');
        }
        TypeDefKind::Result(r) => {
            out.push_str("result<");
            write_optional(resolve, r.ok.as_ref(), out);
            out.push_str(", ");
            write_optional(resolve, r.err.as_ref(), out);
            out.push('>');
        }
        TypeDefKind::List(t) => {
            out.push_str("list<");
            write_type(resolve, t, out);
            out.push('>');
        }
        TypeDefKind::Map(k, v) => {
            out.push_str("map<");
            write_type(resolve, k, out);
            out.push_str(", ");
            write_type(resolve, v, out);
            out.push('>');
        }
        TypeDefKind::FixedLengthList(t, n) => {
            out.push_str("list<");
            write_type(resolve, t, out);
            out.push_str(&format!(", {n}>"));
        }
        TypeDefKind::Future(t) => {
            out.push_str("future<");
            write_optional(resolve, t.as_ref(), out);
            out.push('>');
        }
        TypeDefKind::Stream(t) => {
            out.push_str("stream<");
            write_optional(resolve, t.as_ref(), out);
            out.push('>');
        }
        TypeDefKind::Unknown => out.push_str("unknown"),
    }
}

/// `ns:pkg/iface@track` of an interface (its semver track, so patch versions
/// give the same signatures).
fn interface_track(resolve: &Resolve, id: wit_parser::InterfaceId) -> String {
    let iface = &resolve.interfaces[id];
    match (iface.package, &iface.name) {
        (Some(_), Some(_)) => resolve.id_of(id).map(|n| track(&n)).unwrap_or_default(),
        (_, Some(name)) => name.clone(),
        _ => "(inline interface)".into(),
    }
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
            functions: None,
        }
    }

    fn with_functions(imports: &[&str], functions: &[(&str, &str, &str)]) -> LockedComponent {
        let mut map = Functions::new();
        for (import, f, hash) in functions {
            map.entry(import.to_string())
                .or_default()
                .insert(f.to_string(), hash.to_string());
        }
        LockedComponent {
            functions: Some(map),
            ..entry(imports)
        }
    }

    #[test]
    fn compares_functions_on_semver_tracks() {
        let env = "wasi:cli/environment@0.2.3";
        let mut lock = LockFile::default();
        lock.components.insert(
            "lib".into(),
            with_functions(
                &[env, "wasi:clocks/wall-clock@0.2.0"],
                &[
                    (env, "initial-cwd", "h1"),
                    (env, "get-arguments", "h2"),
                    ("wasi:clocks/wall-clock@0.2.0", "now", "h3"),
                ],
            ),
        );
        lock.components.insert("old".into(), entry(&[env]));
        let env_now = "wasi:cli/environment@0.2.6";
        let current: BTreeMap<String, LockedComponent> = [
            (
                "lib".to_string(),
                with_functions(
                    &[env_now, "wasi:sockets/tcp@0.2.0"],
                    &[
                        (env_now, "initial-cwd", "changed"),
                        (env_now, "get-environment", "h4"),
                        ("wasi:sockets/tcp@0.2.0", "[method]tcp-socket.listen", "h5"),
                    ],
                ),
            ),
            (
                "old".to_string(),
                with_functions(&[env], &[(env, "x", "y")]),
            ),
        ]
        .into();
        let c = compare(&lock, &current);
        let added: Vec<(&str, &str, FunctionChangeKind)> = c.functions_added["lib"]
            .iter()
            .map(|f| (f.import.as_str(), f.function.as_str(), f.kind))
            .collect();
        // The new import's functions come with the import, not as functions.
        assert_eq!(
            added,
            [
                (env_now, "get-environment", FunctionChangeKind::Added),
                (env_now, "initial-cwd", FunctionChangeKind::Changed),
            ]
        );
        assert_eq!(c.added["lib"], ["wasi:sockets/tcp@0.2.0"]);
        let removed: Vec<&str> = c.functions_removed["lib"]
            .iter()
            .map(|f| f.function.as_str())
            .collect();
        // `now` went with its whole import.
        assert_eq!(removed, ["get-arguments"]);
        assert_eq!(c.functions_unlocked, ["old"]);
        assert!(!c.functions_added.contains_key("old"));
        assert_eq!(
            describe_functions(&c.functions_added["lib"]),
            [
                "now imports `get-environment` of `wasi:cli/environment@0.2.6` (environment)",
                "changed the signature of `initial-cwd` in `wasi:cli/environment@0.2.6` (environment)",
            ]
        );
    }

    #[test]
    fn signatures_spell_out_types_and_ignore_patch_versions() {
        let sig = |version: &str, body: &str| {
            let wit = format!(
                "package test:lib@{version};\ninterface api {{\n  resource handle;\n  {body}\n}}\nworld w {{ import api; }}\n"
            );
            let mut resolve = Resolve::default();
            let pkg = resolve.push_str("x.wit", &wit).unwrap();
            let world = resolve.select_world(&[pkg], None).unwrap();
            let f = functions_of(&resolve, world);
            let api = f.keys().next().unwrap().clone();
            f[&api]["f"].clone()
        };
        let body =
            "record r { a: u32 }\n  f: func(x: r, h: borrow<handle>) -> result<list<u8>, string>;";
        assert_eq!(sig("0.2.1", body), sig("0.2.9", body));
        assert_ne!(sig("0.2.1", body), sig("0.3.0", body));
        let renamed = "record other { a: u32 }\n  f: func(x: other, h: borrow<handle>) -> result<list<u8>, string>;";
        assert_eq!(sig("0.2.1", body), sig("0.2.1", renamed));
        let field =
            "record r { a: u64 }\n  f: func(x: r, h: borrow<handle>) -> result<list<u8>, string>;";
        assert_ne!(sig("0.2.1", body), sig("0.2.1", field));
        let owned =
            "record r { a: u32 }\n  f: func(x: r, h: own<handle>) -> result<list<u8>, string>;";
        assert_ne!(sig("0.2.1", body), sig("0.2.1", owned));
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
                digest: Some(crate::sha256(b"x")),
                imports: vec!["wasi:cli/stdout@0.2.0".into(), "run".into()],
                functions: Some(
                    [
                        (
                            "wasi:cli/stdout@0.2.0".to_string(),
                            [("get-stdout".to_string(), crate::sha256(b"f"))].into(),
                        ),
                        (
                            "run".to_string(),
                            [("run".to_string(), crate::sha256(b"g"))].into(),
                        ),
                    ]
                    .into(),
                ),
            },
        );
        lock.components.insert(
            "none".into(),
            LockedComponent {
                functions: Some(Functions::new()),
                ..entry(&[])
            },
        );
        std::fs::write(&path, lock.to_text()).unwrap();
        assert!(
            lock.to_text()
                .contains("imports = [\n  \"wasi:cli/stdout@0.2.0\",\n")
        );
        assert_eq!(LockFile::load(&path).unwrap(), Some(lock));
        // A format 1 lock (imports only) is still read.
        std::fs::write(
            &path,
            "version = 1\n[components.a]\nimports = [\"wasi:cli/stdout@0.2.0\"]\n",
        )
        .unwrap();
        let old = LockFile::load(&path).unwrap().unwrap();
        assert_eq!(old.version, 1);
        assert!(old.functions_missing());
        std::fs::write(&path, "version = 3\n").unwrap();
        let e = LockFile::load(&path).unwrap_err().to_string();
        assert!(e.contains("format version 3"), "{e}");
        std::fs::write(&path, "version = 1\n[components.a]\nimprots = []\n").unwrap();
        let e = LockFile::load(&path).unwrap_err().to_string();
        assert!(e.contains("improts"), "{e}");
    }
}
