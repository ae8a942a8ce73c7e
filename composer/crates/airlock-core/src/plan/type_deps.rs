//! Checks across instances on what types an interface carries: the `use`s
//! that components declare must not make a cycle, a linked or granted
//! interface must get its type dependencies from the same place as its
//! provider, and a re-exported interface must not need types the output
//! cannot export.

use super::{Fate, InstancePlan, Problem};
use crate::inspect::Decoded;
use crate::names::InterfaceName;
use crate::spec::CompositionSpec;
use std::collections::{BTreeMap, BTreeSet};
use wit_parser::{Handle, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldItem};

/// Interface name -> (used interface name -> the instances declaring it).
type UseGraph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// The output merges imports of one name from every component, so the `use`s
/// that components declare for that name add up; a cycle among them (each
/// component's own WIT is acyclic, two may disagree) would make the output's
/// types infinite. Refused before anything is encoded.
pub(super) fn use_cycles(
    spec: &CompositionSpec,
    decoded: &[&Decoded],
    problems: &mut BTreeSet<Problem>,
) {
    if let Some(cycle) = first_use_cycle(&use_graph(spec, decoded)) {
        problems.insert(cycle);
    }
}

/// Every `use` that some instance declares, between interface names.
fn use_graph(spec: &CompositionSpec, decoded: &[&Decoded]) -> UseGraph {
    let mut graph = UseGraph::new();
    for (inst, dec) in spec.instances.iter().zip(decoded) {
        let resolve = &dec.resolve;
        for item in resolve.worlds[dec.world]
            .imports
            .values()
            .chain(resolve.worlds[dec.world].exports.values())
        {
            let WorldItem::Interface { id, .. } = item else {
                continue;
            };
            let Some(user) = resolve.id_of(*id) else {
                continue;
            };
            for dep in resolve.interface_direct_deps(*id) {
                if let Some(dep) = resolve.id_of(dep) {
                    graph
                        .entry(user.clone())
                        .or_default()
                        .entry(dep)
                        .or_default()
                        .insert(inst.name.clone());
                }
            }
        }
    }
    graph
}

/// The first cycle of `graph` in a depth-first search from its first node.
fn first_use_cycle(graph: &UseGraph) -> Option<Problem> {
    // Iterative depth-first search; 0 = unseen, 1 = on the path, 2 = done.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    let next = |n: &str| -> Vec<&str> {
        graph
            .get(n)
            .map(|d| d.keys().map(String::as_str).collect())
            .unwrap_or_default()
    };
    for start in graph.keys() {
        if state.get(start.as_str()).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut path: Vec<(&str, Vec<&str>)> = Vec::new();
        state.insert(start, 1);
        path.push((start, next(start)));
        while let Some((node, pending)) = path.last_mut() {
            let node = *node;
            let Some(dep) = pending.pop() else {
                state.insert(node, 2);
                path.pop();
                continue;
            };
            match state.get(dep).copied().unwrap_or(0) {
                0 => {
                    state.insert(dep, 1);
                    path.push((dep, next(dep)));
                }
                1 => {
                    let from = path.iter().position(|(n, _)| *n == dep).unwrap_or(0);
                    let mut interfaces: Vec<String> =
                        path[from..].iter().map(|(n, _)| n.to_string()).collect();
                    interfaces.push(dep.to_string());
                    let declared_by = interfaces
                        .windows(2)
                        .flat_map(|w| graph[&w[0]][&w[1]].iter().cloned())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    return Some(Problem::UseCycle {
                        interfaces,
                        declared_by,
                    });
                }
                _ => {}
            }
        }
    }
    None
}

