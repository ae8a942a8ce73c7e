//! Step 4 of the pipeline: synthesize a "deny" component from WIT, with the
//! canonical ABI.
//!
//! Given the `Resolve` of an importing component and the interfaces it imports
//! that are to be denied, [`synthesize`] builds ONE component that exports
//! every denied interface under the importing world's exact name (with its
//! version). It imports only interfaces that are not denied and whose types
//! the denied ones use (`use wasi:io/streams.{output-stream}`): those used
//! directly, and of their dependencies only what those types reach. The
//! composer wires the importer's imports to the stub's exports, and the stub's
//! imports to whatever serves the importer. [`synthesize_items`] takes the
//! world's imports as they are, so it also denies inline interfaces
//! (`lists: interface { .. }`) and bare functions (`thing-in: func(..)`),
//! exported under the same plain names.
//!
//! What each function does is decided in `fates` by [`Rules::of`] the
//! interface's package (graceful denials for `wasi:` wherever the WIT allows:
//! `err(access-denied)`, `none`, empty lists, inert handles, ended streams,
//! futures that resolve at once with the denial; `err` or a named trap for
//! other packages). Async functions (WASI 0.3 and any other `async func`)
//! get the same fates, lifted with the async ABI: the stub calls
//! `task.return` with the denial before it returns, so callers never wait.
//! Values and their canonical ABI layout are in `values`, the emitted core
//! module in `core_module`. Resources of denied
//! interfaces are exported by the stub; their handles all have rep 0 and no
//! destructor, so a stub instance holds no state but its handle tables (and,
//! with a seeded `random`, the generator's state). A type-only interface is
//! exported like any other (its resources, no functions).
//!
//! [`synthesize_with`] takes an instance's [`Virtuals`] (fixed environment,
//! frozen clock, seeded random): the (sync) functions they serve return those
//! values instead of their denial; everything else is denied as above.
//!
//! ```no_run
//! # fn f(resolve: &wit_parser::Resolve, denied: &[wit_parser::InterfaceId]) {
//! let stub = airlock_core::virtualize::synthesize(resolve, denied, "markdown").unwrap();
//! std::fs::write("deny.wasm", &stub.bytes).unwrap();
//! for (iface, fates) in &stub.fates { for f in fates { println!("{iface}#{}: {}", f.function, f.fate) } }
//! # }
//! ```

mod core_module;
mod fates;
mod shrink;
mod stubs;
mod values;
mod virtuals;

pub use airlock_slice_settings::clock::format_time;
pub use fates::{DENIAL_CASES, Fate, FunctionFate, Rules, plan_interface};
/// Shortens a component's internal names (its main core module's imports and
/// exports, its nested components' imports; never its own imports and
/// exports), checked to wire every renamed name to the same item, and
/// validated. The composer runs it on each stub it synthesizes;
/// `just interposers` runs it on the prebuilt interposers, which are
/// wit-component's output like the stubs.
pub use shrink::shrink as shrink_internal_names;
pub use stubs::{Stubs, is_types_only, stubs, types_only_key};
pub use virtuals::{Virtuals, parse_clock, splitmix64};

use core_module::{Body, Export};
use std::collections::{BTreeMap, HashMap};
use values::Values;
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{
    InterfaceId, Package, PackageName, Resolve, SizeAlign, World, WorldId, WorldItem, WorldKey,
};

/// A synthesized deny component.
#[derive(Clone, Debug)]
pub struct DenyComponent {
    /// The component, validated.
    pub bytes: Vec<u8>,
    /// Interface name (e.g. `wasi:sockets/tcp@0.2.0`) -> each function's fate, in WIT order.
    pub fates: BTreeMap<String, Vec<FunctionFate>>,
}

/// Why a deny component cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum VirtualizeError {
    /// Only interfaces of a package can be exported under their own name.
    #[error("cannot deny an interface that has no package name (in world import `{name}`)")]
    Anonymous {
        /// What the resolve calls it.
        name: String,
    },
    /// A type at the top level of a world: there is nothing to deny.
    #[error(
        "cannot deny `{name}`, a type at the top level of a world: only interfaces and functions"
    )]
    Type {
        /// The import's name.
        name: String,
    },
    /// The deny set splits interfaces that share types: a denied interface
    /// would need an import that in turn depends on an exported (denied) one.
    #[error(
        "cannot deny {interfaces}: an interface that is not denied uses types of a denied one \
         (deny whole groups of interfaces that share types): {message}"
    )]
    NotClosed {
        /// The denied interfaces, comma-separated in backticks.
        interfaces: String,
        /// What wit-parser said.
        message: String,
    },
    /// wit-component refused the module (a bug in the synthesizer).
    #[error("cannot encode the deny component `{label}`: {message}")]
    Encode {
        /// The label given to [`synthesize`].
        label: String,
        /// The encoder's message.
        message: String,
    },
}

