//! Planning one instance: each import is linked to a provider, granted from
//! the host (with the type dependencies that come with it), or virtualized.
//! Deny by default.

use super::providers::{ExportIndex, find_plain_provider, find_provider};
use super::wasi_checks::forged_functions;
use super::{DenyReason, Fate, ImportPlan, InstancePlan, Problem, is_command};
use crate::attenuate::Slice;
use crate::inspect::{Decoded, ItemKind};
use crate::names::InterfaceName;
use crate::spec::{CompositionSpec, InstanceSpec};
use crate::wasi_deps;
use std::collections::{BTreeMap, BTreeSet};
use wit_parser::{
    Function, Handle, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldItem,
};

/// The plan of `inst`, whose component is `dec`; what cannot be planned goes
/// to `problems`.
pub(super) fn plan_instance(
    spec: &CompositionSpec,
    inst: &InstanceSpec,
    dec: &Decoded,
    exports: &ExportIndex,
    problems: &mut BTreeSet<Problem>,
) -> InstancePlan {
    let mut planner = Planner {
        spec,
        inst,
        dec,
        problems,
        virtual_keys: inst.virtuals.interfaces(),
        fates: BTreeMap::new(),
        reported: BTreeSet::new(),
    };
    let granted = planner.providers_and_grants(exports);
    planner.close_over_dependencies(granted);
    planner.check_virtual_values();
    planner.check_slices_serve_wasi_0_3();
    InstancePlan {
        name: inst.name.clone(),
        imports: planner.imports(),
        exports: dec.exports.iter().map(|e| e.name.clone()).collect(),
        virtual_values: inst.virtuals.summary(),
        // An interposer's line is its library's slice, shown there.
        slices: match inst.builtin {
            Some(_) => Vec::new(),
            None => inst.slices.clone(),
        },
    }
}

/// The state of planning one instance.
struct Planner<'a> {
    spec: &'a CompositionSpec,
    inst: &'a InstanceSpec,
    dec: &'a Decoded,
    problems: &'a mut BTreeSet<Problem>,
    /// The interfaces the instance's virtual values serve, with their keys.
    virtual_keys: Vec<(&'static str, &'static str)>,
    /// The imports decided so far: linked, granted, or types-only denials.
    fates: BTreeMap<String, Fate>,
    /// Imports with a problem already reported are not reported again as unsatisfied.
    reported: BTreeSet<String>,
}