/// An interface linked from a provider carries the types of its `use`
/// dependencies: the importer must get each dependency from the same place as
/// the provider (both from the host, or both from the same component). Denials
/// are per instance, so a denied dependency on either side cannot be shared.
pub(super) fn shared_dependencies(
    spec: &CompositionSpec,
    decoded: &[&Decoded],
    instances: &[InstancePlan],
    problems: &mut BTreeSet<Problem>,
) {
    let index: BTreeMap<&str, usize> = instances
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    for (inst, dec) in instances.iter().zip(decoded) {
        let world = &dec.resolve.worlds[dec.world];
        for (key, item) in &world.imports {
            let WorldItem::Interface { id, .. } = item else {
                continue;
            };
            let name = dec.resolve.name_world_key(key);
            // From the host: every dependency with resources must be too.
            let (provider, p) = match fate_of(inst, &name) {
                Some(Fate::Linked { provider, .. }) => match index.get(provider.as_str()) {
                    Some(&p) => (provider.as_str(), Some(&instances[p])),
                    None => continue,
                },
                Some(Fate::Granted { .. } | Fate::GrantedDependency { .. }) => ("", None),
                _ => continue,
            };
            if p.is_none() {
                // From the host: a dependency whose named types (records,
                // variants, enums, flags, resources) the host's interface
                // refers to must be the host's too; linked inside, the output
                // would import it anyway, which only the allow-list may permit.
                for dep_name in nominal_dependencies(&dec.resolve, *id) {
                    let allowed =
                        InterfaceName::parse(&dep_name).is_some_and(|d| spec.allow.matches(&d));
                    if let (Some(Fate::Linked { .. }), false) = (fate_of(inst, &dep_name), allowed)
                    {
                        problems.insert(Problem::HostDependency {
                            instance: inst.name.clone(),
                            import: name.clone(),
                            dependency: dep_name,
                        });
                    }
                }
            }
            for dep_name in resource_dependencies(&dec.resolve, *id) {
                let mine = fate_of(inst, &dep_name);
                let Some(p) = p else {
                    if mine.is_some() && !from_host(mine) {
                        problems.insert(Problem::HostDependency {
                            instance: inst.name.clone(),
                            import: name.clone(),
                            dependency: dep_name,
                        });
                    }
                    continue;
                };
                // A provider that exports the dependency, even while
                // importing it too (the stdio interposer serves its own
                // `wasi:io` over the host's), hands out its export's types.
                let exports_it = InterfaceName::parse(&dep_name).is_some_and(|d| {
                    p.exports
                        .iter()
                        .any(|e| InterfaceName::parse(e).is_some_and(|e| e.serves(&d)))
                });
                let theirs = fate_of(p, &dep_name);
                if !same_origin(mine, theirs, provider, exports_it) {
                    problems.insert(Problem::SharedDependency {
                        instance: inst.name.clone(),
                        import: name.clone(),
                        provider: provider.to_string(),
                        dependency: dep_name,
                    });
                }
            }
        }
    }
}

/// The fate of the import `name` of `inst`, if it imports it.
fn fate_of<'a>(inst: &'a InstancePlan, name: &str) -> Option<&'a Fate> {
    inst.imports
        .iter()
        .find(|i| i.name == name)
        .map(|i| &i.fate)
}

/// True for an import the host serves.
fn from_host(fate: Option<&Fate>) -> bool {
    matches!(
        fate,
        Some(Fate::Granted { .. } | Fate::GrantedDependency { .. })
    )
}

/// True when an importer whose dependency has fate `mine` and its `provider`,
/// where it has fate `theirs` (or exports it: `exports_it`), see the same
/// dependency types.
fn same_origin(
    mine: Option<&Fate>,
    theirs: Option<&Fate>,
    provider: &str,
    exports_it: bool,
) -> bool {
    match (mine, theirs) {
        // A problem already reported, or not an interface.
        (None, _) => true,
        (Some(Fate::Linked { provider: a, .. }), _) if exports_it => a == provider,
        _ if exports_it => false,
        (a, b) if from_host(a) && from_host(b) => true,
        (Some(Fate::Linked { provider: a, .. }), Some(Fate::Linked { provider: b, .. })) => a == b,
        // The provider exports the dependency itself.
        (Some(Fate::Linked { provider: a, .. }), None) => a == provider,
        // The provider neither imports nor exports it: its export then
        // carries none of the dependency's types (a component keeps only the
        // types it uses), so the host's are the only ones in play. wac checks
        // the link's types anyway.
        (a, None) if from_host(a) => true,
        _ => false,
    }
}

/// The names of the (transitive) `use` dependencies of `id` whose resources
/// `id` or its dependencies name: only resource types have an identity;
/// records and the like are compared by structure.
fn resource_dependencies(resolve: &Resolve, id: InterfaceId) -> Vec<String> {
    let owners = resource_owners(resolve, id);
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    let mut stack = vec![id];
    while let Some(i) = stack.pop() {
        for dep in resolve.interface_direct_deps(i) {
            if !seen.insert(dep) {
                continue;
            }
            stack.push(dep);
            if owners.contains(&dep)
                && let Some(name) = resolve.id_of(dep)
            {
                found.push(name);
            }
        }
    }
    found
}

