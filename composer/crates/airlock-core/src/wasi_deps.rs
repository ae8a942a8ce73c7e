//! What WASI's own WIT says about its interfaces: which interface `use`s types
//! of which, and which functions carry authority of their own. Taken from the
//! WASI WIT vendored in `wit/deps` (0.2) and `wit/deps-0.3` (0.3.0) and
//! compiled into the composer, never from the components being composed: a
//! component declares its own import types, so its claim that
//! `wasi:clocks/wall-clock` uses a type of `wasi:cli/environment` must not make
//! the environment reachable as a "type dependency".
//!
//! The composer embeds the tables the WIT compiles to, `wasi_deps.json`, not
//! the WIT: parsing the WIT on every run took a sixth of a composition's
//! instructions. The test `the_embedded_tables_are_the_vendored_wit` compiles
//! the WIT again and fails when the file differs (`BLESS=1` rewrites it).
//!
//! Two semver tracks are known, and each name is looked up on its own track
//! only: `@0.2.x` in the 0.2 WIT, `@0.3.x` in the 0.3.0 WIT. The
//! `@0.3.0-rc-YYYY-MM-DD` pre-releases that toolchains still emit are looked
//! up in the 0.3.0 WIT too, for the interface names 0.3.0 has (an interface an
//! rc had and 0.3.0 dropped, such as `wasi:clocks/wall-clock@0.3.0-rc-…`, is
//! not known). Relations never cross tracks: `wasi:filesystem/types@0.3.0`
//! uses `wasi:clocks/system-clock@0.3.x`, never `@0.2.x` nor an rc, and an rc
//! name relates only to names of the very same rc. A name on no track (no
//! version, `0.2.0-rc-…`, `0.4.0`, `1.0.0`) is not known, so nothing about it is
//! trusted.

use crate::names::{InterfaceName, compatible};
use semver::Version;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
#[cfg(test)]
use wit_parser::{FunctionKind, Resolve, SourceMap, Type, TypeDefKind, TypeId, TypeOwner};

/// The tables of both tracks, as [`compile`] makes them from the vendored WIT.
const TABLES: &str = include_str!("wasi_deps.json");

/// The vendored WASI 0.2 packages, in dependency order.
#[cfg(test)]
const WASI_02_WIT: [(&str, &str); 7] = [
    ("io.wit", include_str!("../../../../wit/deps/io/io.wit")),
    (
        "clocks.wit",
        include_str!("../../../../wit/deps/clocks/clocks.wit"),
    ),
    (
        "random.wit",
        include_str!("../../../../wit/deps/random/random.wit"),
    ),
    (
        "filesystem.wit",
        include_str!("../../../../wit/deps/filesystem/filesystem.wit"),
    ),
    (
        "sockets.wit",
        include_str!("../../../../wit/deps/sockets/sockets.wit"),
    ),
    ("cli.wit", include_str!("../../../../wit/deps/cli/cli.wit")),
    (
        "http.wit",
        include_str!("../../../../wit/deps/http/http.wit"),
    ),
];

/// One file of a vendored package: its path (for error messages) and text.
#[cfg(test)]
type WitFile = (&'static str, &'static str);

#[cfg(test)]
macro_rules! wit03 {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../../../wit/deps-0.3/", $path)))),*]
    };
}

/// The vendored WASI 0.3.0 packages (several files each, as the spec ships
/// them), in dependency order.
#[cfg(test)]
const WASI_03_WIT: [&[WitFile]; 6] = [
    wit03!(
        "clocks/types.wit",
        "clocks/monotonic-clock.wit",
        "clocks/system-clock.wit",
        "clocks/timezone.wit",
        "clocks/world.wit",
    ),
    wit03!(
        "random/random.wit",
        "random/insecure.wit",
        "random/insecure-seed.wit",
        "random/world.wit",
    ),
    wit03!(
        "filesystem/types.wit",
        "filesystem/preopens.wit",
        "filesystem/world.wit",
    ),
    wit03!(
        "sockets/types.wit",
        "sockets/ip-name-lookup.wit",
        "sockets/world.wit",
    ),
    wit03!(
        "cli/environment.wit",
        "cli/exit.wit",
        "cli/run.wit",
        "cli/stdio.wit",
        "cli/terminal.wit",
        "cli/imports.wit",
        "cli/command.wit",
    ),
    wit03!("http/types.wit", "http/worlds.wit"),
];

