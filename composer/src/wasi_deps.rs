//! What WASI's own WIT says about its interfaces: which interface `use`s types
//! of which, and which functions carry authority of their own. Taken from the
//! WASI WIT vendored in `wit/deps` and compiled into the composer, never from
//! the components being composed: a component declares its own import types,
//! so its claim that `wasi:clocks/wall-clock` uses a type of
//! `wasi:cli/environment` must not make the environment reachable as a "type
//! dependency".
//!
//! The vendored WIT is one semver track (0.2); a name on another track (0.3,
//! a `0.3.0-rc-…` pre-release, or no version) is not known here, so nothing
//! about it is trusted.

use crate::names::{InterfaceName, compatible};
use semver::Version;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use wit_parser::{FunctionKind, Resolve, Type, TypeDefKind, TypeId};

/// The vendored WASI packages, in dependency order.
const WASI_WIT: [(&str, &str); 7] = [
    ("io.wit", include_str!("../../wit/deps/io/io.wit")),
    (
        "clocks.wit",
        include_str!("../../wit/deps/clocks/clocks.wit"),
    ),
    (
        "random.wit",
        include_str!("../../wit/deps/random/random.wit"),
    ),
    (
        "filesystem.wit",
        include_str!("../../wit/deps/filesystem/filesystem.wit"),
    ),
    (
        "sockets.wit",
        include_str!("../../wit/deps/sockets/sockets.wit"),
    ),
    ("cli.wit", include_str!("../../wit/deps/cli/cli.wit")),
    ("http.wit", include_str!("../../wit/deps/http/http.wit")),
];

/// One WASI interface as its own WIT defines it.
#[derive(Debug, Default)]
pub struct Known {
    /// The unversioned names of the interfaces it `use`s directly.
    pub uses: BTreeSet<String>,
    /// Every function, by WIT name (`now`, `[method]descriptor.read`).
    pub functions: BTreeSet<String>,
    /// The functions that carry authority without a handle: free functions
    /// none of whose parameters holds a resource handle (`now`,
    /// `get-environment`). Methods, constructors, static functions and free
    /// functions over handles (`poll`) act only on what a caller already holds.
    pub ambient: BTreeSet<String>,
    /// True when the interface defines a resource type.
    pub defines_resources: bool,
}

struct Wasi {
    version: Version,
    interfaces: BTreeMap<String, Known>,
}

fn wasi() -> &'static Wasi {
    static WASI: OnceLock<Wasi> = OnceLock::new();
    WASI.get_or_init(|| {
        let mut resolve = Resolve {
            all_features: true,
            ..Resolve::default()
        };
        for (path, text) in WASI_WIT {
            resolve
                .push_str(path, text)
                .expect("the vendored WASI WIT parses");
        }
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
        let interfaces = resolve
            .interfaces
            .iter()
            .filter(|(_, i)| i.name.is_some() && i.package.is_some())
            .map(|(id, iface)| {
                let known = Known {
                    uses: resolve.interface_direct_deps(id).map(unversioned).collect(),
                    functions: iface.functions.keys().cloned().collect(),
                    ambient: iface
                        .functions
                        .values()
                        .filter(|f| matches!(f.kind, FunctionKind::Freestanding))
                        .filter(|f| !f.params.iter().any(|p| holds_handle(&resolve, p.ty)))
                        .map(|f| f.name.clone())
                        .collect(),
                    defines_resources: iface
                        .types
                        .values()
                        .any(|t| matches!(resolve.types[*t].kind, TypeDefKind::Resource)),
                };
                (unversioned(id), known)
            })
            .collect();
        Wasi {
            version,
            interfaces,
        }
    })
}

/// True when a value of type `ty` holds a resource handle.
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

/// Every WASI interface the composer knows, unversioned (`wasi:cli/stdout`).
pub fn interface_names() -> impl Iterator<Item = &'static str> {
    wasi().interfaces.keys().map(String::as_str)
}

