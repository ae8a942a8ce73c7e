//! Step 5: turn the plan into a `wac_graph::CompositionGraph` and encode it:
//! [`instantiate`] the instances' components, then [`Instances::finish`] with
//! the denial components.
//! Host-bound imports are left unsatisfied, so wac turns them into imports of
//! the output (merged by name: versions were normalised beforehand).

use crate::deny::WORLD_TYPES;
use crate::plan::{Fate, InstancePlan, Plan};
use crate::virtualize::{is_types_only, types_only_key};
use std::collections::{BTreeMap, HashMap};
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions, NodeId, PackageId, Processor};

/// wac-graph refused the composition; a bug in the plan if it happens.
#[derive(Debug, thiserror::Error)]
#[error("cannot compose: {message}")]
pub struct ComposeError {
    /// wac-graph's message chain.
    pub message: String,
}

fn err(context: &str, e: impl std::fmt::Display) -> ComposeError {
    ComposeError {
        message: format!("{context}: {e}"),
    }
}

/// The graph with every instance's component in it, instantiated; the
/// denial components and the wiring come with [`Instances::finish`]. Apart
/// so that the denial components can be synthesized meanwhile (`pipeline`):
/// reading a component's types into wac's arena takes it `&mut`, so the
/// components go in one at a time.
pub struct Instances<'a> {
    graph: CompositionGraph,
    nodes: BTreeMap<&'a str, NodeId>,
    packages: Packages<'a>,
}

/// Registers and instantiates each instance's component (`components`:
/// instance name -> bytes).
pub fn instantiate<'a>(
    plan: &'a Plan,
    components: &BTreeMap<&'a str, &'a [u8]>,
) -> Result<Instances<'a>, ComposeError> {
    let mut graph = CompositionGraph::new();
    let mut nodes: BTreeMap<&str, NodeId> = BTreeMap::new();
    // Instances of the same component share one package, so the output holds
    // its definition once (what keeps a 5000-instance composition small and
    // its validation fast).
    let mut packages = Packages::default();
    // Package labels carry the instance's position, so names that sanitize
    // alike (`a_b`, `a-b`) or look like denial labels never collide.
    for (index, inst) in plan.instances.iter().enumerate() {
        let bytes = components[inst.name.as_str()];
        let label = || format!("airlock:c{index}-{}", package_label(&inst.name));
        let pkg = packages.get_or_register(&mut graph, label, bytes)?;
        let node = graph.instantiate(pkg);
        graph.set_node_name(node, &inst.name);
        nodes.insert(&inst.name, node);
    }
    Ok(Instances {
        graph,
        nodes,
        packages,
    })
}

impl<'a> Instances<'a> {
    /// Adds each instance's denial components (`virtuals`: the instance's
    /// name, or its [`types_only_key`], -> the component), wires every
    /// import, exports and encodes.
    pub fn finish(
        self,
        plan: &'a Plan,
        virtuals: &BTreeMap<&'a str, &'a [u8]>,
    ) -> Result<Vec<u8>, ComposeError> {
        let Instances {
            mut graph,
            nodes,
            mut packages,
        } = self;
        wire(&mut graph, &nodes, &mut packages, plan, virtuals)?;
        graph
            .encode(EncodeOptions {
                define_components: true,
                // Validation happens in `verify`, on the final bytes.
                validate: false,
                processor: Some(Processor {
                    // The tool's name, not this crate's (`airlock-core`): outputs
                    // record `processed-by: airlock`.
                    name: "airlock",
                    version: env!("CARGO_PKG_VERSION"),
                }),
            })
            .map_err(|e| err("encode", format!("{e:#}")))
    }
}