/// Functions that WIT's shape does not show to carry authority, but that do:
/// a static function that creates a socket from nothing (0.3 moved socket
/// creation from free functions, `wasi:sockets/tcp-create-socket` in 0.2, to
/// `[static]` functions of the resources). Other static functions and
/// constructors without handle parameters only build values
/// (`[static]fields.from-list`); the test
/// `every_handle_free_static_function_is_reviewed` lists them all, so a WIT
/// update cannot add one unnoticed.
#[cfg(test)]
const AUTHORITY_STATICS: [(Track, &str, &str); 2] = [
    (
        Track::V03,
        "wasi:sockets/types",
        "[static]tcp-socket.create",
    ),
    (
        Track::V03,
        "wasi:sockets/types",
        "[static]udp-socket.create",
    ),
];

/// A semver track of WASI that the composer knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Track {
    /// `0.2.x` (the WIT in `wit/deps`).
    V02,
    /// `0.3.x` and the `0.3.0-rc-YYYY-MM-DD` pre-releases (the WIT in `wit/deps-0.3`).
    V03,
}

/// One WASI interface as its own WIT defines it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Known {
    /// The unversioned names of the interfaces it `use`s directly.
    pub uses: BTreeSet<String>,
    /// The unversioned names of every interface it uses, directly or through
    /// others (`wasi:filesystem/types@0.2` reaches `wasi:io/error` through
    /// `wasi:io/streams`, whose `error` it re-exports).
    pub reaches: BTreeSet<String>,
    /// The unversioned names of the interfaces it `use`s a type from that is or
    /// holds a resource handle (`wasi:http/client` takes `request` from
    /// `wasi:http/types`): those must be the very same instance as the user's.
    pub uses_handles_of: BTreeSet<String>,
    /// Every function, by WIT name (`now`, `[method]descriptor.read`).
    pub functions: BTreeSet<String>,
    /// The functions that carry authority without a handle: free functions,
    /// sync or async, none of whose parameters holds a resource handle (`now`,
    /// `get-environment`, `resolve-addresses`), and the static functions
    /// listed in `AUTHORITY_STATICS` (`[static]tcp-socket.create`). Methods,
    /// constructors, other static functions and free functions over handles
    /// (`poll`) act only on what a caller already holds or builds values.
    pub ambient: BTreeSet<String>,
    /// True when the interface defines a resource type.
    pub defines_resources: bool,
}

/// What one track's WIT says.
#[derive(Serialize, Deserialize)]
struct Wit {
    #[serde(with = "version_text")]
    version: Version,
    interfaces: BTreeMap<String, Known>,
}

/// Both tracks: the content of `wasi_deps.json`.
#[derive(Serialize, Deserialize)]
struct Wasi {
    v02: Wit,
    v03: Wit,
}

