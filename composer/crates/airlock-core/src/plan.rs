//! Step 3: decide, for every import of every instance, where it comes from:
//! another component, the host (granted and allowed), or a virtualization
//! inside the output. Pure data; the audit prints it. Deny by default.

use crate::inspect::{Decoded, Family, ItemKind};
use crate::names::InterfaceName;
use crate::spec::{CompositionSpec, InstanceSpec};
use crate::wasi_deps;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::fmt;
use wit_parser::{Handle, InterfaceId, Type, TypeDefKind, TypeId, TypeOwner, WorldItem};

/// The whole plan: one entry per instance, providers before their users.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The instance whose exports the output re-exports.
    pub root: String,
    /// Every instance whose exports the output re-exports, the root first.
    pub exports: Vec<String>,
    /// Instances in instantiation order.
    pub instances: Vec<InstancePlan>,
    /// Policy the composer added on its own (see `CompositionSpec::notes`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What happens to each import of one instance.
#[derive(Debug, Clone, Serialize)]
pub struct InstancePlan {
    /// The instance's name.
    pub name: String,
    /// Its imports (normalised names), in the component's order.
    pub imports: Vec<ImportPlan>,
    /// Its exports.
    pub exports: Vec<String>,
    /// Its virtual values, one line for the audit (empty: none).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub virtual_values: String,
    /// Its attenuated capabilities, one audit line each (empty: none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slices: Vec<String>,
}

/// One import and its fate.
#[derive(Debug, Clone, Serialize)]
pub struct ImportPlan {
    /// The import name, after version normalisation.
    pub name: String,
    /// Its capability family.
    pub family: Family,
    /// Where it comes from.
    pub fate: Fate,
}

/// Where an import comes from.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "fate", rename_all = "kebab-case")]
pub enum Fate {
    /// Another component's export.
    Linked {
        /// The providing instance.
        provider: String,
        /// Its export name.
        export: String,
    },
    /// The host, through the output's import of the same name.
    Granted {
        /// The grant pattern that selected it.
        grant: String,
    },
    /// The host too: a type dependency of a granted interface.
    GrantedDependency {
        /// The granted interface that `use`s it.
        of: String,
    },
    /// Virtualized inside the output: denied, or served by virtual values.
    /// `functions` is filled in by the virtualizer: function name -> what a call does.
    Denied {
        /// Why: `default` (WASI, not granted), `explicit` (the user's `deny`),
        /// `virtual` (the instance's virtual values serve some functions) or
        /// `types-only` (needed only for the types of a granted interface,
        /// `of`: the types line up, the functions are denied).
        reason: String,
        /// For `types-only`: the granted interface whose types need it.
        #[serde(skip_serializing_if = "Option::is_none")]
        of: Option<String>,
        /// Per function, the denial behaviour.
        functions: BTreeMap<String, String>,
    },
}