/// The names of the other interfaces that own a named type (record,
/// variant, enum, flags, resource) which the types and functions of `id`
/// refer to, at any depth.
fn nominal_dependencies(resolve: &Resolve, id: InterfaceId) -> Vec<String> {
    let iface = &resolve.interfaces[id];
    let mut stack: Vec<Type> = iface.types.values().map(|t| Type::Id(*t)).collect();
    for f in iface.functions.values() {
        stack.extend(f.params.iter().map(|p| p.ty));
        stack.extend(f.result);
    }
    let mut seen = BTreeSet::new();
    let mut owners = BTreeSet::new();
    while let Some(ty) = stack.pop() {
        let Type::Id(t) = ty else { continue };
        if !seen.insert(t) {
            continue;
        }
        let def = &resolve.types[t];
        let nominal = matches!(
            def.kind,
            TypeDefKind::Record(_)
                | TypeDefKind::Variant(_)
                | TypeDefKind::Enum(_)
                | TypeDefKind::Flags(_)
                | TypeDefKind::Resource
        );
        if let TypeOwner::Interface(owner) = def.owner
            && nominal
            && owner != id
        {
            owners.insert(owner);
        }
        stack.extend(type_refs(&def.kind));
    }
    owners
        .into_iter()
        .filter_map(|o| resolve.id_of(o))
        .collect()
}

/// The interfaces that own a resource which `id` or one of its (transitive)
/// `use` dependencies names through a `use`.
fn resource_owners(resolve: &Resolve, id: InterfaceId) -> BTreeSet<InterfaceId> {
    let mut closure = BTreeSet::from([id]);
    let mut stack = vec![id];
    while let Some(i) = stack.pop() {
        for dep in resolve.interface_direct_deps(i) {
            if closure.insert(dep) {
                stack.push(dep);
            }
        }
    }
    let mut owners = BTreeSet::new();
    for i in closure {
        for t in resolve.interfaces[i].types.values() {
            let target = unalias(resolve, *t);
            if let (TypeDefKind::Resource, TypeOwner::Interface(owner)) =
                (&resolve.types[target].kind, resolve.types[target].owner)
                && owner != i
            {
                owners.insert(owner);
            }
        }
    }
    owners
}

/// The type that `id` names through any chain of aliases.
fn unalias(resolve: &Resolve, mut id: TypeId) -> TypeId {
    while let TypeDefKind::Type(Type::Id(next)) = resolve.types[id].kind {
        id = next;
    }
    id
}

/// The output re-exports an interface with its types. A type it `use`s from an
/// interface satisfied inside the output (by another component or a denial)
/// may not refer to named types (records, variants, enums, flags, resources)
/// of any interface: wasmparser rejects such an export ("instance not valid to
/// be used as export"). Found by the random composition generator; flat records,
/// aliases of lists of primitives and the like, and resources used directly are fine.
pub(super) fn unnamed_export_types(
    spec: &CompositionSpec,
    decoded: &[&Decoded],
    instances: &[InstancePlan],
    problems: &mut BTreeSet<Problem>,
) -> Vec<(String, String)> {
    let mut carried = Vec::new();
    let exported: BTreeSet<String> = instances
        .iter()
        .filter(|i| spec.exports.contains(&i.name))
        .flat_map(|i| i.exports.iter().cloned())
        .collect();
    for (inst, dec) in instances.iter().zip(decoded) {
        if !spec.exports.contains(&inst.name) {
            continue;
        }
        let resolve = &dec.resolve;
        let internal = |owner| inside(inst, resolve, owner);
        for (key, item) in &resolve.worlds[dec.world].exports {
            let WorldItem::Interface { id, .. } = item else {
                continue;
            };
            let missing = named_types_behind_uses(resolve, *id, internal);
            if missing.is_empty() {
                continue;
            }
            // Only what exposes nothing: a denial (inert), or an interface
            // of types alone from another component. Carrying a provider's
            // functions would let the embedder call that component directly.
            let carriable = |owner: InterfaceId| {
                let Some(name) = resolve.id_of(owner) else {
                    return false;
                };
                let fate = inst
                    .imports
                    .iter()
                    .find(|i| i.name == name)
                    .map(|i| &i.fate);
                match fate {
                    Some(Fate::Denied { .. }) => true,
                    Some(Fate::Linked { .. }) => resolve.interfaces[owner].functions.is_empty(),
                    _ => false,
                }
            };
            // The interfaces of the `use`d types themselves go along too:
            // the output names a nominal type only where it exports it.
            let mut owners = missing.clone();
            for t in resolve.interfaces[*id].types.values() {
                let t = unalias(resolve, *t);
                if let TypeOwner::Interface(owner) = resolve.types[t].owner
                    && owner != *id
                    && internal(TypeOwner::Interface(owner))
                {
                    owners.push((Some(owner), String::new()));
                }
            }
            match carry(resolve, &owners, &carriable, &internal, &exported) {
                Some(names) => {
                    for name in names {
                        let entry = (inst.name.clone(), name);
                        if !carried.contains(&entry) {
                            carried.push(entry);
                        }
                    }
                }
                None => {
                    let export = resolve.name_world_key(key);
                    for (_, missing) in missing {
                        problems.insert(Problem::UnnamedExportType {
                            instance: inst.name.clone(),
                            export: export.clone(),
                            missing,
                        });
                    }
                }
            }
        }
    }
    carried
}

