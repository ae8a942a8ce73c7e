//! Step 4 glue: from an instance's denied imports to its denial component,
//! via the synthesizer in `virtualize`.
//!
//! Types at the top level of a world (`resource r;` or `use i.{t};` in the
//! world itself) cannot be exported on their own from a component made from
//! WIT, so the denial component carries them, with the world's functions
//! that use them, in one inline interface, [`WORLD_TYPES`]; `compose` wires
//! each such import to the item of that name inside it.

use crate::virtualize;
use std::collections::{BTreeMap, BTreeSet};
use wit_parser::{Function, Interface, Resolve, TypeId, TypeOwner, WorldId, WorldItem, WorldKey};

/// The inline interface of a denial component that holds the denied types
/// at the top level of the importer's world and the functions that use them.
pub const WORLD_TYPES: &str = "airlock-world-types";

/// A synthesized denial component and, per denied interface, what each function does.
pub struct DenialComponent {
    /// The component bytes.
    pub bytes: Vec<u8>,
    /// Interface name -> function name -> behaviour, for the audit.
    pub functions: BTreeMap<String, BTreeMap<String, String>>,
}

/// Builds the component that serves `denied` (import names of `world`:
/// interfaces, inline interfaces and bare functions) for
/// `instance`, with the functions its `virtuals` serve returning those values.
pub fn deny_imports(
    resolve: &Resolve,
    world: WorldId,
    denied: &[String],
    instance: &str,
    virtuals: &virtualize::Virtuals,
) -> anyhow::Result<DenialComponent> {
    // Interfaces, named or inline, and bare functions, as the world has them.
    let items = resolve.worlds[world]
        .imports
        .iter()
        .filter(|(key, _)| denied.contains(&resolve.name_world_key(key)))
        .map(|(key, item)| (key.clone(), item.clone()))
        .collect::<Vec<_>>();
    anyhow::ensure!(
        items.len() == denied.len(),
        "some denied imports are not imports of the component: {}",
        denied.join(", ")
    );
    let grouped = group_world_types(resolve, world, items);
    let resolve = grouped.resolve.as_ref().unwrap_or(resolve);
    let stub = virtualize::synthesize_items(resolve, &grouped.items, instance, virtuals)?;
    let mut functions: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (iface, fates) in stub.fates {
        for f in fates {
            // A function of the world types' interface is the import of its own name.
            let key = match iface == WORLD_TYPES {
                true => f.function.clone(),
                false => iface.clone(),
            };
            functions
                .entry(key)
                .or_default()
                .insert(f.function, f.fate.to_string());
        }
    }
    Ok(DenialComponent {
        bytes: stub.bytes,
        functions,
    })
}

/// Denied world items, with the types at the top level of the world moved
/// into one inline interface ([`WORLD_TYPES`]) of a copy of the resolve.
struct Grouped {
    /// The copy, when there are such types.
    resolve: Option<Resolve>,
    /// The items to synthesize.
    items: Vec<(WorldKey, WorldItem)>,
}

/// Moves the denied types at the top level of `world` (and the denied bare
/// functions that use them) into an inline interface [`WORLD_TYPES`], so that
/// the denial component can export them; the rest of `items` as it is.
fn group_world_types(
    resolve: &Resolve,
    world: WorldId,
    items: Vec<(WorldKey, WorldItem)>,
) -> Grouped {
    let types: Vec<(String, TypeId)> = items
        .iter()
        .filter_map(|(key, item)| match item {
            WorldItem::Type { id, .. } => Some((resolve.name_world_key(key), *id)),
            _ => None,
        })
        .collect();
    if types.is_empty() {
        return Grouped {
            resolve: None,
            items,
        };
    }
    let ids: BTreeSet<TypeId> = types.iter().map(|(_, id)| *id).collect();
    let mut copy = resolve.clone();
    let iface = copy.interfaces.alloc(Interface {
        name: None,
        types: Default::default(),
        functions: Default::default(),
        docs: Default::default(),
        stability: Default::default(),
        package: copy.worlds[world].package,
        span: Default::default(),
        clone_of: None,
    });
    for (name, id) in &types {
        copy.types[*id].owner = TypeOwner::Interface(iface);
        copy.interfaces[iface].types.insert(name.clone(), *id);
    }
    let mut rest = Vec::new();
    for (key, item) in items {
        match item {
            WorldItem::Type { .. } => {}
            WorldItem::Function(f) if uses_any(resolve, &f, &ids) => {
                copy.interfaces[iface].functions.insert(f.name.clone(), f);
            }
            other => rest.push((key, other)),
        }
    }
    // The types belong to the interface now; the importer's world is not
    // what is synthesized, and emptied it cannot refer to them from where
    // they were (the copy must stay valid).
    copy.worlds[world].imports.clear();
    copy.worlds[world].exports.clear();
    rest.push((
        WorldKey::Name(WORLD_TYPES.to_string()),
        WorldItem::Interface {
            id: iface,
            stability: Default::default(),
            docs: Default::default(),
            span: Default::default(),
            external_id: None,
        },
    ));
    Grouped {
        resolve: Some(copy),
        items: rest,
    }
}

/// Whether `f` uses one of `types` (see [`crate::plan::world_types_used`]).
fn uses_any(resolve: &Resolve, f: &Function, types: &BTreeSet<TypeId>) -> bool {
    crate::plan::world_types_used(resolve, f)
        .iter()
        .any(|t| types.contains(t))
}