/// A reason the policy cannot be met. All of them are collected.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Problem {
    /// A non-WASI import that nothing provides and nobody denied.
    Unsatisfied {
        /// The instance.
        instance: String,
        /// The import.
        import: String,
    },
    /// More than one component could provide the import.
    Ambiguous {
        /// The instance.
        instance: String,
        /// The import.
        import: String,
        /// The candidates.
        candidates: Vec<String>,
    },
    /// A grant selects an import that the allow-list forbids.
    GrantNotAllowed {
        /// The instance.
        instance: String,
        /// The import.
        import: String,
        /// The grant pattern.
        grant: String,
    },
    /// A wire points at a component that does not export the import.
    WireMismatch {
        /// The instance.
        instance: String,
        /// The import.
        import: String,
        /// The wired target.
        target: String,
    },
    /// A bare function or type import: only interfaces can be linked or virtualized.
    NotAnInterface {
        /// The instance.
        instance: String,
        /// The import.
        import: String,
    },
    /// An instance links an interface from a provider, but a type dependency of
    /// that interface (e.g. `wasi:io/streams` under an interface that passes
    /// streams) does not come from the same place for both: the handle types
    /// would differ, and the output would not validate.
    SharedDependency {
        /// The importing instance.
        instance: String,
        /// The linked import.
        import: String,
        /// Its provider.
        provider: String,
        /// The type dependency they must share.
        dependency: String,
    },
    /// An interface the output re-exports `use`s a type of an interface that is
    /// satisfied inside the output (by another component or a denial), and that
    /// type refers to a named type (record, variant, enum, flags, resource) of
    /// any interface: the output cannot export it (wasmparser: "instance not
    /// valid to be used as export"), even when the exported interface `use`s both.
    UnnamedExportType {
        /// The exporting instance.
        instance: String,
        /// The exported interface.
        export: String,
        /// The type, `interface.type`, that the output would have to export.
        missing: String,
    },
    /// An instance gets an interface from the host, but a type dependency of it
    /// (with resources) from inside the output: the handle types would differ.
    HostDependency {
        /// The importing instance.
        instance: String,
        /// The granted import.
        import: String,
        /// The type dependency satisfied inside the output.
        dependency: String,
    },
    /// An instance is given virtual values (e.g. `env`) for an import that is
    /// not virtualized (granted, or linked to a component): they would be ignored.
    VirtualNotDenied {
        /// The instance.
        instance: String,
        /// The import.
        import: String,
        /// The manifest key of the values.
        key: String,
        /// Where the import comes from instead, e.g. ``granted (by `wasi:cli/*`)``.
        fate: String,
    },
    /// A granted interface declares a `use` of another interface that WASI's
    /// own WIT does not have, and the allow-list does not permit that one.
    UndeclaredDependency {
        /// The instance.
        instance: String,
        /// The granted import.
        import: String,
        /// The interface it claims to use types of.
        dependency: String,
    },
    /// A WASI interface (on the track compiled into the composer) declares a
    /// `use` that WASI's own WIT does not have: a forged type dependency.
    ForgedUse {
        /// The instance.
        instance: String,
        /// The interface that declares the `use`.
        import: String,
        /// The interface it claims to use types of.
        dependency: String,
        /// The type it takes from there.
        ty: String,
    },
    /// A WASI interface that a granted one needs from the host declares
    /// functions WASI's own WIT does not have (at its semver track).
    ForgedFunctions {
        /// The instance.
        instance: String,
        /// The interface.
        import: String,
        /// The functions WASI does not have.
        functions: Vec<String>,
    },
    /// Interfaces use each other's types in a cycle (possible only when
    /// components declare the same names differently).
    UseCycle {
        /// The interfaces, in order, the first repeated at the end.
        interfaces: Vec<String>,
        /// The instances whose declarations make the cycle.
        declared_by: Vec<String>,
    },
    /// A pattern that matches no interface of any component and no WASI
    /// interface the composer knows: a typo.
    UnknownPattern(crate::typos::UnknownPattern),
    /// An explicitly denied interface that a granted one needs from the host.
    DeniedDependency {
        /// The instance.
        instance: String,
        /// The denied interface.
        import: String,
        /// The granted interface that uses its types.
        of: String,
    },
    /// Components import each other in a cycle.
    Cycle {
        /// The instances in the cycle, in order.
        instances: Vec<String>,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unsatisfied { instance, import } => write!(
                f,
                "`{instance}` imports `{import}`, which no component exports and which is not WASI; \
                 add a component that exports it, or deny it explicitly \
                 (`deny = [\"{import}\"]` under [components.{instance}], or `--deny {import}`)"
            ),
            Problem::Ambiguous {
                instance,
                import,
                candidates,
            } => write!(
                f,
                "`{instance}` imports `{import}`, which several components export: {}; \
                 choose one with `wire = {{ \"{import}\" = \"NAME\" }}` under [components.{instance}]",
                candidates
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Problem::GrantNotAllowed {
                instance,
                import,
                grant,
            } => {
                let pattern = track_pattern(import);
                write!(
                    f,
                    "`{instance}` is granted `{import}` (by `{grant}`), but the allow-list does not \
                     permit it; add `\"{pattern}\"` to `[allow] interfaces` (or `--allow {pattern}`), \
                     or narrow the grant"
                )
            }
            Problem::WireMismatch {
                instance,
                import,
                target,
            } => write!(
                f,
                "`{instance}` wires `{import}` to `{target}`, which does not export a compatible `{import}`"
            ),
            Problem::NotAnInterface { instance, import } => write!(
                f,
                "`{instance}` imports `{import}`, a bare function, type or unnamed inline interface; only named interfaces can be linked or virtualized"
            ),
            Problem::SharedDependency {
                instance,
                import,
                provider,
                dependency,
            } => write!(
                f,
                "`{instance}` imports `{import}` from `{provider}`, whose types come from `{dependency}`, \
                 but `{instance}` and `{provider}` do not get `{dependency}` from the same place \
                 (each instance's denials are its own); grant `{dependency}` to both (and allow it)"
            ),
            Problem::UnnamedExportType {
                instance,
                export,
                missing,
            } => write!(
                f,
                "`{instance}` exports `{export}`, which `use`s a type that refers to `{missing}` from \
                 an interface satisfied inside the output (by another component or a denial); the \
                 output cannot export `{export}` that way: grant that interface to `{instance}` \
                 (and allow it), or do not re-export `{instance}`"
            ),
            Problem::HostDependency {
                instance,
                import,
                dependency,
            } => write!(
                f,
                "`{instance}` gets `{import}` from the host, whose types come from `{dependency}`, \
                 but `{instance}` gets `{dependency}` inside the output (from a component or a denial); \
                 the two must come from the same place: do not grant `{import}`, or have `{dependency}` \
                 come from the host too"
            ),
            Problem::VirtualNotDenied {
                instance,
                import,
                key,
                fate,
            } => write!(
                f,
                "`{instance}` is given virtual values (`{key}`) for `{import}`, which is {fate}; \
                 virtual values only serve imports that are not granted: remove `{key}` or the \
                 grant under [components.{instance}]"
            ),
            Problem::UndeclaredDependency {
                instance,
                import,
                dependency,
            } => write!(
                f,
                "`{instance}` is granted `{import}`, which it declares uses types of `{dependency}`; \
                 airlock knows no such dependency in WASI's own WIT, and granting `{import}` would hand \
                 `{dependency}` to `{instance}` from the host: grant `{dependency}` to `{instance}` \
                 too if that is intended"
            ),
            Problem::UnknownPattern(u) => {
                write!(
                    f,
                    "{} has `{}`, which matches no interface of any component and no WASI \
                     interface airlock knows",
                    u.place, u.pattern
                )?;
                match &u.suggestion {
                    Some(s) => write!(f, "; did you mean `{s}`?"),
                    None => Ok(()),
                }
            }
            Problem::ForgedUse {
                instance,
                import,
                dependency,
                ty,
            } => write!(
                f,
                "`{instance}` declares that `{import}` uses type `{ty}` of `{dependency}`, which WASI's \
                 own `{import}` does not (at its semver track); the component's WIT is forged or \
                 mismatched, and it is refused"
            ),
            Problem::ForgedFunctions {
                instance,
                import,
                functions,
            } => write!(
                f,
                "`{instance}` declares functions in `{import}` that WASI's own `{import}` does not \
                 have: {}; it would reach `{import}` of the host, where the output merges every \
                 component's declaration of it: the component's WIT is forged or newer than \
                 airlock knows, and it is refused",
                functions
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Problem::UseCycle {
                interfaces,
                declared_by,
            } => write!(
                f,
                "interfaces use each other's types in a cycle: {} (as declared by {})",
                interfaces
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(" -> "),
                declared_by
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Problem::DeniedDependency {
                instance,
                import,
                of,
            } => write!(
                f,
                "`{instance}` is granted `{of}`, which uses types of `{import}`, but `{import}` is denied \
                 explicitly; the host must provide both or neither: remove the deny or narrow the grant"
            ),
            Problem::Cycle { instances } => write!(
                f,
                "components import each other in a cycle: {}",
                instances
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(" -> ")
            ),
        }
    }
}

/// The pattern that allows `import` on its semver track: `wasi:cli/stdout@0.2`
/// for `wasi:cli/stdout@0.2.6`, `a:b/c@1` for `a:b/c@1.4.0`.
fn track_pattern(import: &str) -> String {
    let Some(name) = InterfaceName::parse(import) else {
        return import.to_string();
    };
    match &name.version {
        Some(v) if !v.pre.is_empty() => name.to_string(),
        Some(v) if v.major == 0 && v.minor == 0 => name.to_string(),
        Some(v) if v.major == 0 => format!("{}@0.{}", name.unversioned(), v.minor),
        Some(v) => format!("{}@{}", name.unversioned(), v.major),
        None => name.unversioned(),
    }
}

/// The policy cannot be met: every problem found, in a stable order.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the policy cannot be met:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct PolicyError(pub Vec<Problem>);

/// Plans the composition. `decoded` holds each instance's decoded component
/// (after version normalisation), in the same order as `spec.instances`.
pub fn plan(spec: &CompositionSpec, decoded: &[&Decoded]) -> Result<Plan, PolicyError> {
    let mut problems: BTreeSet<Problem> = crate::typos::unknown_patterns(spec, decoded)
        .into_iter()
        .map(Problem::UnknownPattern)
        .collect();
    let mut instances = Vec::new();
    let exports = ExportIndex::new(decoded);
    for (inst, dec) in spec.instances.iter().zip(decoded) {
        instances.push(plan_instance(spec, inst, dec, &exports, &mut problems));
    }
    for (inst, dec) in spec.instances.iter().zip(decoded) {
        forged_uses(&inst.name, dec, &mut problems);
    }
    use_cycles(spec, decoded, &mut problems);
    shared_dependencies(decoded, &instances, &mut problems);
    unnamed_export_types(spec, decoded, &instances, &mut problems);
    let order = topological_order(&instances).unwrap_or_else(|cycle| {
        problems.insert(Problem::Cycle { instances: cycle });
        (0..instances.len()).collect()
    });
    if !problems.is_empty() {
        return Err(PolicyError(problems.into_iter().collect()));
    }
    let instances_by_name: BTreeMap<String, Vec<String>> = instances
        .iter()
        .map(|i| {
            let names = i
                .imports
                .iter()
                .filter_map(|imp| InterfaceName::parse(&imp.name));
            (i.name.clone(), names.map(|n| n.unversioned()).collect())
        })
        .collect();
    let mut slots: Vec<Option<InstancePlan>> = instances.into_iter().map(Some).collect();
    Ok(Plan {
        root: spec.root.clone(),
        exports: spec.exports.clone(),
        instances: order.into_iter().filter_map(|i| slots[i].take()).collect(),
        notes: spec
            .notes
            .iter()
            .filter(|n| imports_interface(&instances_by_name, n))
            .filter(|n| {
                spec.instances
                    .iter()
                    .zip(decoded)
                    .any(|(i, d)| i.name == n.instance && is_command(d))
            })
            .map(|n| n.text.clone())
            .collect(),
    })
}

fn plan_instance(
    spec: &CompositionSpec,
    inst: &InstanceSpec,
    dec: &Decoded,
    exports: &ExportIndex,
    problems: &mut BTreeSet<Problem>,
) -> InstancePlan {
    let world = &dec.resolve.worlds[dec.world];
    let mut fates: BTreeMap<String, Fate> = BTreeMap::new();
    let mut granted: Vec<(InterfaceId, String)> = Vec::new();
    // Imports with a problem already reported are not reported again as unsatisfied.
    let mut reported: BTreeSet<String> = BTreeSet::new();

    // 1. Providers and grants.
    for (key, item) in &world.imports {
        let name = dec.resolve.name_world_key(key);
        let Some(parsed) = InterfaceName::parse(&name) else {
            reported.insert(name.clone());
            problems.insert(Problem::NotAnInterface {
                instance: inst.name.clone(),
                import: name,
            });
            continue;
        };
        let WorldItem::Interface { id, .. } = item else {
            reported.insert(name.clone());
            problems.insert(Problem::NotAnInterface {
                instance: inst.name.clone(),
                import: name,
            });
            continue;
        };
        // An explicit deny wins over providers and grants: it carves exceptions
        // out of wide grants (`grant = ["wasi:*"]`, `deny = ["wasi:sockets/*"]`).
        if inst.deny.matches(&parsed) {
            continue;
        }
        match find_provider(spec, inst, &parsed, exports) {
            Ok(Some((provider, export))) => {
                fates.insert(name, Fate::Linked { provider, export });
                continue;
            }
            Ok(None) => {}
            Err(p) => {
                problems.insert(p);
                reported.insert(name);
                continue;
            }
        }
        let grant = inst
            .grant
            .find(&parsed)
            .filter(|_| !implicit_for_commands_only(spec, inst, dec, &parsed));
        if let Some(grant) = grant {
            let forged = forged_functions(dec, *id, &parsed);
            if !forged.is_empty() {
                reported.insert(name.clone());
                problems.insert(Problem::ForgedFunctions {
                    instance: inst.name.clone(),
                    import: name,
                    functions: forged,
                });
            } else if spec.allow.matches(&parsed) {
                fates.insert(
                    name.clone(),
                    Fate::Granted {
                        grant: grant.to_string(),
                    },
                );
                granted.push((*id, name));
            } else {
                reported.insert(name.clone());
                problems.insert(Problem::GrantNotAllowed {
                    instance: inst.name.clone(),
                    import: name,
                    grant: grant.to_string(),
                });
            }
        }
    }

    // 2. Grants are closed over type dependencies: a granted `wasi:cli/stdout`
    //    hands out host `output-stream`s, so `wasi:io/streams` must be the host's too.
    //    Which interface uses which is taken from WASI's own WIT, not from the
    //    component's declared types (see `wasi_deps`); any other dependency
    //    must be permitted by the allow-list itself.
    let mut stack = granted;
    while let Some((id, of)) = stack.pop() {
        let user = dec.resolve.id_of(id).and_then(|n| InterfaceName::parse(&n));
        for dep in dec.resolve.interface_direct_deps(id) {
            let Some(dep_name) = dec.resolve.id_of(dep) else {
                continue;
            };
            if fates.contains_key(&dep_name) || reported.contains(&dep_name) {
                continue;
            }
            let Some(dep_parsed) = InterfaceName::parse(&dep_name) else {
                continue;
            };
            if inst.deny.matches(&dep_parsed) {
                reported.insert(dep_name.clone());
                problems.insert(Problem::DeniedDependency {
                    instance: inst.name.clone(),
                    import: dep_name,
                    of: of.clone(),
                });
                continue;
            }
            // Only WASI's own WIT says what a type dependency is; the allow-list
            // grants nothing to anyone, so a claim it does not back is refused.
            let genuine = user
                .as_ref()
                .is_some_and(|u| wasi_deps::uses(u, &dep_parsed));
            if genuine && wasi_deps::has_ambient_functions(&dep_parsed) {
                // Types, not authority: `wall-clock` under `filesystem/types`
                // gives `datetime`, not `now()`.
                fates.insert(
                    dep_name.clone(),
                    Fate::Denied {
                        reason: "types-only".into(),
                        of: Some(of.clone()),
                        functions: BTreeMap::new(),
                    },
                );
                stack.push((dep, of.clone()));
            } else if genuine {
                // The host's functions reach the library as they are declared:
                // only those WASI's own WIT has (none of them ambient, above).
                let forged = forged_functions(dec, dep, &dep_parsed);
                if !forged.is_empty() {
                    reported.insert(dep_name.clone());
                    problems.insert(Problem::ForgedFunctions {
                        instance: inst.name.clone(),
                        import: dep_name,
                        functions: forged,
                    });
                    continue;
                }
                fates.insert(dep_name.clone(), Fate::GrantedDependency { of: of.clone() });
                stack.push((dep, of.clone()));
            } else if user.as_ref().is_some_and(|u| wasi_deps::known(u).is_some()) {
                // Reported for every import below (`forged_uses`).
                reported.insert(dep_name.clone());
            } else {
                reported.insert(dep_name.clone());
                problems.insert(Problem::UndeclaredDependency {
                    instance: inst.name.clone(),
                    import: user.as_ref().map(ToString::to_string).unwrap_or_default(),
                    dependency: dep_name,
                });
            }
        }
    }

    // Virtual values only serve imports that are virtualized.
    let virtual_keys = inst.virtuals.interfaces();
    for (name, fate) in &fates {
        let Some(parsed) = InterfaceName::parse(name) else {
            continue;
        };
        let unversioned = parsed.unversioned();
        let keys = virtual_keys.iter().filter(|(i, _)| *i == unversioned);
        let mut keys: Vec<&str> = keys.map(|(_, k)| *k).collect();
        keys.dedup();
        for key in keys {
            let fate = match fate {
                Fate::Linked { provider, .. } => format!("linked to `{provider}`"),
                Fate::Granted { grant } => format!("granted (by `{grant}`)"),
                Fate::GrantedDependency { of } => {
                    format!("granted (a type dependency of `{of}`)")
                }
                Fate::Denied { .. } => continue,
            };
            problems.insert(Problem::VirtualNotDenied {
                instance: inst.name.clone(),
                import: name.clone(),
                key: key.to_string(),
                fate,
            });
        }
    }

    // 3. Everything else is denied: WASI by default, other interfaces only when the user says so.
    let mut imports = Vec::new();
    for item in &dec.imports {
        if item.kind != ItemKind::Interface || reported.contains(&item.name) {
            continue;
        }
        let fate = match fates.remove(&item.name) {
            Some(f) => f,
            None => {
                let Some(parsed) = InterfaceName::parse(&item.name) else {
                    continue; // reported above as not an interface
                };
                let unversioned = parsed.unversioned();
                let is_virtual = virtual_keys.iter().any(|(i, _)| *i == unversioned);
                let explicit = inst.deny.matches(&parsed);
                if parsed.is_wasi() || explicit {
                    let reason = match (is_virtual, explicit) {
                        (true, _) => "virtual",
                        (false, true) => "explicit",
                        (false, false) => "default",
                    };
                    Fate::Denied {
                        reason: reason.into(),
                        of: None,
                        functions: BTreeMap::new(),
                    }
                } else {
                    problems.insert(Problem::Unsatisfied {
                        instance: inst.name.clone(),
                        import: item.name.clone(),
                    });
                    continue;
                }
            }
        };
        imports.push(ImportPlan {
            name: item.name.clone(),
            family: item.family,
            fate,
        });
    }
    InstancePlan {
        name: inst.name.clone(),
        imports,
        exports: dec.exports.iter().map(|e| e.name.clone()).collect(),
        virtual_values: inst.virtuals.summary(),
        // An interposer's line is its library's slice, shown there.
        slices: match inst.builtin {
            Some(_) => Vec::new(),
            None => inst.slices.clone(),
        },
    }
}

/// True when `import` is granted to `inst` only by a note (the plug form's
/// root keeping `wasi:cli/exit`) and `inst` is not a command: a library
/// composed alone keeps nothing, not even exit.
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

/// True when the component exports `wasi:cli/run` (a program, not a library).
fn is_command(dec: &Decoded) -> bool {
    dec.exports
        .iter()
        .any(|e| InterfaceName::parse(&e.name).is_some_and(|n| n.unversioned() == "wasi:cli/run"))
}

/// The functions a component declares in a WASI interface that WASI's own
/// WIT (at that semver track) does not have. An interface that reaches the
/// host must hold none: the output merges every component's declaration of
/// one import, so a forged function would reach every instance given it.
fn forged_functions(dec: &Decoded, id: InterfaceId, name: &InterfaceName) -> Vec<String> {
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

/// True when the note's instance imports the interface the note is about.
fn imports_interface(imports: &BTreeMap<String, Vec<String>>, note: &crate::spec::Note) -> bool {
    imports
        .get(&note.instance)
        .is_some_and(|names| names.contains(&note.interface))
}

/// Every `use` that a WASI interface on the vendored track declares must be one
/// WASI's own WIT has, at the same track: otherwise a library could make any
/// interface a "type dependency" of one it is granted, whatever its fate.
fn forged_uses(instance: &str, dec: &Decoded, problems: &mut BTreeSet<Problem>) {
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

/// The output merges imports of one name from every component, so the `use`s
/// that components declare for that name add up; a cycle among them (each
/// component's own WIT is acyclic, two may disagree) would make the output's
/// types infinite. Refused before anything is encoded.
fn use_cycles(spec: &CompositionSpec, decoded: &[&Decoded], problems: &mut BTreeSet<Problem>) {
    // Interface name -> (used interface name -> the instances declaring it).
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
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
    // Iterative depth-first search; 0 = unseen, 1 = on the path, 2 = done.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    for start in graph.keys() {
        if state.get(start.as_str()).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut path: Vec<(&str, Vec<&str>)> = Vec::new();
        let next = |n: &str| -> Vec<&str> {
            graph
                .get(n)
                .map(|d| d.keys().map(String::as_str).collect())
                .unwrap_or_default()
        };
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
                    problems.insert(Problem::UseCycle {
                        interfaces,
                        declared_by,
                    });
                    return;
                }
                _ => {}
            }
        }
    }
}