/// A version as its text (`0.2.12`).
mod version_text {
    use semver::Version;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Version, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Version, D::Error> {
        let text = String::deserialize(d)?;
        Version::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Wasi {
    fn wit(&self, track: Track) -> &Wit {
        match track {
            Track::V02 => &self.v02,
            Track::V03 => &self.v03,
        }
    }
}

fn wasi() -> &'static Wasi {
    static WASI: OnceLock<Wasi> = OnceLock::new();
    WASI.get_or_init(|| serde_json::from_str(TABLES).expect("the embedded WASI tables parse"))
}

/// The vendored WIT of `track`, every feature on (`clocks-timezone` is
/// `@unstable` in 0.3.0).
#[cfg(test)]
fn parse(track: Track) -> Resolve {
    let mut resolve = Resolve {
        all_features: true,
        ..Resolve::default()
    };
    match track {
        Track::V02 => {
            for (path, text) in WASI_02_WIT {
                resolve
                    .push_str(path, text)
                    .expect("the vendored WASI 0.2 WIT parses");
            }
        }
        Track::V03 => {
            for files in WASI_03_WIT {
                let mut map = SourceMap::new();
                for (path, text) in files {
                    map.push_str(path, *text);
                }
                let group = map
                    .parse()
                    .unwrap_or_else(|(_, e)| panic!("the vendored WASI 0.3 WIT parses: {e}"));
                resolve
                    .push_group(group)
                    .expect("the vendored WASI 0.3 WIT resolves");
            }
        }
    }
    resolve
}

/// What each interface of one vendored track says, by unversioned name.
#[cfg(test)]
fn compile(resolve: &Resolve, track: Track) -> Wit {
    let unversioned = |id| {
        let iface = &resolve.interfaces[id];
        let pkg = &resolve.packages[iface.package.expect("WASI interfaces have packages")];
        format!(
            "{}:{}/{}",
            pkg.name.namespace,
            pkg.name.name,
            iface.name.as_deref().unwrap_or_default()
        )
    };
    let version = resolve
        .packages
        .iter()
        .find_map(|(_, p)| p.name.version.clone())
        .expect("the vendored WASI packages are versioned");
    let interfaces: BTreeMap<String, Known> = resolve
        .interfaces
        .iter()
        .filter(|(_, i)| i.name.is_some() && i.package.is_some())
        .map(|(id, iface)| {
            let name = unversioned(id);
            let authority_static = |f: &str| {
                AUTHORITY_STATICS
                    .iter()
                    .any(|(t, i, s)| *t == track && *i == name && *s == f)
            };
            let known = Known {
                uses: resolve.interface_direct_deps(id).map(unversioned).collect(),
                reaches: BTreeSet::new(),
                uses_handles_of: iface
                    .types
                    .values()
                    .filter_map(|t| match resolve.types[*t].kind {
                        TypeDefKind::Type(Type::Id(other)) => match resolve.types[other].owner {
                            TypeOwner::Interface(dep) if dep != id => Some((dep, other)),
                            _ => None,
                        },
                        _ => None,
                    })
                    .filter(|(_, other)| holds_handle(resolve, Type::Id(*other)))
                    .map(|(dep, _)| unversioned(dep))
                    .collect(),
                functions: iface.functions.keys().cloned().collect(),
                ambient: iface
                    .functions
                    .values()
                    .filter(|f| {
                        matches!(
                            f.kind,
                            FunctionKind::Freestanding | FunctionKind::AsyncFreestanding
                        ) || authority_static(&f.name)
                    })
                    .filter(|f| !f.params.iter().any(|p| holds_handle(resolve, p.ty)))
                    .map(|f| f.name.clone())
                    .collect(),
                defines_resources: iface
                    .types
                    .values()
                    .any(|t| matches!(resolve.types[*t].kind, TypeDefKind::Resource)),
            };
            (name, known)
        })
        .collect();
    let mut wit = Wit {
        version,
        interfaces,
    };
    let reaches: Vec<(String, BTreeSet<String>)> = wit
        .interfaces
        .keys()
        .map(|name| {
            let mut reached = BTreeSet::new();
            let mut stack = vec![name.clone()];
            while let Some(n) = stack.pop() {
                for dep in wit
                    .interfaces
                    .get(&n)
                    .map(|k| &k.uses)
                    .into_iter()
                    .flatten()
                {
                    if reached.insert(dep.clone()) {
                        stack.push(dep.clone());
                    }
                }
            }
            (name.clone(), reached)
        })
        .collect();
    for (name, reached) in reaches {
        if let Some(k) = wit.interfaces.get_mut(&name) {
            k.reaches = reached;
        }
    }
    wit
}

/// True when a value of type `ty` holds a resource handle.
#[cfg(test)]
fn holds_handle(resolve: &Resolve, ty: Type) -> bool {
    fn walk(resolve: &Resolve, id: TypeId, seen: &mut BTreeSet<TypeId>) -> bool {
        if !seen.insert(id) {
            return false;
        }
        let mut inner = |t: &Type| match t {
            Type::Id(i) => walk(resolve, *i, seen),
            _ => false,
        };
        match &resolve.types[id].kind {
            TypeDefKind::Handle(_) | TypeDefKind::Resource => true,
            TypeDefKind::Record(r) => r.fields.iter().any(|f| inner(&f.ty)),
            TypeDefKind::Variant(v) => v.cases.iter().filter_map(|c| c.ty.as_ref()).any(inner),
            TypeDefKind::Tuple(t) => t.types.iter().any(inner),
            TypeDefKind::Option(t)
            | TypeDefKind::List(t)
            | TypeDefKind::FixedLengthList(t, _)
            | TypeDefKind::Type(t) => inner(t),
            TypeDefKind::Result(r) => r.ok.iter().chain(&r.err).any(inner),
            TypeDefKind::Map(k, v) => inner(k) || inner(v),
            TypeDefKind::Future(t) | TypeDefKind::Stream(t) => t.iter().any(inner),
            _ => false,
        }
    }
    match ty {
        Type::Id(id) => walk(resolve, id, &mut BTreeSet::new()),
        _ => false,
    }
}

/// Every WASI interface the composer knows on either track, unversioned
/// (`wasi:cli/stdout`), each name once.
pub fn interface_names() -> impl Iterator<Item = &'static str> {
    let w = wasi();
    let names: BTreeSet<&'static str> = w
        .v02
        .interfaces
        .keys()
        .chain(w.v03.interfaces.keys())
        .map(String::as_str)
        .collect();
    names.into_iter()
}

