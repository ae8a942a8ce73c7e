//! Step 3: decide, for every import of every instance, where it comes from:
//! another component, the host (granted and allowed), or a virtualization
//! inside the output. Pure data; the audit prints it. Deny by default.

use crate::inspect::{Decoded, Family, ItemKind};
use crate::names::InterfaceName;
use crate::spec::{CompositionSpec, InstanceSpec};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use wit_parser::{InterfaceId, WorldItem};

/// The whole plan: one entry per instance, providers before their users.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The instance whose exports the output re-exports.
    pub root: String,
    /// Instances in instantiation order.
    pub instances: Vec<InstancePlan>,
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
    /// Virtualized inside the output: denied. `functions` is filled in by the
    /// virtualizer: function name -> what a call does.
    Denied {
        /// Why: `default` (WASI, not granted) or `explicit` (the user's `deny`).
        reason: String,
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
            } => write!(
                f,
                "`{instance}` is granted `{import}` (by `{grant}`), but the allow-list does not permit it; \
                 add it to `[allow] interfaces` (or `--allow`), or narrow the grant"
            ),
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
                "`{instance}` imports `{import}`, a bare function or type; only interfaces can be linked or virtualized"
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

/// The policy cannot be met: every problem found, in a stable order.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the policy cannot be met:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct PolicyError(pub Vec<Problem>);

/// Plans the composition. `decoded` holds each instance's decoded component
/// (after version normalisation), in the same order as `spec.instances`.
pub fn plan(spec: &CompositionSpec, decoded: &[Decoded]) -> Result<Plan, PolicyError> {
    let mut problems = BTreeSet::new();
    let mut instances = Vec::new();
    for (inst, dec) in spec.instances.iter().zip(decoded) {
        instances.push(plan_instance(spec, inst, dec, decoded, &mut problems));
    }
    let order = topological_order(&instances).unwrap_or_else(|cycle| {
        problems.insert(Problem::Cycle { instances: cycle });
        (0..instances.len()).collect()
    });
    if !problems.is_empty() {
        return Err(PolicyError(problems.into_iter().collect()));
    }
    let mut slots: Vec<Option<InstancePlan>> = instances.into_iter().map(Some).collect();
    Ok(Plan {
        root: spec.root.clone(),
        instances: order.into_iter().filter_map(|i| slots[i].take()).collect(),
    })
}

fn plan_instance(
    spec: &CompositionSpec,
    inst: &InstanceSpec,
    dec: &Decoded,
    all: &[Decoded],
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
            problems.insert(Problem::NotAnInterface {
                instance: inst.name.clone(),
                import: name,
            });
            continue;
        };
        let WorldItem::Interface { id, .. } = item else {
            problems.insert(Problem::NotAnInterface {
                instance: inst.name.clone(),
                import: name,
            });
            continue;
        };
        match find_provider(spec, inst, &parsed, all) {
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
        if let Some(grant) = inst.grant.find(&parsed) {
            if spec.allow.matches(&parsed) {
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
    let mut stack = granted;
    while let Some((id, of)) = stack.pop() {
        for dep in dec.resolve.interface_direct_deps(id) {
            let Some(dep_name) = dec.resolve.id_of(dep) else {
                continue;
            };
            if !fates.contains_key(&dep_name) {
                fates.insert(dep_name.clone(), Fate::GrantedDependency { of: of.clone() });
                stack.push((dep, of.clone()));
            }
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
                let parsed = InterfaceName::parse(&item.name).expect("interface names parse");
                if parsed.is_wasi() {
                    Fate::Denied {
                        reason: "default".into(),
                        functions: BTreeMap::new(),
                    }
                } else if inst.deny.matches(&parsed) {
                    Fate::Denied {
                        reason: "explicit".into(),
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
    }
}

/// The component that provides `import` to `inst`: the wired one if a wire
/// matches, else the single candidate; several candidates are ambiguous.
fn find_provider(
    spec: &CompositionSpec,
    inst: &InstanceSpec,
    import: &InterfaceName,
    all: &[Decoded],
) -> Result<Option<(String, String)>, Problem> {
    let serving_export = |index: usize| {
        all[index]
            .exports
            .iter()
            .filter(|e| e.kind == ItemKind::Interface)
            .filter_map(|e| InterfaceName::parse(&e.name).map(|n| (n, e.name.clone())))
            .filter(|(n, _)| n.serves(import))
            .max_by(|a, b| a.0.version.cmp(&b.0.version))
            .map(|(_, name)| name)
    };
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
    let candidates: Vec<(String, String)> = spec
        .instances
        .iter()
        .enumerate()
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
    let mut done = vec![false; instances.len()];
    let mut order = Vec::new();
    while order.len() < instances.len() {
        let next = (0..instances.len()).find(|&i| !done[i] && deps[i].iter().all(|&d| done[d]));
        match next {
            Some(i) => {
                done[i] = true;
                order.push(i);
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