/// An interface linked from a provider carries the types of its `use`
/// dependencies: the importer must get each dependency from the same place as
/// the provider (both from the host, or both from the same component). Denials
/// are per instance, so a denied dependency on either side cannot be shared.
fn shared_dependencies(
    decoded: &[&Decoded],
    instances: &[InstancePlan],
    problems: &mut BTreeSet<Problem>,
) {
    let fate_of = |inst: &InstancePlan, name: &str| {
        inst.imports
            .iter()
            .find(|i| i.name == name)
            .map(|i| i.fate.clone())
    };
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
                    Some(&p) => (provider, Some(p)),
                    None => continue,
                },
                Some(Fate::Granted { .. } | Fate::GrantedDependency { .. }) => {
                    (String::new(), None)
                }
                _ => continue,
            };
            // Only resource types have an identity; records and the like are
            // compared by structure. The interfaces whose resources the import
            // or its dependencies `use`:
            let resource_owners = resource_owners(&dec.resolve, *id);
            let mut seen = BTreeSet::new();
            let mut stack = vec![*id];
            while let Some(i) = stack.pop() {
                for dep in dec.resolve.interface_direct_deps(i) {
                    if !seen.insert(dep) {
                        continue;
                    }
                    stack.push(dep);
                    let shares = resource_owners.contains(&dep);
                    let Some(dep_name) = dec.resolve.id_of(dep).filter(|_| shares) else {
                        continue;
                    };
                    let mine = fate_of(inst, &dep_name);
                    let host = |f: &Option<Fate>| {
                        matches!(
                            f,
                            Some(Fate::Granted { .. } | Fate::GrantedDependency { .. })
                        )
                    };
                    let Some(p) = p else {
                        if mine.is_some() && !host(&mine) {
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
                        instances[p]
                            .exports
                            .iter()
                            .any(|e| InterfaceName::parse(e).is_some_and(|e| e.serves(&d)))
                    });
                    let theirs = fate_of(&instances[p], &dep_name);
                    let same = match (&mine, &theirs) {
                        // A problem already reported, or not an interface.
                        (None, _) => true,
                        (Some(Fate::Linked { provider: a, .. }), _) if exports_it => *a == provider,
                        _ if exports_it => false,
                        (a, b) if host(a) && host(b) => true,
                        (
                            Some(Fate::Linked { provider: a, .. }),
                            Some(Fate::Linked { provider: b, .. }),
                        ) => a == b,
                        // The provider exports the dependency itself.
                        (Some(Fate::Linked { provider: a, .. }), None) => *a == provider,
                        // The provider neither imports nor exports it: its
                        // export then carries none of the dependency's types
                        // (a component keeps only the types it uses), so the
                        // host's are the only ones in play. wac checks the
                        // link's types anyway.
                        (a, None) if host(a) => true,
                        _ => false,
                    };
                    if !same {
                        problems.insert(Problem::SharedDependency {
                            instance: inst.name.clone(),
                            import: name.clone(),
                            provider: provider.clone(),
                            dependency: dep_name,
                        });
                    }
                }
            }
        }
    }
}

