//! `wasi_snapshot_preview1` core modules (what `wasm32-wasip1` toolchains
//! emit) become components with the official adapter, as `wasm-tools
//! component new --adapt` does: the command adapter when the module exports
//! `_start`, the reactor adapter otherwise. Everything after that is the
//! ordinary pipeline (the lock and the provenance record the adapted
//! component's digest).

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
    WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};

/// Which adapter a preview1 module gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Exports `_start`: a program (`wasi:cli/run`).
    Command,
    /// A library (`_initialize` or no entry point).
    Reactor,
}

impl Kind {
    /// `command` or `reactor`, for messages.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Command => "command",
            Kind::Reactor => "reactor",
        }
    }
}

/// The adapter a core module needs: `Some` when it imports from
/// `wasi_snapshot_preview1`, `None` for any other module or a component.
pub fn kind(bytes: &[u8]) -> Option<Kind> {
    if !wasmparser::Parser::is_core_wasm(bytes) {
        return None;
    }
    let (mut preview1, mut start) = (false, false);
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            wasmparser::Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    preview1 |= import.ok()?.module == WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME;
                }
            }
            wasmparser::Payload::ExportSection(exports) => {
                for export in exports {
                    start |= export.ok()?.name == "_start";
                }
            }
            _ => {}
        }
    }
    preview1.then_some(if start { Kind::Command } else { Kind::Reactor })
}

/// The note the CLI prints for a file that is a preview1 module.
pub fn note(path: &std::path::Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let kind = kind(&bytes)?;
    Some(format!(
        "note: `{}` is a wasi_snapshot_preview1 module: adapted to a component with the \
         official {} adapter (wasmtime 48.0.8)",
        path.display(),
        kind.label()
    ))
}

/// The component for a preview1 module (see [`kind`]).
pub fn adapt(bytes: &[u8], kind: Kind) -> Result<Vec<u8>, String> {
    let adapter = match kind {
        Kind::Command => WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
        Kind::Reactor => WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
    };
    wit_component::ComponentEncoder::default()
        .module(bytes)
        .and_then(|e| e.adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter))
        .and_then(|e| e.validate(true).encode())
        .map_err(|e| format!("{e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(exports_start: bool) -> Vec<u8> {
        let start = if exports_start {
            r#"(func (export "_start"))"#
        } else {
            ""
        };
        wat::parse_str(format!(
            r#"(module
                (import "wasi_snapshot_preview1" "fd_write"
                    (func (param i32 i32 i32 i32) (result i32)))
                (memory (export "memory") 1)
                {start})"#
        ))
        .unwrap()
    }

    #[test]
    fn commands_and_reactors_are_told_apart() {
        assert_eq!(kind(&module(true)), Some(Kind::Command));
        assert_eq!(kind(&module(false)), Some(Kind::Reactor));
        let plain = wat::parse_str("(module (func (export \"f\")))").unwrap();
        assert_eq!(kind(&plain), None);
    }

    #[test]
    fn a_command_module_becomes_a_component() {
        let component = adapt(&module(true), Kind::Command).unwrap();
        assert!(wasmparser::Parser::is_component(&component));
    }
}