/// The interfaces (import names, dependencies first) whose types `missing`
/// names, and that the output can export beside the interface that needs
/// them: each `carriable`, not exported by the output under the same name,
/// and needing no more than such interfaces itself (through `internal`
/// ones). `None` when one of them cannot be.
fn carry(
    resolve: &Resolve,
    missing: &[(Option<InterfaceId>, String)],
    carriable: &impl Fn(InterfaceId) -> bool,
    internal: &impl Fn(TypeOwner) -> bool,
    exported: &BTreeSet<String>,
) -> Option<Vec<String>> {
    let mut order: Vec<InterfaceId> = Vec::new();
    let mut pending: Vec<InterfaceId> = Vec::new();
    for (owner, _) in missing {
        pending.push((*owner)?);
    }
    while let Some(owner) = pending.pop() {
        if order.contains(&owner) {
            continue;
        }
        let name = resolve.id_of(owner)?;
        if !carriable(owner) || exported.contains(&name) {
            return None;
        }
        order.push(owner);
        for (next, _) in named_types_behind_uses(resolve, owner, internal) {
            pending.push(next?);
        }
    }
    // Found from the exported interface outwards: its dependencies last.
    order.reverse();
    order.into_iter().map(|i| resolve.id_of(i)).collect()
}

/// An exported function that uses a type at the top level of its world that
/// is denied (served inside the output by the denial component, see `deny`):
/// the output cannot export it (wasmparser: "func not valid to be used as
/// export"), since the type it names is defined inside.
pub(super) fn world_type_exports(
    spec: &CompositionSpec,
    decoded: &[&Decoded],
    instances: &[InstancePlan],
    problems: &mut BTreeSet<Problem>,
) {
    for (inst, dec) in instances.iter().zip(decoded) {
        if !spec.exports.contains(&inst.name) {
            continue;
        }
        let resolve = &dec.resolve;
        for item in resolve.worlds[dec.world].exports.values() {
            let WorldItem::Function(f) = item else {
                continue;
            };
            for ty in super::world_types_used(resolve, f) {
                let name = resolve.types[ty].name.clone().unwrap_or_default();
                let denied = inst
                    .imports
                    .iter()
                    .any(|i| i.name == name && matches!(i.fate, Fate::Denied { .. }));
                if denied {
                    problems.insert(Problem::WorldTypeExport {
                        instance: inst.name.clone(),
                        export: f.name.clone(),
                        ty: name,
                    });
                }
            }
        }
    }
}

/// True when `owner` is an interface that `inst` gets inside the output: from
/// a component or a denial.
fn inside(inst: &InstancePlan, resolve: &Resolve, owner: TypeOwner) -> bool {
    let TypeOwner::Interface(i) = owner else {
        return false;
    };
    resolve.id_of(i).is_some_and(|name| {
        inst.imports.iter().any(|imp| {
            imp.name == name && matches!(imp.fate, Fate::Linked { .. } | Fate::Denied { .. })
        })
    })
}