/// The interfaces that own a resource which `id` or one of its (transitive)
/// `use` dependencies names through a `use`.
fn resource_owners(resolve: &wit_parser::Resolve, id: InterfaceId) -> BTreeSet<InterfaceId> {
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
            let mut target = *t;
            while let TypeDefKind::Type(Type::Id(next)) = resolve.types[target].kind {
                target = next;
            }
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

/// The output re-exports an interface with its types. A type it `use`s from an
/// interface satisfied inside the output (by another component or a denial)
/// may not refer to named types (records, variants, enums, flags, resources)
/// of any interface: wasmparser rejects such an export ("instance not valid to
/// be used as export"). Found by the random composition generator; flat records,
/// aliases of lists of primitives and the like, and resources used directly are fine.
fn unnamed_export_types(
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
        let unalias = |mut id: TypeId| {
            while let TypeDefKind::Type(Type::Id(next)) = resolve.types[id].kind {
                id = next;
            }
            id
        };
        // An interface satisfied inside the output: by a component or a denial.
        let internal = |owner: TypeOwner| match owner {
            TypeOwner::Interface(i) => resolve.id_of(i).filter(|name| {
                inst.imports.iter().any(|imp| {
                    &imp.name == name
                        && matches!(imp.fate, Fate::Linked { .. } | Fate::Denied { .. })
                })
            }),
            _ => None,
        };
        let world = &resolve.worlds[dec.world];
        for (key, item) in &world.exports {
            let WorldItem::Interface { id, .. } = item else {
                continue;
            };
            let export = resolve.name_world_key(key);
            // What the exported interface names itself.
            let named: BTreeSet<TypeId> = resolve.interfaces[*id]
                .types
                .values()
                .map(|t| unalias(*t))
                .collect();
            // Walk from the `use`d types of internal interfaces.
            let mut stack: Vec<TypeId> = named
                .iter()
                .copied()
                .filter(|t| resolve.types[*t].owner != TypeOwner::Interface(*id))
                .filter(|t| internal(resolve.types[*t].owner).is_some())
                .collect();
            let mut seen: BTreeSet<TypeId> = stack.iter().copied().collect();
            while let Some(t) = stack.pop() {
                let mut refs: Vec<Type> = Vec::new();
                match &resolve.types[t].kind {
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
                    TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => {
                        refs.push(Type::Id(*r));
                    }
                    _ => {}
                }
                for r in refs {
                    let Type::Id(r) = r else { continue };
                    let r = unalias(r);
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
                    // Even when the exported interface `use`s `r` too: the
                    // output's copy of the referring type names the inner one.
                    // (Its own types are fine, also when the component imports
                    // the interface it exports: the same interface in its WIT.)
                    if !nominal || resolve.types[r].owner == TypeOwner::Interface(*id) {
                        continue;
                    }
                    // Wherever `r` comes from: even a host import's type.
                    let owner = match resolve.types[r].owner {
                        TypeOwner::Interface(i) => resolve.id_of(i).unwrap_or_default(),
                        _ => String::new(),
                    };
                    let ty = resolve.types[r].name.clone().unwrap_or_default();
                    problems.insert(Problem::UnnamedExportType {
                        instance: inst.name.clone(),
                        export: export.clone(),
                        missing: format!("{owner}.{ty}"),
                    });
                }
            }
        }
    }
}