/// The vendored WASI version (e.g. 0.2.12): names on its semver track are known.
pub fn version() -> &'static Version {
    &wasi().version
}

/// What WASI's WIT says about `name`, when `name` is a WASI interface on the
/// vendored semver track.
pub fn known(name: &InterfaceName) -> Option<&'static Known> {
    let on_track = name
        .version
        .as_ref()
        .is_some_and(|v| compatible(v, version()));
    if !name.is_wasi() || !on_track {
        return None;
    }
    wasi().interfaces.get(&name.unversioned())
}

/// True when WASI's own WIT says `interface` uses types of `dependency`
/// directly, both on the vendored semver track (e.g. `wasi:cli/stdout@0.2.4`
/// and `wasi:io/streams@0.2.0`; never `wasi:io/streams@0.3.0-rc-…`).
pub fn uses(interface: &InterfaceName, dependency: &InterfaceName) -> bool {
    known(dependency).is_some()
        && known(interface).is_some_and(|k| k.uses.contains(&dependency.unversioned()))
}

/// Every interface that the given WASI interfaces use, directly or not, each
/// with the listed interface it was reached from (unversioned names). Only
/// roots on the vendored track count; the caller checks each dependency's
/// own version with [`known`].
pub fn closure<'a>(roots: impl IntoIterator<Item = &'a InterfaceName>) -> BTreeMap<String, String> {
    let mut reached = BTreeMap::new();
    let mut stack: Vec<(String, String)> = roots
        .into_iter()
        .filter(|r| known(r).is_some())
        .map(|r| (r.unversioned(), r.unversioned()))
        .collect();
    while let Some((name, via)) = stack.pop() {
        for dep in wasi()
            .interfaces
            .get(&name)
            .map(|k| &k.uses)
            .into_iter()
            .flatten()
        {
            if !reached.contains_key(dep) {
                reached.insert(dep.clone(), via.clone());
                stack.push((dep.clone(), via.clone()));
            }
        }
    }
    reached
}

/// True when a library that needs `name` only for its types must get it as a
/// types-only view: WASI's WIT gives it functions with authority of their own
/// (`wasi:clocks/wall-clock.now`).
pub fn has_ambient_functions(name: &InterfaceName) -> bool {
    known(name).is_some_and(|k| !k.ambient.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(known(&name("wasi:cli/stdout@0.3.0")).is_none());
        assert!(known(&name("wasi:cli/stdout@1.0.0")).is_none());
        assert!(closure(&[name("wasi:cli/stdout@0.3.0")]).is_empty());
    }

    #[test]
    fn ambient_functions_come_from_wasi_wit() {
        let wall = known(&name("wasi:clocks/wall-clock@0.2.0")).unwrap();
        assert!(wall.ambient.contains("now") && !wall.defines_resources);
        let poll = known(&name("wasi:io/poll@0.2.0")).unwrap();
        // `poll` acts on handles the caller holds.
        assert!(poll.ambient.is_empty() && poll.functions.contains("poll"));
        let streams = known(&name("wasi:io/streams@0.2.0")).unwrap();
        assert!(streams.ambient.is_empty());
        assert!(has_ambient_functions(&name(
            "wasi:clocks/monotonic-clock@0.2.1"
        )));
        assert!(!has_ambient_functions(&name("wasi:filesystem/types@0.2.1")));
    }

    /// A types-only view is a denial stub, which defines its own resources; so
    /// it must never be needed for an interface that defines resources (their
    /// handles must be the host's). True of every WASI interface that another
    /// one uses.
    #[test]
    fn no_type_dependency_mixes_resources_with_ambient_functions() {
        let all = &wasi().interfaces;
        let used: BTreeSet<&String> = all.values().flat_map(|k| &k.uses).collect();
        for dep in used {
            let k = &all[dep];
            assert!(
                !k.defines_resources || k.ambient.is_empty(),
                "`{dep}` defines resources and has ambient functions {:?}",
                k.ambient
            );
        }
    }
}
