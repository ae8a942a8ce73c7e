//! Step 2: decode a component's imports and exports (with versions), and group
//! them into capability families.

use crate::names::InterfaceName;
use crate::verdicts::{Verdict, VerdictCache};
use serde::Serialize;
use std::path::{Path, PathBuf};
use wit_parser::{Resolve, WorldId, WorldItem, WorldKey};

/// A decoded component: its WIT world and the names it imports and exports.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The WIT types of the component, as wit-component decodes them.
    pub resolve: Resolve,
    /// The component's world within `resolve`.
    pub world: WorldId,
    /// Top-level imports, in the component's order.
    pub imports: Vec<Item>,
    /// Top-level exports, in the component's order.
    pub exports: Vec<Item>,
}

/// One import or export.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Item {
    /// The name as it appears in the component (`wasi:cli/stdout@0.2.4`, `run`).
    pub name: String,
    /// `interface`, `function` or `type`.
    pub kind: ItemKind,
    /// The capability family.
    pub family: Family,
}

/// What kind of item an import or export is.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    /// An instance of a WIT interface.
    Interface,
    /// A bare function.
    Function,
    /// A bare type.
    Type,
}

/// Capability families, for people reading an audit.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Sockets and HTTP.
    Network,
    /// Filesystem.
    Files,
    /// Environment variables, arguments, working directory.
    Environment,
    /// Wall (0.2), system (0.3) and monotonic clocks, time zones.
    Clocks,
    /// Random numbers.
    Random,
    /// stdin, stdout, stderr and terminals.
    Stdio,
    /// Process exit.
    Exit,
    /// Streams, polling and errors: types only, no authority by themselves.
    Io,
    /// Anything that is not WASI.
    Custom,
}

impl Family {
    /// The family of an interface name.
    pub fn of(name: &str) -> Family {
        let Some(n) = InterfaceName::parse(name) else {
            return Family::Custom;
        };
        if !n.is_wasi() {
            return Family::Custom;
        }
        match (n.package.as_str(), n.interface.as_str()) {
            ("sockets" | "http", _) => Family::Network,
            ("filesystem", _) => Family::Files,
            ("clocks", _) => Family::Clocks,
            ("random", _) => Family::Random,
            ("io", _) => Family::Io,
            ("cli", "environment") => Family::Environment,
            ("cli", "exit") => Family::Exit,
            ("cli", i) if i.starts_with("std") || i.starts_with("terminal") => Family::Stdio,
            // 0.3: the stdio error codes (`use`d by stdin, stdout and stderr).
            ("cli", "types") => Family::Stdio,
            _ => Family::Custom,
        }
    }

    /// A lowercase label.
    pub fn label(self) -> &'static str {
        match self {
            Family::Network => "network",
            Family::Files => "files",
            Family::Environment => "environment",
            Family::Clocks => "clocks",
            Family::Random => "random",
            Family::Stdio => "stdio",
            Family::Exit => "exit",
            Family::Io => "io",
            Family::Custom => "custom",
        }
    }
}

/// Why a file is not a usable component.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The file could not be read.
    #[error("cannot read component `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not WebAssembly at all.
    #[error("`{path}` is not a WebAssembly file (bad magic number or truncated header)")]
    NotWasm {
        /// The file.
        path: PathBuf,
    },
    /// A core module where a component is needed.
    #[error(
        "`{path}` is a core WebAssembly module, not a component; wrap it first (e.g. `wasm-tools component new`)"
    )]
    CoreModule {
        /// The file.
        path: PathBuf,
    },
    /// It does not validate.
    #[error("`{path}` is not a valid component: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The validator's message.
        message: String,
    },
    /// Its WIT could not be decoded.
    #[error("cannot decode the WIT of `{path}`: {message}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// wit-component's message.
        message: String,
    },
}