/// Every interface export of every instance, by unversioned name, so finding
/// providers costs one lookup per import rather than a scan of all instances.
struct ExportIndex(HashMap<String, Vec<(usize, InterfaceName, String)>>);

impl ExportIndex {
    fn new(all: &[&Decoded]) -> Self {
        let mut index: HashMap<String, Vec<(usize, InterfaceName, String)>> = HashMap::new();
        for (i, dec) in all.iter().enumerate() {
            for e in dec.exports.iter().filter(|e| e.kind == ItemKind::Interface) {
                if let Some(n) = InterfaceName::parse(&e.name) {
                    index
                        .entry(n.unversioned())
                        .or_default()
                        .push((i, n, e.name.clone()));
                }
            }
        }
        Self(index)
    }

    /// The highest export of instance `index` that serves `import`.
    fn serving(&self, index: usize, import: &InterfaceName) -> Option<String> {
        self.candidates(import)
            .filter(|(i, _, _)| *i == index)
            .max_by(|a, b| a.1.version.cmp(&b.1.version))
            .map(|(_, _, name)| name.clone())
    }

    fn candidates<'a>(
        &'a self,
        import: &'a InterfaceName,
    ) -> impl Iterator<Item = &'a (usize, InterfaceName, String)> {
        self.0
            .get(&import.unversioned())
            .into_iter()
            .flatten()
            .filter(|(_, n, _)| n.serves(import))
    }
}