/// The named types of other interfaces (`interface.type`) that the types the
/// interface `id` `use`s from an `internal` interface refer to, at any depth.
fn named_types_behind_uses(
    resolve: &Resolve,
    id: InterfaceId,
    internal: impl Fn(TypeOwner) -> bool,
) -> Vec<(Option<InterfaceId>, String)> {
    // What the exported interface names itself.
    let named: BTreeSet<TypeId> = resolve.interfaces[id]
        .types
        .values()
        .map(|t| unalias(resolve, *t))
        .collect();
    // Walk from the `use`d types of internal interfaces.
    let mut stack: Vec<TypeId> = named
        .iter()
        .copied()
        .filter(|t| resolve.types[*t].owner != TypeOwner::Interface(id))
        .filter(|t| internal(resolve.types[*t].owner))
        .collect();
    let mut seen: BTreeSet<TypeId> = stack.iter().copied().collect();
    let mut found = Vec::new();
    while let Some(t) = stack.pop() {
        for r in type_refs(&resolve.types[t].kind) {
            let Type::Id(r) = r else { continue };
            let r = unalias(resolve, r);
            if seen.insert(r) {
                stack.push(r);
            }
            let nominal = matches!(
                resolve.types[r].kind,
                TypeDefKind::Record(_)
                    | TypeDefKind::Variant(_)
                    | TypeDefKind::Enum(_)
                    | TypeDefKind::Flags(_)
                    | TypeDefKind::Resource
            );
            // Even when the exported interface `use`s `r` too: the output's
            // copy of the referring type names the inner one. (Its own types
            // are fine, also when the component imports the interface it
            // exports: the same interface in its WIT.)
            if !nominal || resolve.types[r].owner == TypeOwner::Interface(id) {
                continue;
            }
            // Wherever `r` comes from: even a host import's type.
            let (owner_id, owner) = match resolve.types[r].owner {
                TypeOwner::Interface(i) => (Some(i), resolve.id_of(i).unwrap_or_default()),
                _ => (None, String::new()),
            };
            let ty = resolve.types[r].name.clone().unwrap_or_default();
            found.push((owner_id, format!("{owner}.{ty}")));
        }
    }
    found
}

/// The types a type definition refers to directly.
fn type_refs(kind: &TypeDefKind) -> Vec<Type> {
    let mut refs: Vec<Type> = Vec::new();
    match kind {
        TypeDefKind::Record(r) => refs.extend(r.fields.iter().map(|f| f.ty)),
        TypeDefKind::Variant(v) => refs.extend(v.cases.iter().filter_map(|c| c.ty)),
        TypeDefKind::Tuple(tu) => refs.extend(tu.types.iter().copied()),
        TypeDefKind::Option(x)
        | TypeDefKind::List(x)
        | TypeDefKind::FixedLengthList(x, _)
        | TypeDefKind::Type(x) => refs.push(*x),
        TypeDefKind::Map(k, v) => refs.extend([*k, *v]),
        TypeDefKind::Result(r) => refs.extend(r.ok.iter().chain(&r.err).copied()),
        TypeDefKind::Future(x) | TypeDefKind::Stream(x) => refs.extend(*x),
        TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => refs.push(Type::Id(*r)),
        _ => {}
    }
    refs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::DenyReason;

    fn linked(provider: &str) -> Fate {
        Fate::Linked {
            provider: provider.into(),
            export: "wasi:io/streams@0.2.12".into(),
        }
    }

    fn granted() -> Fate {
        Fate::Granted {
            grant: "wasi:io/*".into(),
        }
    }

    fn denied() -> Fate {
        Fate::Denied {
            reason: DenyReason::Default,
            of: None,
            functions: BTreeMap::new(),
        }
    }

    #[test]
    fn the_host_on_both_sides_is_the_same_origin() {
        let dependency = Fate::GrantedDependency {
            of: "wasi:cli/stdout@0.2.12".into(),
        };
        assert!(same_origin(
            Some(&granted()),
            Some(&dependency),
            "lib",
            false
        ));
        // The provider keeps no types of a dependency it does not import.
        assert!(same_origin(Some(&granted()), None, "lib", false));
    }

    #[test]
    fn denials_are_never_shared() {
        let (d, g) = (denied(), granted());
        assert!(!same_origin(Some(&d), Some(&d), "lib", false));
        assert!(!same_origin(Some(&d), Some(&g), "lib", false));
        assert!(!same_origin(Some(&g), Some(&d), "lib", false));
    }

    #[test]
    fn a_provider_that_exports_the_dependency_must_serve_it() {
        let from_lib = linked("lib");
        assert!(same_origin(Some(&from_lib), Some(&granted()), "lib", true));
        assert!(same_origin(Some(&from_lib), None, "lib", false));
        assert!(!same_origin(Some(&linked("other")), None, "lib", true));
        assert!(!same_origin(
            Some(&granted()),
            Some(&granted()),
            "lib",
            true
        ));
    }

    #[test]
    fn one_component_on_both_sides_is_the_same_origin() {
        let from = linked("io");
        assert!(same_origin(Some(&from), Some(&linked("io")), "lib", false));
        assert!(!same_origin(
            Some(&from),
            Some(&linked("other")),
            "lib",
            false
        ));
        assert!(!same_origin(Some(&from), Some(&granted()), "lib", false));
    }

    #[test]
    fn an_unplanned_dependency_is_left_to_other_checks() {
        assert!(same_origin(None, Some(&denied()), "lib", true));
    }
}