/// The denial components beside their instances, every import wired to its
/// source, and the output's exports.
fn wire<'a>(
    graph: &mut CompositionGraph,
    nodes: &BTreeMap<&'a str, NodeId>,
    packages: &mut Packages<'a>,
    plan: &'a Plan,
    virtuals: &BTreeMap<&'a str, &'a [u8]>,
) -> Result<(), ComposeError> {
    // Where each instance's imports come from, for the interfaces the output
    // carries (`Plan::carried_exports`).
    let mut sources: BTreeMap<(&str, &str), NodeId> = BTreeMap::new();
    for (index, inst) in plan.instances.iter().enumerate() {
        let node = nodes[inst.name.as_str()];
        // The instance's types-only views, then its denial component, beside it.
        let view_key = types_only_key(&inst.name);
        let view_node = match virtuals.get(view_key.as_str()) {
            Some(bytes) => {
                let label = format!("airlock:t{index}-{}", package_label(&inst.name));
                Some(stub_node(
                    graph,
                    packages,
                    nodes,
                    inst,
                    (&label, &view_key),
                    bytes,
                    None,
                )?)
            }
            None => None,
        };
        let virtual_node = match virtuals.get(inst.name.as_str()) {
            Some(bytes) => {
                let label = format!("airlock:d{index}-{}", package_label(&inst.name));
                let name = format!("{} (denials)", inst.name);
                Some(stub_node(
                    graph,
                    packages,
                    nodes,
                    inst,
                    (&label, &name),
                    bytes,
                    view_node,
                )?)
            }
            None => None,
        };
        for import in &inst.imports {
            let source = match &import.fate {
                Fate::Linked { provider, export } => {
                    let p = nodes[provider.as_str()];
                    graph
                        .alias_instance_export(p, export)
                        .map_err(|e| err(&format!("alias `{export}` of `{provider}`"), e))?
                }
                fate @ Fate::Denied { .. } => {
                    let v = match is_types_only(fate) {
                        true => view_node,
                        false => virtual_node,
                    };
                    let v = v.ok_or_else(|| ComposeError {
                        message: format!(
                            "`{}` has denied imports but no denial component",
                            inst.name
                        ),
                    })?;
                    denial_item(graph, v, &import.name)?
                }
                Fate::Granted { .. } | Fate::GrantedDependency { .. } => continue,
            };
            sources.insert((&inst.name, &import.name), source);
            graph
                .set_instantiation_argument(node, &import.name, source)
                .map_err(|e| err(&format!("wire `{}` of `{}`", import.name, inst.name), e))?;
        }
    }

    // Interfaces whose types the exports below name, first.
    for (inst, import) in &plan.carried_exports {
        let source = sources
            .get(&(inst.as_str(), import.as_str()))
            .copied()
            .ok_or_else(|| ComposeError {
                message: format!("`{inst}` gets `{import}` from nowhere inside the output"),
            })?;
        graph
            .export(source, import.clone())
            .map_err(|e| err(&format!("export `{import}`"), e))?;
    }
    for (name, export) in output_exports(plan)? {
        let alias = graph
            .alias_instance_export(nodes[name], export)
            .map_err(|e| err(&format!("alias export `{export}` of `{name}`"), e))?;
        graph
            .export(alias, export.to_string())
            .map_err(|e| err(&format!("export `{export}`"), e))?;
    }
    Ok(())
}

/// The output's exports: (instance, export name) for every export of the root
/// and of the other instances in `plan.exports`, in that order. Two instances
/// exporting the same name is an error naming both.
pub fn output_exports(plan: &Plan) -> Result<Vec<(&str, &str)>, ComposeError> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    let mut out = Vec::new();
    for name in &plan.exports {
        let inst = plan
            .instances
            .iter()
            .find(|i| &i.name == name)
            .expect("the plan contains every exporter");
        for export in &inst.exports {
            if let Some(first) = seen.insert(export, &inst.name) {
                return Err(ComposeError {
                    message: format!(
                        "both `{first}` and `{}` export `{export}`; re-export only one of them",
                        inst.name
                    ),
                });
            }
            out.push((inst.name.as_str(), export.as_str()));
        }
    }
    Ok(out)
}