/// The component that provides `import` to `inst`: the wired one if a wire
/// matches, else the single candidate; several candidates are ambiguous.
fn find_provider(
    spec: &CompositionSpec,
    inst: &InstanceSpec,
    import: &InterfaceName,
    exports: &ExportIndex,
) -> Result<Option<(String, String)>, Problem> {
    let serving_export = |index: usize| exports.serving(index, import);
    if let Some((_, target)) = inst.wire.iter().find(|(p, _)| p.matches(import)) {
        let index = spec
            .instances
            .iter()
            .position(|i| &i.name == target)
            .expect("checked by spec");
        return match serving_export(index) {
            Some(export) => Ok(Some((target.clone(), export))),
            None => Err(Problem::WireMismatch {
                instance: inst.name.clone(),
                import: import.to_string(),
                target: target.clone(),
            }),
        };
    }
    // A library that exports a WASI interface does not silently take over other
    // instances' WASI imports (their stdout, their files): only a wire does that.
    if import.is_wasi() {
        return Ok(None);
    }
    // Instances in spec order, each once, with its highest serving export.
    let mut providers: Vec<usize> = exports.candidates(import).map(|(i, _, _)| *i).collect();
    providers.dedup();
    let candidates: Vec<(String, String)> = providers
        .into_iter()
        .map(|i| (i, &spec.instances[i]))
        .filter(|(_, other)| other.name != inst.name)
        .filter_map(|(i, other)| serving_export(i).map(|e| (other.name.clone(), e)))
        .collect();
    match candidates.len() {
        0 => Ok(None),
        1 => Ok(candidates.into_iter().next()),
        _ => Err(Problem::Ambiguous {
            instance: inst.name.clone(),
            import: import.to_string(),
            candidates: candidates.into_iter().map(|(n, _)| n).collect(),
        }),
    }
}

