//! A component's WIT may be hostile: what it declares about a WASI interface
//! (its functions, the interfaces it `use`s) must be what WASI's own WIT,
//! compiled into the composer, has at the same semver track.

use super::Problem;
use crate::inspect::Decoded;
use crate::names::InterfaceName;
use crate::wasi_deps;
use std::collections::BTreeSet;
use wit_parser::{InterfaceId, Type, TypeDefKind, TypeOwner, WorldItem};

/// The functions a component declares in a WASI interface that WASI's own
/// WIT (at that semver track) does not have. An interface that reaches the
/// host must hold none: the output merges every component's declaration of
/// one import, so a forged function would reach every instance given it.
pub(super) fn forged_functions(
    dec: &Decoded,
    id: InterfaceId,
    name: &InterfaceName,
) -> Vec<String> {
    // Pre-release names (`0.3.0-rc-…`) are read with the released WIT of
    // their track, whose function names they need not share; the per-instance
    // verification still holds them to WASI's functions.
    let pre_release = name.version.as_ref().is_some_and(|v| !v.pre.is_empty());
    let Some(known) = wasi_deps::known(name).filter(|_| !pre_release) else {
        return Vec::new();
    };
    dec.resolve.interfaces[id]
        .functions
        .keys()
        .filter(|f| !known.functions.contains(*f))
        .cloned()
        .collect()
}

/// Every `use` that a WASI interface on the vendored track declares must be one
/// WASI's own WIT has, at the same track: otherwise a library could make any
/// interface a "type dependency" of one it is granted, whatever its fate.
pub(super) fn forged_uses(instance: &str, dec: &Decoded, problems: &mut BTreeSet<Problem>) {
    let resolve = &dec.resolve;
    for item in resolve.worlds[dec.world].imports.values() {
        let WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let Some(user) = resolve.id_of(*id).and_then(|n| InterfaceName::parse(&n)) else {
            continue;
        };
        if wasi_deps::known(&user).is_none() {
            continue;
        }
        for dep in resolve.interface_direct_deps(*id) {
            let dep_name = resolve.id_of(dep).unwrap_or_default();
            let genuine =
                InterfaceName::parse(&dep_name).is_some_and(|d| wasi_deps::uses(&user, &d));
            if genuine {
                continue;
            }
            let ty = resolve.interfaces[*id]
                .types
                .iter()
                .find(|(_, t)| match resolve.types[**t].kind {
                    TypeDefKind::Type(Type::Id(o)) => {
                        resolve.types[o].owner == TypeOwner::Interface(dep)
                    }
                    _ => false,
                })
                .map(|(name, _)| name.clone())
                .unwrap_or_default();
            problems.insert(Problem::ForgedUse {
                instance: instance.to_string(),
                import: user.to_string(),
                dependency: dep_name,
                ty,
            });
        }
    }
}