/// Instantiates one of `inst`'s synthesized components (its denials or its
/// types-only views) as node `name`. Its imports (type dependencies) come
/// from where the instance's do: a provider, the instance's types-only views
/// (`views`), or else the host.
fn stub_node<'a>(
    graph: &mut CompositionGraph,
    packages: &mut Packages<'a>,
    nodes: &BTreeMap<&str, NodeId>,
    inst: &InstancePlan,
    (label, name): (&str, &str),
    bytes: &'a [u8],
    views: Option<NodeId>,
) -> Result<NodeId, ComposeError> {
    // Identical denials (same WIT, same denied imports, same values) share
    // one definition, as instances of one component do; each instance still
    // gets its own instance of it.
    let pkg = packages.get_or_register(graph, || label.to_string(), bytes)?;
    let node = graph.instantiate(pkg);
    graph.set_node_name(node, name);
    let wanted: Vec<String> = graph.types()[graph[pkg].ty()]
        .imports
        .keys()
        .cloned()
        .collect();
    for import in wanted {
        let fate = inst
            .imports
            .iter()
            .find(|i| i.name == import)
            .map(|i| &i.fate);
        let source = match fate {
            Some(Fate::Linked { provider, export }) => graph
                .alias_instance_export(nodes[provider.as_str()], export)
                .map_err(|e| err(&format!("alias `{export}` of `{provider}`"), e))?,
            Some(f) if is_types_only(f) && views.is_some() => graph
                .alias_instance_export(views.expect("checked"), &import)
                .map_err(|e| err(&format!("alias the view of `{import}`"), e))?,
            _ => continue,
        };
        graph
            .set_instantiation_argument(node, &import, source)
            .map_err(|e| err(&format!("wire `{import}` of `{name}`"), e))?;
    }
    Ok(node)
}

/// The denial component `stub`'s item for the import `name`: its export of
/// that name, or the item of that name inside its [`WORLD_TYPES`] interface
/// (a type at the top level of the importer's world, or a function using one).
fn denial_item(
    graph: &mut CompositionGraph,
    stub: NodeId,
    name: &str,
) -> Result<NodeId, ComposeError> {
    let context = || format!("alias denial of `{name}`");
    match graph.alias_instance_export(stub, name) {
        Ok(node) => Ok(node),
        Err(first) => {
            let Ok(group) = graph.alias_instance_export(stub, WORLD_TYPES) else {
                return Err(err(&context(), first));
            };
            graph
                .alias_instance_export(group, name)
                .map_err(|e| err(&context(), e))
        }
    }
}

/// One package per distinct component: instances of one component, and
/// identical denial components, share one definition in the output.
#[derive(Default)]
struct Packages<'a> {
    /// By length and a hash of the first and last few KiB, then compared
    /// whole: hashing every byte of every component (SipHash) cost more
    /// than the rest of the bookkeeping.
    by_sample: HashMap<Sample, Vec<(&'a [u8], PackageId)>>,
}

/// A component's length and a hash of its edges (see [`sample`]).
type Sample = (usize, u64);

impl<'a> Packages<'a> {
    fn get_or_register(
        &mut self,
        graph: &mut CompositionGraph,
        label: impl FnOnce() -> String,
        bytes: &'a [u8],
    ) -> Result<PackageId, ComposeError> {
        let same = self.by_sample.entry(sample(bytes)).or_default();
        if let Some((_, pkg)) = same.iter().find(|(b, _)| *b == bytes) {
            return Ok(*pkg);
        }
        let pkg = register(graph, &label(), bytes)?;
        same.push((bytes, pkg));
        Ok(pkg)
    }
}

/// The length and a hash of the first and last 4 KiB of `bytes`.
fn sample(bytes: &[u8]) -> Sample {
    use std::hash::Hasher;
    const EDGE: usize = 4096;
    // Fixed keys: the same bytes must give the same sample on every call.
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(&bytes[..bytes.len().min(EDGE)]);
    hasher.write(&bytes[bytes.len().saturating_sub(EDGE)..]);
    (bytes.len(), hasher.finish())
}

fn register(
    graph: &mut CompositionGraph,
    name: &str,
    bytes: &[u8],
) -> Result<PackageId, ComposeError> {
    let package = Package::from_bytes(name, None, bytes.to_vec(), graph.types_mut())
        .map_err(|e| err(&format!("load `{name}`"), format!("{e:#}")))?;
    graph
        .register_package(package)
        .map_err(|e| err(&format!("register `{name}`"), e))
}

/// A package-name-safe label for an instance name: lowercase kebab-case.
fn package_label(name: &str) -> String {
    let mut label: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if !label.starts_with(|c: char| c.is_ascii_lowercase()) {
        label.insert(0, 'c');
    }
    label
}