impl Planner<'_> {
    /// Records `problem` with the import `name`, which then gets no fate.
    fn report(&mut self, name: &str, problem: Problem) {
        self.reported.insert(name.to_string());
        self.problems.insert(problem);
    }

    /// 1. Providers and grants. Returns the granted interfaces.
    fn providers_and_grants(&mut self, exports: &ExportIndex) -> Vec<(InterfaceId, String)> {
        let (spec, inst, dec) = (self.spec, self.inst, self.dec);
        let mut granted = Vec::new();
        for (key, item) in &dec.resolve.worlds[dec.world].imports {
            let name = dec.resolve.name_world_key(key);
            let parsed = InterfaceName::parse(&name);
            let id = match item {
                WorldItem::Interface { id, .. } => Some(*id),
                _ => None,
            };
            let (Some(parsed), Some(id)) = (parsed, id) else {
                if let Some(problem) = self.not_plain(&name, item) {
                    self.report(&name, problem);
                } else if !inst.deny.matches_plain(&name) {
                    self.plain(exports, &name, item, id, &mut granted);
                }
                continue;
            };
            // An explicit deny wins over providers and grants: it carves exceptions
            // out of wide grants (`grant = ["wasi:*"]`, `deny = ["wasi:sockets/*"]`).
            if inst.deny.matches(&parsed) {
                continue;
            }
            match find_provider(spec, inst, &parsed, exports) {
                Ok(Some((provider, export))) => {
                    self.fates.insert(name, Fate::Linked { provider, export });
                }
                Ok(None) => {
                    if self.grant(id, &name, &parsed) {
                        granted.push((id, name));
                    }
                }
                Err(p) => self.report(&name, p),
            }
        }
        granted
    }

    /// Why the import `name` (`item`, not a named interface) can be neither
    /// linked nor virtualized: a type, or a function that uses a type, at
    /// the top level of the world. `None` for a bare function or inline
    /// interface, which can.
    fn not_plain(&self, name: &str, item: &WorldItem) -> Option<Problem> {
        let instance = self.inst.name.clone();
        let import = name.to_string();
        // Denied explicitly, types of the world itself and the functions
        // that use them are served by the denial component (see `deny`).
        let denied = |name: &str| self.inst.deny.matches_plain(name);
        match item {
            WorldItem::Type { .. } if denied(name) => None,
            WorldItem::Type { .. } => Some(Problem::TypeImport { instance, import }),
            WorldItem::Function(f) => {
                let ty = world_type(&self.dec.resolve, f)?;
                if denied(name) && denied(&ty) {
                    return None;
                }
                Some(Problem::WorldTypeFunction {
                    instance,
                    import,
                    ty,
                })
            }
            WorldItem::Interface { .. } => None,
        }
    }

    /// A bare function or inline interface that is not denied explicitly:
    /// linked to the component that exports its plain name with the same
    /// type, or granted when the grant and the allow-list both name it
    /// exactly (it is never WASI, so no wildcard hands it to the host).
    /// Otherwise it is decided in step 3.
    fn plain(
        &mut self,
        exports: &ExportIndex,
        name: &str,
        item: &WorldItem,
        id: Option<InterfaceId>,
        granted: &mut Vec<(InterfaceId, String)>,
    ) {
        let (spec, inst) = (self.spec, self.inst);
        match find_plain_provider(spec, inst, (name, self.dec, item), exports) {
            Ok(Some((provider, export))) => {
                let fate = Fate::Linked { provider, export };
                self.fates.insert(name.to_string(), fate);
            }
            Ok(None) => {
                let Some(grant) = inst.grant.find_exact(name) else {
                    return;
                };
                if spec.allow.find_exact(name).is_none() {
                    let problem = Problem::GrantNotAllowed {
                        instance: inst.name.clone(),
                        import: name.to_string(),
                        grant: grant.to_string(),
                    };
                    self.report(name, problem);
                    return;
                }
                let fate = Fate::Granted {
                    grant: grant.to_string(),
                };
                self.fates.insert(name.to_string(), fate);
                if let Some(id) = id {
                    granted.push((id, name.to_string()));
                }
            }
            Err(p) => self.report(name, p),
        }
    }

    /// Grants the import `name` (interface `id`) when a grant selects it, the
    /// allow-list permits it and it declares only WASI's own functions; true
    /// when granted.
    fn grant(&mut self, id: InterfaceId, name: &str, parsed: &InterfaceName) -> bool {
        let (spec, inst, dec) = (self.spec, self.inst, self.dec);
        // The plug form's implicit `wasi:cli/exit` does not count for a
        // library; a pattern the user wrote (`wasi:*@0.3`) still does.
        let implicit_only = implicit_for_commands_only(spec, inst, dec, parsed);
        let grant = inst
            .grant
            .0
            .iter()
            .find(|p| p.matches(parsed) && !(implicit_only && p.as_str() == IMPLICIT_EXIT));
        let Some(grant) = grant else {
            return false;
        };
        let forged = forged_functions(dec, id, parsed);
        if !forged.is_empty() {
            let problem = Problem::ForgedFunctions {
                instance: inst.name.clone(),
                import: name.to_string(),
                functions: forged,
            };
            self.report(name, problem);
            false
        } else if spec.allow.matches(parsed) {
            let fate = Fate::Granted {
                grant: grant.to_string(),
            };
            self.fates.insert(name.to_string(), fate);
            true
        } else {
            let problem = Problem::GrantNotAllowed {
                instance: inst.name.clone(),
                import: name.to_string(),
                grant: grant.to_string(),
            };
            self.report(name, problem);
            false
        }
    }

    /// 2. Grants are closed over type dependencies: a granted `wasi:cli/stdout`
    ///    hands out host `output-stream`s, so `wasi:io/streams` must be the host's too.
    ///    Which interface uses which is taken from WASI's own WIT, not from the
    ///    component's declared types (see `wasi_deps`); any other dependency
    ///    must be permitted by the allow-list itself.
    fn close_over_dependencies(&mut self, granted: Vec<(InterfaceId, String)>) {
        let resolve = &self.dec.resolve;
        let mut stack = granted;
        while let Some((id, of)) = stack.pop() {
            let user = resolve.id_of(id).and_then(|n| InterfaceName::parse(&n));
            for dep in resolve.interface_direct_deps(id) {
                if self.dependency(dep, &of, user.as_ref()) {
                    stack.push((dep, of.clone()));
                }
            }
        }
    }

    /// Decides `dep`, a type dependency of `user`, which a grant of `of`
    /// brings along; true when its own dependencies must follow.
    fn dependency(&mut self, dep: InterfaceId, of: &str, user: Option<&InterfaceName>) -> bool {
        let (inst, dec) = (self.inst, self.dec);
        let Some(dep_name) = dec.resolve.id_of(dep) else {
            return false;
        };
        if self.fates.contains_key(&dep_name) || self.reported.contains(&dep_name) {
            return false;
        }
        let Some(dep_parsed) = InterfaceName::parse(&dep_name) else {
            return false;
        };
        if inst.deny.matches(&dep_parsed) {
            let problem = Problem::DeniedDependency {
                instance: inst.name.clone(),
                import: dep_name.clone(),
                of: of.to_string(),
            };
            self.report(&dep_name, problem);
            return false;
        }
        // Only WASI's own WIT says what a type dependency is; the allow-list
        // grants nothing to anyone, so a claim it does not back is refused.
        let genuine = user.is_some_and(|u| wasi_deps::uses(u, &dep_parsed));
        if genuine && wasi_deps::has_ambient_functions(&dep_parsed) {
            // Types, not authority: `wall-clock` under `filesystem/types`
            // gives `datetime`, not `now()`.
            let fate = Fate::Denied {
                reason: DenyReason::TypesOnly,
                of: Some(of.to_string()),
                functions: BTreeMap::new(),
            };
            self.fates.insert(dep_name, fate);
            true
        } else if genuine {
            // The host's functions reach the library as they are declared:
            // only those WASI's own WIT has (none of them ambient, above).
            let forged = forged_functions(dec, dep, &dep_parsed);
            if !forged.is_empty() {
                let problem = Problem::ForgedFunctions {
                    instance: inst.name.clone(),
                    import: dep_name.clone(),
                    functions: forged,
                };
                self.report(&dep_name, problem);
                return false;
            }
            let fate = Fate::GrantedDependency { of: of.to_string() };
            self.fates.insert(dep_name, fate);
            true
        } else if user.is_some_and(|u| wasi_deps::known(u).is_some()) {
            // Reported for every import by `forged_uses`.
            self.reported.insert(dep_name);
            false
        } else {
            let problem = Problem::UndeclaredDependency {
                instance: inst.name.clone(),
                // An inline interface has no name of its own: the granted import's.
                import: user.map_or_else(|| of.to_string(), |u| u.to_string()),
                dependency: dep_name.clone(),
            };
            self.report(&dep_name, problem);
            false
        }
    }

    /// Virtual values only serve imports that are virtualized.
    fn check_virtual_values(&mut self) {
        for (name, fate) in &self.fates {
            let Some(parsed) = InterfaceName::parse(name) else {
                continue;
            };
            let Some(fate) = not_virtualized(fate) else {
                continue;
            };
            let unversioned = parsed.unversioned();
            let keys = self.virtual_keys.iter().filter(|(i, _)| *i == unversioned);
            let mut keys: Vec<&str> = keys.map(|(_, k)| *k).collect();
            keys.dedup();
            for key in keys {
                self.problems.insert(Problem::VirtualNotDenied {
                    instance: self.inst.name.clone(),
                    import: name.clone(),
                    key: key.to_string(),
                    fate: fate.clone(),
                });
            }
        }
    }

    /// The files, sockets and offset-clock slices narrow WASI 0.2 only: a
    /// WASI 0.3 import they would narrow is refused rather than silently
    /// left denied (the user asked for access, not for nothing).
    fn check_slices_serve_wasi_0_3(&mut self) {
        for slice in &self.inst.slices {
            let slice = match slice {
                Slice::Unused(inner) => inner.as_ref(),
                other => other,
            };
            let (key, narrows): (&str, fn(&str) -> bool) = match slice {
                Slice::Files(_) | Slice::FilesEmbedded { .. } => {
                    ("files", |i| i.starts_with("wasi:filesystem/"))
                }
                Slice::Tcp(_) => ("sockets", |i| i.starts_with("wasi:sockets/")),
                Slice::Clock(_) => ("clock", |i| i == "wasi:clocks/system-clock"),
                _ => continue,
            };
            for item in &self.dec.imports {
                let Some(name) = InterfaceName::parse(&item.name) else {
                    continue;
                };
                let is_0_3 = name
                    .version
                    .as_ref()
                    .is_some_and(|v| v.major == 0 && v.minor == 3);
                if name.is_wasi() && is_0_3 && narrows(&name.unversioned()) {
                    let problem = Problem::SliceOnlyOnWasi02 {
                        instance: self.inst.name.clone(),
                        import: item.name.clone(),
                        key: key.to_string(),
                    };
                    self.report(&item.name, problem);
                }
            }
        }
    }

    /// 3. Everything else is denied: WASI by default, other interfaces only
    ///    when the user says so. The imports' plans, in the component's order.
    fn imports(mut self) -> Vec<ImportPlan> {
        let mut imports = Vec::new();
        for item in &self.dec.imports {
            // A type at the top level of the world is planned only when it
            // is denied (else it was reported).
            let denied_type =
                item.kind == ItemKind::Type && self.inst.deny.matches_plain(&item.name);
            if (item.kind == ItemKind::Type && !denied_type) || self.reported.contains(&item.name) {
                continue;
            }
            let fate = match self.fates.remove(&item.name) {
                Some(f) => f,
                None => match self.denial(&item.name) {
                    Some(f) => f,
                    None => continue,
                },
            };
            imports.push(ImportPlan {
                name: item.name.clone(),
                family: item.family,
                fate,
            });
        }
        imports
    }

    /// The fate of an import that is neither linked nor granted: denied when
    /// it is WASI or denied explicitly, else a problem. A plain name (a bare
    /// function or inline interface) is never WASI.
    fn denial(&mut self, name: &str) -> Option<Fate> {
        let parsed = InterfaceName::parse(name);
        let unversioned = parsed.as_ref().map(InterfaceName::unversioned);
        let is_virtual = self
            .virtual_keys
            .iter()
            .any(|(i, _)| Some(*i) == unversioned.as_deref());
        let explicit = match &parsed {
            Some(parsed) => self.inst.deny.matches(parsed),
            None => self.inst.deny.matches_plain(name),
        };
        let is_wasi = parsed.as_ref().is_some_and(InterfaceName::is_wasi);
        if !is_wasi && !explicit {
            self.problems.insert(Problem::Unsatisfied {
                instance: self.inst.name.clone(),
                import: name.to_string(),
            });
            return None;
        }
        let reason = match (is_virtual, explicit) {
            (true, _) => DenyReason::Virtual,
            (false, true) => DenyReason::Explicit,
            (false, false) => DenyReason::Default,
        };
        Some(Fate::Denied {
            reason,
            of: None,
            functions: BTreeMap::new(),
        })
    }
}

