//! Step 2: decode a component's imports and exports (with versions), and group
//! them into capability families.

use crate::names::InterfaceName;
use serde::Serialize;
use std::path::{Path, PathBuf};
use wit_parser::{Resolve, WorldId, WorldItem, WorldKey};

/// A decoded component: its WIT world and the names it imports and exports.
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
    /// Wall and monotonic clocks.
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
    std::fs::read(path).map_err(|source| InspectError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Validates and decodes component bytes; `path` names them in errors.
pub fn decode(bytes: &[u8], path: &Path) -> Result<Decoded, InspectError> {
    let path_buf = || path.to_path_buf();
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(InspectError::CoreModule { path: path_buf() });
    }
    if !wasmparser::Parser::is_component(bytes) {
        return Err(InspectError::NotWasm { path: path_buf() });
    }
    crate::verify::validate(bytes).map_err(|message| InspectError::Invalid {
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