/// The vendored WASI 0.2 version (e.g. 0.2.12): names compatible with it are
/// on the 0.2 track.
pub fn version() -> &'static Version {
    &wasi().v02.version
}

/// The vendored version of `track` (0.2.12, 0.3.0).
pub fn track_version(track: Track) -> &'static Version {
    &wasi().wit(track).version
}

/// True for the pre-releases toolchains emit before 0.3.0:
/// `0.3.0-rc-YYYY-MM-DD`.
pub fn is_rc_03(v: &Version) -> bool {
    let date = v.pre.as_str().strip_prefix("rc-").unwrap_or_default();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = date.split('-').collect();
    (v.major, v.minor, v.patch) == (0, 3, 0)
        && v.build.is_empty()
        && parts.len() == 3
        && digits(parts[0], 4)
        && digits(parts[1], 2)
        && digits(parts[2], 2)
}

/// The track a WASI version is on: 0.2.x, 0.3.x or a 0.3.0 rc; `None` otherwise.
pub fn track_of(v: &Version) -> Option<Track> {
    let w = wasi();
    if v.pre.is_empty() && v.build.is_empty() {
        [Track::V02, Track::V03]
            .into_iter()
            .find(|t| compatible(v, &w.wit(*t).version))
    } else if is_rc_03(v) {
        Some(Track::V03)
    } else {
        None
    }
}

/// The track of `name` when it is a WASI interface with a known version.
pub fn track(name: &InterfaceName) -> Option<Track> {
    if !name.is_wasi() {
        return None;
    }
    name.version.as_ref().and_then(track_of)
}

/// What WASI's WIT says about `name`, when `name` is a WASI interface on a
/// vendored semver track that has it.
pub fn known(name: &InterfaceName) -> Option<&'static Known> {
    wasi().wit(track(name)?).interfaces.get(&name.unversioned())
}

/// True when WASI's own WIT says `interface` uses types of `dependency`,
/// directly or through other WASI interfaces, both on the same semver track
/// (e.g. `wasi:cli/stdout@0.2.4` and `wasi:io/streams@0.2.0`;
/// `wasi:filesystem/types@0.3.0` and `wasi:clocks/system-clock@0.3.0`; never
/// a 0.2 name and a 0.3 one, nor an rc and a release, nor two different rcs).
///
/// Through others, because a component's WIT names a re-exported type's
/// owner: `wasi:filesystem/types@0.2` takes `error` from `wasi:io/streams`,
/// which `use`s it from `wasi:io/error`, and decoded components declare that
/// `wasi:filesystem/types` uses `wasi:io/error`. That grants nothing more:
/// every interface `interface` reaches is its type dependency already.
pub fn uses(interface: &InterfaceName, dependency: &InterfaceName) -> bool {
    let same_track = match (&interface.version, &dependency.version) {
        (Some(a), Some(b)) => compatible(a, b),
        _ => false,
    };
    same_track
        && known(dependency).is_some()
        && known(interface).is_some_and(|k| k.reaches.contains(&dependency.unversioned()))
}

/// The key of the semver track a version is on, for telling tracks apart:
/// `0.2.0` for any 0.2.x, the version itself for a pre-release (which is
/// compatible only with itself).
fn track_key(v: &Version) -> Version {
    if v.pre.is_empty() {
        Version::new(v.major, v.minor, 0)
    } else {
        v.clone()
    }
}

/// The WASI interfaces that some roots use, directly or not, on each root's
/// own track; see [`dependencies`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Dependencies(BTreeMap<(Version, String), String>);

impl Dependencies {
    /// The root (unversioned) that `name` was reached from, when `name` is a
    /// WASI interface that a root on the same track uses, directly or not.
    pub fn via(&self, name: &InterfaceName) -> Option<&str> {
        known(name)?;
        let key = (track_key(name.version.as_ref()?), name.unversioned());
        self.0.get(&key).map(String::as_str)
    }