/// The first type at the top level of the world that `f` uses, by name.
fn world_type(resolve: &Resolve, f: &Function) -> Option<String> {
    let first = world_types_used(resolve, f).into_iter().next()?;
    Some(resolve.types[first].name.clone().unwrap_or_default())
}

/// The types at the top level of a world (`resource r;`, `use i.{t};` in
/// the world itself) that `f` uses: in its parameters or result, at any
/// depth, or as the resource it is a constructor, method or static function of.
pub(crate) fn world_types_used(resolve: &Resolve, f: &Function) -> Vec<TypeId> {
    use wit_parser::FunctionKind;
    let mut found = Vec::new();
    let mut types: Vec<Type> = f.params.iter().map(|p| p.ty).collect();
    types.extend(f.result);
    match f.kind {
        FunctionKind::Method(id)
        | FunctionKind::Static(id)
        | FunctionKind::Constructor(id)
        | FunctionKind::AsyncMethod(id)
        | FunctionKind::AsyncStatic(id) => types.push(Type::Id(id)),
        FunctionKind::Freestanding | FunctionKind::AsyncFreestanding => {}
    }
    let mut seen = BTreeSet::new();
    while let Some(ty) = types.pop() {
        let Type::Id(id) = ty else { continue };
        if !seen.insert(id) {
            continue;
        }
        let def = &resolve.types[id];
        if let TypeOwner::World(_) = def.owner {
            found.push(id);
            continue;
        }
        match &def.kind {
            TypeDefKind::Record(r) => types.extend(r.fields.iter().map(|f| f.ty)),
            TypeDefKind::Tuple(t) => types.extend(&t.types),
            TypeDefKind::Variant(v) => types.extend(v.cases.iter().filter_map(|c| c.ty)),
            TypeDefKind::Option(t) | TypeDefKind::List(t) | TypeDefKind::Type(t) => types.push(*t),
            TypeDefKind::FixedLengthList(t, _) => types.push(*t),
            TypeDefKind::Map(k, v) => types.extend([*k, *v]),
            TypeDefKind::Result(r) => types.extend(r.ok.iter().chain(&r.err)),
            TypeDefKind::Future(t) | TypeDefKind::Stream(t) => types.extend(*t),
            TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => types.push(Type::Id(*r)),
            TypeDefKind::Resource
            | TypeDefKind::Enum(_)
            | TypeDefKind::Flags(_)
            | TypeDefKind::Unknown => {}
        }
    }
    found
}