/// Builds one component that denies every interface in `deny` (interfaces of
/// `resolve`, e.g. the imports of a component decoded with
/// `wit_component::decode`). `label` names the stub in backtraces, e.g. the
/// instance it serves. Same input, same bytes.
pub fn synthesize(
    resolve: &Resolve,
    deny: &[InterfaceId],
    label: &str,
) -> Result<DenyComponent, VirtualizeError> {
    synthesize_with(resolve, deny, label, &Virtuals::default())
}

/// [`synthesize`], with functions that `virtuals` serves returning those
/// values instead of their denial (see [`Virtuals`]).
pub fn synthesize_with(
    resolve: &Resolve,
    deny: &[InterfaceId],
    label: &str,
    virtuals: &Virtuals,
) -> Result<DenyComponent, VirtualizeError> {
    let mut items = Vec::new();
    for &id in deny {
        let named =
            resolve.interfaces[id].name.is_some() && resolve.interfaces[id].package.is_some();
        if !named {
            return Err(VirtualizeError::Anonymous {
                name: resolve.interfaces[id].name.clone().unwrap_or_default(),
            });
        }
        items.push((WorldKey::Interface(id), interface_item(id)));
    }
    synthesize_items(resolve, &items, label, virtuals)
}

/// [`synthesize_with`] for imports of a world as the world has them (its
/// key and item): named interfaces, inline interfaces (`lists: interface {
/// .. }`) and bare functions (`thing-in: func(..)`). The stub exports each
/// under the same name. Inline interfaces and bare functions are never
/// WASI: `err` where the result has an error case, else a named trap.
pub fn synthesize_items(
    resolve: &Resolve,
    items: &[(WorldKey, WorldItem)],
    label: &str,
    virtuals: &Virtuals,
) -> Result<DenyComponent, VirtualizeError> {
    // A stable order whatever the caller's: by name.
    let mut denied = BTreeMap::new();
    for (key, item) in items {
        if let WorldItem::Type { .. } = item {
            return Err(VirtualizeError::Type {
                name: resolve.name_world_key(key),
            });
        }
        denied.insert(resolve.name_world_key(key), (key, item));
    }
    let deny: Vec<InterfaceId> = denied
        .values()
        .filter_map(|(_, item)| match item {
            WorldItem::Interface { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    // Inline interfaces have no name of their own: the world's key names them.
    let inline: HashMap<InterfaceId, WorldKey> = denied
        .values()
        .filter_map(|(key, item)| match (key, item) {
            (WorldKey::Name(_), WorldItem::Interface { id, .. }) => Some((*id, (*key).clone())),
            _ => None,
        })
        .collect();

    let is_stubbed = |r| fates::defined_by(resolve, r, &deny);
    let values = Values {
        resolve,
        stubbed: &is_stubbed,
    };
    let mut exports = Vec::new();
    let mut all_fates = BTreeMap::new();
    for (name, (key, item)) in &denied {
        let (interface, functions, rules, unversioned) = match item {
            WorldItem::Interface { id, .. } => (
                Some(*key),
                resolve.interfaces[*id].functions.values().collect(),
                Rules::of(resolve, *id),
                unversioned_name(resolve, *id),
            ),
            WorldItem::Function(func) => (None, vec![func], Rules::User, String::new()),
            WorldItem::Type { .. } => unreachable!("refused above"),
        };
        let mut iface_fates = Vec::new();
        for func in functions {
            // Virtual values serve sync functions of WASI interfaces; async
            // ones are denied.
            let served = match func.kind.is_async() || unversioned.is_empty() {
                true => None,
                false => virtuals.serve(&unversioned, &func.name),
            };
            let (fate, body) = match served {
                Some(served) => served,
                None => {
                    let iface = match item {
                        WorldItem::Interface { id, .. } => Some(*id),
                        _ => None,
                    };
                    let (fate, value) = fates::decide(&values, iface, func, rules);
                    let body = match fate {
                        Fate::Trap { .. } => Body::Trap,
                        _ => Body::Return(value),
                    };
                    (fate, body)
                }
            };
            exports.push(Export {
                interface,
                func,
                body,
            });
            iface_fates.push(FunctionFate {
                function: func.name.clone(),
                fate,
            });
        }
        all_fates.insert(name.clone(), iface_fates);
    }

    let (world_resolve, world) = deny_world(resolve, &denied)?;
    let mut sizes = SizeAlign::default();
    sizes.fill(resolve);
    let mut module = core_module::build(
        &values,
        &sizes,
        &exports,
        &inline,
        &format!("airlock-deny:{label}"),
    );

    let encode_error = |e: anyhow::Error| VirtualizeError::Encode {
        label: label.to_string(),
        message: format!("{e:#}"),
    };
    wit_component::embed_component_metadata(
        &mut module,
        &world_resolve,
        world,
        StringEncoding::UTF8,
    )
    .map_err(encode_error)?;
    // Validated once, by `shrink` (what it returns validates).
    let bytes = ComponentEncoder::default()
        .merge_imports_based_on_semver(false)
        .module(&module)
        .map_err(encode_error)?
        .encode()
        .map_err(encode_error)?;
    let bytes = shrink::shrink(&bytes).map_err(|message| VirtualizeError::Encode {
        label: label.to_string(),
        message,
    })?;
    let bytes = with_component_name(&bytes, &format!("airlock-deny:{label}"));

    Ok(DenyComponent {
        bytes,
        fates: all_fates,
    })
}

/// The world item of the interface `id`, imported whole.
fn interface_item(id: InterfaceId) -> WorldItem {
    WorldItem::Interface {
        id,
        stability: Default::default(),
        docs: Default::default(),
        span: Default::default(),
        external_id: None,
    }
}

/// `ns:pkg/iface` without a version.
fn unversioned_name(resolve: &Resolve, id: InterfaceId) -> String {
    let iface = &resolve.interfaces[id];
    let package = iface.package.map(|p| &resolve.packages[p].name);
    match (package, &iface.name) {
        (Some(p), Some(name)) => format!("{}:{}/{name}", p.namespace, p.name),
        _ => String::new(),
    }
}

/// A copy of `resolve` with a world `deny` that exports the denied
/// interfaces and functions and imports what they depend on. The world is in
/// a package of its own, `airlock:deny`, unless it exports an inline
/// interface: that must stay in the package of the world that imports it.
fn deny_world(
    resolve: &Resolve,
    denied: &BTreeMap<String, (&WorldKey, &WorldItem)>,
) -> Result<(Resolve, WorldId), VirtualizeError> {
    let mut resolve = resolve.clone();
    // An inline interface belongs to the package of the world that has it,
    // and so must the world that exports it.
    let inline_package = denied.values().find_map(|(key, item)| match (key, item) {
        (WorldKey::Name(_), WorldItem::Interface { id, .. }) => resolve.interfaces[*id].package,
        _ => None,
    });
    let package = match inline_package {
        Some(package) => package,
        None => resolve.packages.alloc(Package {
            name: PackageName {
                namespace: "airlock".to_string(),
                name: "deny".to_string(),
                version: None,
            },
            docs: Default::default(),
            interfaces: Default::default(),
            worlds: Default::default(),
        }),
    };
    let taken = &resolve.packages[package].worlds;
    let name = (0..)
        .map(|i| match i {
            0 => "deny".to_string(),
            i => format!("deny{i}"),
        })
        .find(|n| !taken.contains_key(n))
        .expect("a free name");
    let imports = denied
        .values()
        .map(|(key, item)| ((*key).clone(), (*item).clone()))
        .collect();
    let world = resolve.worlds.alloc(World {
        name: name.clone(),
        imports,
        exports: Default::default(),
        package: Some(package),
        docs: Default::default(),
        stability: Default::default(),
        includes: Default::default(),
        span: Default::default(),
    });
    resolve.packages[package].worlds.insert(name.clone(), world);
    // Moves the imports to exports and adds the interfaces they depend on as imports.
    resolve
        .exportize(world, Some(name), None)
        .map_err(|e| VirtualizeError::NotClosed {
            interfaces: denied
                .keys()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", "),
            message: format!("{e:#}"),
        })?;
    Ok((resolve, world))
}

/// `component` with its top-level `component-name` section replaced by one
/// that only names the component. (wit-component names every aliased core
/// function there: a fifth of a deny-all stub, and nothing reads it.)
fn with_component_name(component: &[u8], name: &str) -> Vec<u8> {
    use wasm_encoder::{ComponentNameSection, Encode};
    use wasmparser::{Parser, Payload};

    let mut out = component[..8].to_vec(); // magic and version
    let mut depth = 0;
    for payload in Parser::new(0).parse_all(component) {
        let payload = payload.expect("wit-component validated the component");
        let top_level = depth == 0;
        match &payload {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            _ => {}
        }
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        let is_names =
            matches!(&payload, Payload::CustomSection(c) if c.name() == "component-name");
        if top_level && !is_names {
            out.push(id);
            component[range.start as usize..range.end as usize].encode(&mut out);
        }
    }
    let mut names = ComponentNameSection::new();
    names.component(name);
    out.push(wasm_encoder::ComponentSectionId::CoreCustom as u8);
    names.encode(&mut out);
    out
}