    /// True when no root uses anything.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Every interface that the given WASI interfaces use, directly or not, on
/// their own tracks, each with the root it was reached from. Only roots on a
/// vendored track count.
pub fn dependencies<'a>(roots: impl IntoIterator<Item = &'a InterfaceName>) -> Dependencies {
    // Roots in name order, so each dependency is credited to the first root
    // (by name) that reaches it, whatever order the caller lists them in.
    let roots: BTreeSet<(String, Version, Track)> = roots
        .into_iter()
        .filter(|r| known(r).is_some())
        .filter_map(|r| Some((r.unversioned(), r.version.clone()?, track(r)?)))
        .collect();
    let mut reached = BTreeMap::new();
    for (root, version, t) in &roots {
        let interfaces = &wasi().wit(*t).interfaces;
        let key = track_key(version);
        let mut stack = vec![root.clone()];
        while let Some(name) = stack.pop() {
            for dep in interfaces.get(&name).map(|k| &k.uses).into_iter().flatten() {
                let entry = (key.clone(), dep.clone());
                if let std::collections::btree_map::Entry::Vacant(e) = reached.entry(entry) {
                    e.insert(root.clone());
                    stack.push(dep.clone());
                }
            }
        }
    }
    Dependencies(reached)
}

/// Every interface that the given WASI interfaces use, directly or not, each
/// with the listed interface it was reached from (unversioned names): the
/// first root by name that reaches it, whatever order the caller lists them
/// in. Only roots on a vendored track count, each followed on its own track;
/// the caller checks each dependency's own version with [`known`].
///
/// The names are unversioned, so when the roots are on several tracks the
/// result cannot say on which one a name was reached (`wasi:http/types` is
/// used by `outgoing-handler@0.2` and by `client@0.3`): prefer
/// [`dependencies`] and [`Dependencies::via`], which can.
pub fn closure<'a>(roots: impl IntoIterator<Item = &'a InterfaceName>) -> BTreeMap<String, String> {
    let mut reached: BTreeMap<String, String> = BTreeMap::new();
    for ((_, name), via) in dependencies(roots).0 {
        let first = reached.entry(name).or_insert_with(|| via.clone());
        if via < *first {
            *first = via;
        }
    }
    reached
}