/// Where an import that is not virtualized comes from, for a message
/// (``granted (by `wasi:cli/*`)``); `None` for a virtualized one.
fn not_virtualized(fate: &Fate) -> Option<String> {
    match fate {
        Fate::Linked { provider, .. } => Some(format!("linked to `{provider}`")),
        Fate::Granted { grant } => Some(format!("granted (by `{grant}`)")),
        Fate::GrantedDependency { of } => Some(format!("granted (a type dependency of `{of}`)")),
        Fate::Denied { .. } => None,
    }
}

/// The pattern the plug form adds for its root's `wasi:cli/exit` (see `CompositionSpec::from_plugs`).
const IMPLICIT_EXIT: &str = "wasi:cli/exit";

/// True when a note (the plug form's root keeping `wasi:cli/exit`) is about
/// `import` of `inst` and `inst` is not a command: a library composed alone
/// keeps nothing by that note, not even exit (only by a pattern the user wrote).
fn implicit_for_commands_only(
    spec: &CompositionSpec,
    inst: &InstanceSpec,
    dec: &Decoded,
    import: &InterfaceName,
) -> bool {
    let implicit = spec
        .notes
        .iter()
        .any(|n| n.instance == inst.name && n.interface == import.unversioned());
    implicit && !is_command(dec)
}