/// Providers before users (Kahn's algorithm, ties broken by spec order so the
/// output is deterministic). On a cycle, returns the instances in one cycle.
fn topological_order(instances: &[InstancePlan]) -> Result<Vec<usize>, Vec<String>> {
    let index: BTreeMap<&str, usize> = instances
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    let deps: Vec<BTreeSet<usize>> = instances
        .iter()
        .map(|p| {
            p.imports
                .iter()
                .filter_map(|i| match &i.fate {
                    Fate::Linked { provider, .. } => index.get(provider.as_str()).copied(),
                    _ => None,
                })
                .collect()
        })
        .collect();
    // Always the lowest-index ready instance next: a min-heap of ready ones.
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); instances.len()];
    let mut waiting: Vec<usize> = deps.iter().map(BTreeSet::len).collect();
    for (i, d) in deps.iter().enumerate() {
        for &p in d {
            users[p].push(i);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..instances.len())
        .filter(|&i| waiting[i] == 0)
        .map(Reverse)
        .collect();
    let mut done = vec![false; instances.len()];
    let mut order = Vec::new();
    while order.len() < instances.len() {
        match ready.pop() {
            Some(Reverse(i)) => {
                done[i] = true;
                order.push(i);
                for &u in &users[i] {
                    waiting[u] -= 1;
                    if waiting[u] == 0 {
                        ready.push(Reverse(u));
                    }
                }
            }
            None => return Err(find_cycle(&deps, &done, instances)),
        }
    }
    Ok(order)
}

fn find_cycle(deps: &[BTreeSet<usize>], done: &[bool], instances: &[InstancePlan]) -> Vec<String> {
    // Every remaining node has an unfinished dependency: walk until a node repeats.
    let mut path = Vec::new();
    let mut at = (0..deps.len()).find(|&i| !done[i]).expect("a node remains");
    while !path.contains(&at) {
        path.push(at);
        at = *deps[at]
            .iter()
            .find(|&&d| !done[d])
            .expect("a remaining node has a remaining dependency");
    }
    let start = path
        .iter()
        .position(|&i| i == at)
        .expect("the repeat is on the path");
    let mut cycle: Vec<String> = path[start..]
        .iter()
        .map(|&i| instances[i].name.clone())
        .collect();
    cycle.push(instances[at].name.clone());
    cycle
}