/// True when a library that needs `name` only for its types must get it as a
/// types-only view: WASI's WIT gives it functions with authority of their own
/// (`wasi:clocks/wall-clock.now`, `wasi:clocks/system-clock.now`,
/// `[static]tcp-socket.create` of `wasi:sockets/types@0.3`).
pub fn has_ambient_functions(name: &InterfaceName) -> bool {
    known(name).is_some_and(|k| !k.ambient.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_tables_are_the_vendored_wit() {
        let compiled = Wasi {
            v02: compile(&parse(Track::V02), Track::V02),
            v03: compile(&parse(Track::V03), Track::V03),
        };
        let text = serde_json::to_string_pretty(&compiled).unwrap() + "\n";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/wasi_deps.json");
        if std::env::var_os("BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
        } else {
            assert!(
                text == TABLES,
                "`{}` is not what the vendored WIT compiles to: run with BLESS=1",
                path.display()
            );
        }
    }

    fn name(s: &str) -> InterfaceName {
        InterfaceName::parse(s).unwrap()
    }

    #[test]
    fn knows_wasi_type_dependencies() {
        assert!(uses(
            &name("wasi:cli/stdout@0.2.0"),
            &name("wasi:io/streams@0.2.6")
        ));
        assert!(uses(
            &name("wasi:filesystem/types@0.2.3"),
            &name("wasi:clocks/wall-clock@0.2.3")
        ));
        assert!(!uses(
            &name("wasi:clocks/wall-clock@0.2.3"),
            &name("wasi:cli/environment@0.2.3")
        ));
        assert!(!uses(
            &name("evil:x/y@0.2.3"),
            &name("wasi:io/streams@0.2.3")
        ));
        // Through `wasi:io/streams`, whose `error` it re-exports.
        assert!(uses(
            &name("wasi:filesystem/types@0.2.0"),
            &name("wasi:io/error@0.2.0")
        ));
        assert!(!uses(
            &name("wasi:filesystem/types@0.2.0"),
            &name("wasi:cli/environment@0.2.0")
        ));
        let roots = [name("wasi:cli/stdout@0.2.3")];
        let c = closure(&roots);
        assert!(c.contains_key("wasi:io/streams") && c.contains_key("wasi:io/error"));
        assert!(!c.contains_key("wasi:cli/environment"));
    }

    #[test]
    fn other_tracks_are_not_known() {
        // A 0.2 interface never uses a 0.3 (or pre-release, or unversioned) one.
        assert!(!uses(
            &name("wasi:cli/stdout@0.2.6"),
            &name("wasi:io/streams@0.3.0-rc-2025-09-16")
        ));
        assert!(!uses(
            &name("wasi:cli/stdout@0.2.6"),
            &name("wasi:io/streams")
        ));
        // 0.3 has no `wasi:io`, and 1.0 is no track.
        assert!(known(&name("wasi:io/streams@0.3.0")).is_none());
        assert!(known(&name("wasi:cli/stdout@1.0.0")).is_none());
        assert!(known(&name("wasi:cli/stdout@0.4.0")).is_none());
        assert!(known(&name("wasi:cli/stdout")).is_none());
        assert!(known(&name("wasi:cli/stdout@0.2.0-rc-2023-12-05")).is_none());
        assert!(closure(&[name("wasi:cli/stdout@1.0.0")]).is_empty());
        // Not the wasi namespace.
        assert!(known(&name("wasix:cli/stdout@0.3.0")).is_none());
    }

    #[test]
    fn knows_wasi_03_type_dependencies() {
        assert_eq!(track_version(Track::V03), &Version::new(0, 3, 0));
        assert!(uses(
            &name("wasi:filesystem/types@0.3.0"),
            &name("wasi:clocks/system-clock@0.3.0")
        ));
        assert!(uses(
            &name("wasi:cli/stdout@0.3.0"),
            &name("wasi:cli/types@0.3.2")
        ));
        assert!(uses(
            &name("wasi:http/client@0.3.0"),
            &name("wasi:http/types@0.3.0")
        ));
        assert!(uses(
            &name("wasi:sockets/ip-name-lookup@0.3.0"),
            &name("wasi:sockets/types@0.3.0")
        ));
        assert!(uses(
            &name("wasi:clocks/timezone@0.3.0"),
            &name("wasi:clocks/system-clock@0.3.0")
        ));
        assert!(uses(
            &name("wasi:filesystem/preopens@0.3.0"),
            &name("wasi:clocks/types@0.3.0")
        ));
        assert!(!uses(
            &name("wasi:filesystem/preopens@0.3.0"),
            &name("wasi:http/types@0.3.0")
        ));
        // 0.3's file types use the system clock, not the 0.2 wall clock.
        assert!(!uses(
            &name("wasi:filesystem/types@0.3.0"),
            &name("wasi:clocks/wall-clock@0.3.0")
        ));
        assert!(!uses(
            &name("wasi:cli/stdout@0.3.0"),
            &name("wasi:io/streams@0.3.0")
        ));
        let roots = [name("wasi:filesystem/preopens@0.3.0")];
        let c = closure(&roots);
        assert_eq!(
            c.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "wasi:clocks/system-clock",
                "wasi:clocks/types",
                "wasi:filesystem/types"
            ]
        );
        assert!(c.values().all(|v| v == "wasi:filesystem/preopens"));
        for iface in [
            "wasi:clocks/system-clock",
            "wasi:clocks/timezone",
            "wasi:clocks/types",
            "wasi:http/client",
            "wasi:http/handler",
            "wasi:random/insecure-seed",
            "wasi:sockets/ip-name-lookup",
            "wasi:cli/types",
        ] {
            assert!(known(&name(&format!("{iface}@0.3.0"))).is_some(), "{iface}");
        }
        // Dropped in 0.3, present in 0.2.
        for iface in ["wasi:clocks/wall-clock", "wasi:http/outgoing-handler"] {
            assert!(known(&name(&format!("{iface}@0.3.0"))).is_none(), "{iface}");
            assert!(known(&name(&format!("{iface}@0.2.0"))).is_some(), "{iface}");
        }
    }

    #[test]
    fn release_candidates_are_on_the_03_track_alone() {
        let rc = "0.3.0-rc-2026-03-15";
        assert_eq!(
            track(&name(&format!("wasi:cli/stdout@{rc}"))),
            Some(Track::V03)
        );
        assert!(known(&name(&format!("wasi:cli/stdout@{rc}"))).is_some());
        // Only the interface names 0.3.0 has.
        assert!(known(&name("wasi:clocks/wall-clock@0.3.0-rc-2025-09-16")).is_none());
        // Only `rc-YYYY-MM-DD` pre-releases of 0.3.0.
        for other in [
            "0.3.0-rc",
            "0.3.0-alpha",
            "0.3.0-rc-2026-3-15",
            "0.3.1-rc-2026-03-15",
            "0.3.0-rc-2026-03-15+build",
        ] {
            assert!(
                known(&name(&format!("wasi:cli/stdout@{other}"))).is_none(),
                "{other}"
            );
        }
        assert!(uses(
            &name(&format!("wasi:filesystem/types@{rc}")),
            &name(&format!("wasi:clocks/system-clock@{rc}"))
        ));
        // Never across tracks: an rc and the release, two rcs, 0.2 and 0.3.
        assert!(!uses(
            &name(&format!("wasi:filesystem/types@{rc}")),
            &name("wasi:clocks/system-clock@0.3.0")
        ));
        assert!(!uses(
            &name("wasi:filesystem/types@0.3.0"),
            &name(&format!("wasi:clocks/system-clock@{rc}"))
        ));
        assert!(!uses(
            &name(&format!("wasi:filesystem/types@{rc}")),
            &name("wasi:clocks/system-clock@0.3.0-rc-2026-02-09")
        ));
        assert!(!uses(
            &name("wasi:filesystem/types@0.2.12"),
            &name("wasi:clocks/wall-clock@0.3.0")
        ));
        assert!(!uses(
            &name("wasi:filesystem/types@0.3.0"),
            &name("wasi:clocks/system-clock@0.2.12")
        ));
        assert!(!uses(
            &name("wasi:cli/stdout@0.2.12"),
            &name("wasi:cli/types@0.3.0")
        ));
    }

    #[test]
    fn dependencies_stay_on_their_track() {
        let roots = [
            name("wasi:http/outgoing-handler@0.2.6"),
            name("wasi:cli/stdout@0.3.0-rc-2026-03-15"),
        ];
        let deps = dependencies(&roots);
        assert_eq!(
            deps.via(&name("wasi:http/types@0.2.0")),
            Some("wasi:http/outgoing-handler")
        );
        // `wasi:http/types` is on both tracks; only the 0.2 one was reached.
        assert_eq!(deps.via(&name("wasi:http/types@0.3.0")), None);
        assert_eq!(
            deps.via(&name("wasi:cli/types@0.3.0-rc-2026-03-15")),
            Some("wasi:cli/stdout")
        );
        assert_eq!(deps.via(&name("wasi:cli/types@0.3.0")), None);
        assert_eq!(deps.via(&name("wasi:cli/types@0.3.0-rc-2026-02-09")), None);
        assert_eq!(
            deps.via(&name("wasi:io/streams@0.2.0")),
            Some("wasi:http/outgoing-handler")
        );
        assert!(dependencies(&[name("wasi:cli/stdout@1.0.0")]).is_empty());
    }

    #[test]
    fn dependencies_are_credited_to_the_first_root_by_name() {
        let a = [
            name("wasi:filesystem/types@0.3.0"),
            name("wasi:clocks/timezone@0.3.0"),
        ];
        let b = [a[1].clone(), a[0].clone()];
        for roots in [&a, &b] {
            let c = closure(roots);
            assert_eq!(c["wasi:clocks/system-clock"], "wasi:clocks/timezone");
            assert_eq!(
                dependencies(roots).via(&name("wasi:clocks/types@0.3.0")),
                Some("wasi:clocks/timezone")
            );
        }
    }

    #[test]
    fn every_interface_of_both_tracks_is_named() {
        let names: Vec<&str> = interface_names().collect();
        for n in [
            "wasi:io/streams",
            "wasi:clocks/wall-clock",
            "wasi:clocks/system-clock",
            "wasi:http/client",
            "wasi:cli/types",
        ] {
            assert!(names.contains(&n), "{n}");
        }
        let mut sorted = names.clone();
        sorted.dedup();
        assert_eq!(sorted, names);
    }

    #[test]
    fn ambient_functions_of_wasi_03() {
        let k = |n: &str| known(&name(n)).unwrap();
        let clock = k("wasi:clocks/system-clock@0.3.0");
        assert!(clock.ambient.contains("now") && !clock.defines_resources);
        // Async free functions are free functions.
        let mono = k("wasi:clocks/monotonic-clock@0.3.0");
        assert!(mono.ambient.contains("wait-for") && mono.ambient.contains("now"));
        let lookup = k("wasi:sockets/ip-name-lookup@0.3.0");
        assert!(lookup.ambient.contains("resolve-addresses"));
        let client = k("wasi:http/client@0.3.0");
        // `send` takes a `request` handle the caller built.
        assert!(client.ambient.is_empty() && client.functions.contains("send"));
        // Socket creation moved to static functions in 0.3: authority.
        let sockets = k("wasi:sockets/types@0.3.0");
        assert_eq!(
            sockets
                .ambient
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["[static]tcp-socket.create", "[static]udp-socket.create"]
        );
        // HTTP's static functions and constructors build values.
        let http = k("wasi:http/types@0.3.0");
        assert!(http.ambient.is_empty() && http.defines_resources);
        assert!(k("wasi:cli/types@0.3.0").functions.is_empty());
        assert!(!has_ambient_functions(&name("wasi:filesystem/types@0.3.0")));
        assert!(has_ambient_functions(&name(
            "wasi:filesystem/preopens@0.3.0"
        )));
        assert!(has_ambient_functions(&name(
            "wasi:clocks/system-clock@0.3.0-rc-2026-03-15"
        )));
        assert!(has_ambient_functions(&name(
            "wasi:random/insecure-seed@0.3.0"
        )));
    }

    /// Static functions and constructors with no handle parameter are not
    /// authority unless listed in `AUTHORITY_STATICS`: every one WASI has is
    /// named here, so one that a WIT update adds must be reviewed.
    #[test]
    fn every_handle_free_static_function_is_reviewed() {
        let reviewed: BTreeSet<String> = [
            // 0.2: values and handles built from nothing outside.
            "0.2 wasi:http/types [constructor]fields",
            "0.2 wasi:http/types [static]fields.from-list",
            "0.2 wasi:http/types [constructor]request-options",
            // 0.3: the same, and socket creation (authority).
            "0.3 wasi:http/types [constructor]fields",
            "0.3 wasi:http/types [static]fields.from-list",
            "0.3 wasi:http/types [constructor]request-options",
            "0.3 wasi:sockets/types [static]tcp-socket.create",
            "0.3 wasi:sockets/types [static]udp-socket.create",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let mut found = BTreeSet::new();
        for (label, track) in [("0.2", Track::V02), ("0.3", Track::V03)] {
            let resolve = parse(track);
            for (id, iface) in &resolve.interfaces {
                let Some(iface_name) = resolve.id_of(id) else {
                    continue;
                };
                let iface_name = iface_name.split('@').next().unwrap_or_default().to_string();
                for f in iface.functions.values() {
                    let kind_static = matches!(
                        f.kind,
                        FunctionKind::Static(_)
                            | FunctionKind::AsyncStatic(_)
                            | FunctionKind::Constructor(_)
                    );
                    if kind_static && !f.params.iter().any(|p| holds_handle(&resolve, p.ty)) {
                        found.insert(format!("{label} {iface_name} {}", f.name));
                    }
                }
            }
        }
        assert_eq!(found, reviewed);
    }

    /// A types-only view is a denial stub, which defines its own resources; so
    /// it must never be needed for an interface that defines resources (their
    /// handles must be the host's). True of every WASI 0.2 interface that
    /// another one uses; in 0.3 the one exception is `wasi:sockets/types`,
    /// whose resources are created by static functions (authority), and whose
    /// one user, `ip-name-lookup`, takes only `ip-address` (a variant) from it
    /// (see the next test).
    #[test]
    fn no_type_dependency_mixes_resources_with_ambient_functions() {
        for track in [Track::V02, Track::V03] {
            let all = &wasi().wit(track).interfaces;
            let used: BTreeSet<&String> = all.values().flat_map(|k| &k.uses).collect();
            for dep in used {
                let k = &all[dep];
                if track == Track::V03 && dep == "wasi:sockets/types" {
                    assert!(k.defines_resources && k.ambient.len() == 2);
                    continue;
                }
                assert!(
                    !k.defines_resources || k.ambient.is_empty(),
                    "{track:?}: `{dep}` defines resources and has ambient functions {:?}",
                    k.ambient
                );
            }
        }
    }

    /// What the rule above protects, use by use: a types-only view (a stub
    /// with resources of its own) never stands in for handles its user takes.
    #[test]
    fn no_interface_takes_handles_from_one_with_ambient_functions() {
        for track in [Track::V02, Track::V03] {
            let all = &wasi().wit(track).interfaces;
            for (user, k) in all {
                assert!(k.uses_handles_of.is_subset(&k.uses), "{user}");
                for dep in &k.uses_handles_of {
                    assert!(
                        all[dep].ambient.is_empty(),
                        "{track:?}: `{user}` takes handles from `{dep}`, which has ambient \
                         functions {:?}",
                        all[dep].ambient
                    );
                }
            }
        }
        let k = |n: &str| known(&name(n)).unwrap();
        assert!(
            k("wasi:http/client@0.3.0")
                .uses_handles_of
                .contains("wasi:http/types")
        );
        assert!(
            k("wasi:sockets/ip-name-lookup@0.3.0")
                .uses_handles_of
                .is_empty()
        );
        assert!(
            k("wasi:cli/stdout@0.2.0")
                .uses_handles_of
                .contains("wasi:io/streams")
        );
    }
}