/// Reads a component file.
pub fn read(path: &Path) -> Result<Vec<u8>, InspectError> {
    let bytes = std::fs::read(path).map_err(|source| InspectError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    adapt_preview1(bytes, path)
}

/// A `wasi_snapshot_preview1` module becomes a component (see
/// `crate::preview1`; the CLI says so); anything else is returned as it is.
pub fn adapt_preview1(bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>, InspectError> {
    match crate::preview1::kind(&bytes) {
        Some(kind) => {
            crate::preview1::adapt(&bytes, kind).map_err(|message| InspectError::Invalid {
                path: path.to_path_buf(),
                message: format!(
                    "adapting this wasi_snapshot_preview1 module ({}): {message}",
                    kind.label()
                ),
            })
        }
        None => Ok(bytes),
    }
}

/// Validates and decodes component bytes; `path` names them in errors.
pub fn decode(bytes: &[u8], path: &Path) -> Result<Decoded, InspectError> {
    decode_cached(bytes, path, None).map(|(decoded, _)| decoded)
}

/// [`decode`], with the validation verdict taken from `cache` (the cache,
/// and the sha256 of `bytes` as [`crate::digest::sha256`] gives it) when it
/// has one for these bytes, and recorded there when it has not. When decoding
/// fails after a cached verdict, the bytes are validated after all, so that
/// an invalid component is reported as such (and its entry removed) whatever
/// the cache said.
pub fn decode_cached(
    bytes: &[u8],
    path: &Path,
    cache: Option<(&VerdictCache, &str)>,
) -> Result<(Decoded, Verdict), InspectError> {
    let path_buf = || path.to_path_buf();
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(InspectError::CoreModule { path: path_buf() });
    }
    if !wasmparser::Parser::is_component(bytes) {
        return Err(InspectError::NotWasm { path: path_buf() });
    }
    let invalid = |message| InspectError::Invalid {
        path: path_buf(),
        message,
    };
    let verdict = match cache {
        Some((cache, digest)) => cache.validate(bytes, digest).map_err(invalid)?,
        None => {
            crate::verify::validate(bytes).map_err(invalid)?;
            Verdict::Checked
        }
    };
    match decode_valid(bytes, path) {
        Err(e) if verdict == Verdict::Cached => {
            let (cache, digest) = cache.expect("a cached verdict comes from a cache");
            cache.recheck(bytes, digest).map_err(invalid)?;
            Err(e)
        }
        decoded => decoded.map(|d| (d, verdict)),
    }
}

/// Decodes the WIT of component bytes whose function bodies are those of a
/// component that validated (imports renamed by [`crate::normalize`]): the
/// decoder checks the structure again, the bodies are not validated twice.
pub fn decode_structure(bytes: &[u8], path: &Path) -> Result<Decoded, InspectError> {
    decode_valid(bytes, path)
}

/// Decodes the WIT of component bytes that validate.
fn decode_valid(bytes: &[u8], path: &Path) -> Result<Decoded, InspectError> {
    let path_buf = || path.to_path_buf();
    // wit-parser's decoder recurses without end (a stack overflow: the process
    // aborts) on packages that depend on each other; refuse those first.
    package_cycle(bytes).map_err(|message| InspectError::Decode {
        path: path_buf(),
        message,
    })?;
    let (resolve, world) = match wit_component::decode(bytes) {
        Ok(wit_component::DecodedWasm::Component(resolve, world)) => (resolve, world),
        Ok(wit_component::DecodedWasm::WitPackage(..)) => {
            return Err(InspectError::Decode {
                path: path_buf(),
                message: "it is a WIT package, not a component".into(),
            });
        }
        Err(e) => {
            return Err(InspectError::Decode {
                path: path_buf(),
                message: format!("{e:#}"),
            });
        }
    };
    let w = &resolve.worlds[world];
    let items = |map: &indexmap::IndexMap<WorldKey, WorldItem>| {
        map.iter()
            .map(|(key, item)| {
                let name = resolve.name_world_key(key);
                let kind = match item {
                    WorldItem::Interface { .. } => ItemKind::Interface,
                    WorldItem::Function(_) => ItemKind::Function,
                    WorldItem::Type { .. } => ItemKind::Type,
                };
                Item {
                    family: Family::of(&name),
                    name,
                    kind,
                }
            })
            .collect::<Vec<_>>()
    };
    let imports = items(&w.imports);
    let exports = items(&w.exports);
    Ok(Decoded {
        resolve,
        world,
        imports,
        exports,
    })
}

/// A cycle between the packages of a component's top-level imports and exports
/// (`a:x/i` uses types of `b:y/j`, which uses types of `a:x/k`), read with
/// wasmparser alone. A valid component may have one (found by fuzzing: one
/// flipped byte in a package name), and wit-parser's decoder then recurses until
/// the stack overflows, which aborts the process instead of returning an error.
fn package_cycle(bytes: &[u8]) -> Result<(), String> {
    use std::collections::{BTreeMap, BTreeSet};
    use wasmparser::{
        ComponentAlias, ComponentExternalKind, ComponentOuterAliasKind, ComponentType,
        ComponentTypeRef, InstanceTypeDeclaration, Payload,
    };

    let package =
        |name: &str| InterfaceName::parse(name).map(|n| format!("{}:{}", n.namespace, n.package));
    // Top-level index spaces: for each type, the instance it was aliased from;
    // for each instance, its package; for each instance type, the types it
    // aliases from the top level.
    let mut type_origin: Vec<Option<u32>> = Vec::new();
    let mut instance_package: Vec<Option<String>> = Vec::new();
    let mut instance_type_uses: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    // package -> packages whose types it uses
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut uses = |pkg: Option<String>,
                    ty: u32,
                    type_origin: &[Option<u32>],
                    instance_package: &[Option<String>],
                    instance_type_uses: &BTreeMap<u32, Vec<u32>>| {
        let Some(pkg) = pkg else { return };
        for t in instance_type_uses.get(&ty).into_iter().flatten() {
            let origin = type_origin.get(*t as usize).copied().flatten();
            if let Some(Some(dep)) =
                origin.map(|i| instance_package.get(i as usize).cloned().flatten())
                && dep != pkg
            {
                edges.entry(pkg.clone()).or_default().insert(dep);
            }
        }
    };
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| e.to_string())?;
        match payload {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            Payload::ComponentTypeSection(reader) => {
                for ty in reader {
                    let index = type_origin.len() as u32;
                    if let ComponentType::Instance(decls) = ty.map_err(|e| e.to_string())? {
                        let outer: Vec<u32> = decls
                            .iter()
                            .filter_map(|d| match d {
                                InstanceTypeDeclaration::Alias(ComponentAlias::Outer {
                                    kind: ComponentOuterAliasKind::Type,
                                    count: 1,
                                    index,
                                }) => Some(*index),
                                _ => None,
                            })
                            .collect();
                        instance_type_uses.insert(index, outer);
                    }
                    type_origin.push(None);
                }
            }
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    let import = import.map_err(|e| e.to_string())?;
                    match import.ty {
                        ComponentTypeRef::Instance(ty) => {
                            let pkg = package(import.name.name);
                            uses(
                                pkg.clone(),
                                ty,
                                &type_origin,
                                &instance_package,
                                &instance_type_uses,
                            );
                            instance_package.push(pkg);
                        }
                        ComponentTypeRef::Type(_) => type_origin.push(None),
                        _ => {}
                    }
                }
            }
            Payload::ComponentAliasSection(reader) => {
                for alias in reader {
                    match alias.map_err(|e| e.to_string())? {
                        ComponentAlias::InstanceExport {
                            kind: ComponentExternalKind::Type,
                            instance_index,
                            ..
                        } => type_origin.push(Some(instance_index)),
                        ComponentAlias::InstanceExport {
                            kind: ComponentExternalKind::Instance,
                            ..
                        } => instance_package.push(None),
                        ComponentAlias::Outer {
                            kind: ComponentOuterAliasKind::Type,
                            ..
                        } => type_origin.push(None),
                        _ => {}
                    }
                }
            }
            Payload::ComponentInstanceSection(reader) => {
                for _ in reader {
                    instance_package.push(None);
                }
            }
            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(|e| e.to_string())?;
                    match export.kind {
                        ComponentExternalKind::Type => type_origin.push(None),
                        ComponentExternalKind::Instance => {
                            let pkg = package(export.name.name);
                            if let Some(ComponentTypeRef::Instance(ty)) = export.ty {
                                uses(
                                    pkg.clone(),
                                    ty,
                                    &type_origin,
                                    &instance_package,
                                    &instance_type_uses,
                                );
                            }
                            instance_package.push(pkg);
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    // Depth-first search for a cycle.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, &edges, &mut Vec::new(), &mut done) {
            let cycle: Vec<String> = cycle.iter().map(|p| format!("`{p}`")).collect();
            return Err(format!(
                "its packages use each other's types in a cycle: {}",
                cycle.join(" -> ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Family;

    #[test]
    fn families_of_wasi_03_names() {
        for (name, family) in [
            ("wasi:clocks/system-clock@0.3.0", Family::Clocks),
            ("wasi:clocks/timezone@0.3.0", Family::Clocks),
            ("wasi:clocks/monotonic-clock@0.3.0", Family::Clocks),
            ("wasi:clocks/types@0.3.0", Family::Clocks),
            ("wasi:http/client@0.3.0", Family::Network),
            ("wasi:http/handler@0.3.0", Family::Network),
            ("wasi:http/types@0.3.0", Family::Network),
            ("wasi:sockets/types@0.3.0", Family::Network),
            ("wasi:sockets/ip-name-lookup@0.3.0", Family::Network),
            ("wasi:filesystem/types@0.3.0", Family::Files),
            ("wasi:filesystem/preopens@0.3.0", Family::Files),
            ("wasi:random/insecure-seed@0.3.0", Family::Random),
            ("wasi:random/random@0.3.0-rc-2026-03-15", Family::Random),
            ("wasi:cli/environment@0.3.0", Family::Environment),
            ("wasi:cli/exit@0.3.0", Family::Exit),
            ("wasi:cli/stdout@0.3.0-rc-2026-03-15", Family::Stdio),
            ("wasi:cli/stdin@0.3.0", Family::Stdio),
            ("wasi:cli/types@0.3.0", Family::Stdio),
            ("wasi:cli/terminal-stdout@0.3.0", Family::Stdio),
            ("wasi:io/streams@0.2.0", Family::Io),
            ("wasi:clocks/wall-clock@0.2.12", Family::Clocks),
            ("my:lib/thing@0.3.0", Family::Custom),
            ("run", Family::Custom),
        ] {
            assert_eq!(Family::of(name), family, "{name}");
        }
    }
}
