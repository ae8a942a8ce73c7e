//! `env-from-host = ["LANG"]`: `wasi:cli/environment` from the host, narrowed
//! to the named variables, plus the fixed `env`, `args` and `cwd` values
//! beside it (they then live in the interposer's settings rather than in a
//! denial stub). Settings: `host NAME`, `set NAME=VALUE`, `arg VALUE`, `cwd PATH`.

use super::{Interposer, SliceError, Slices};
use crate::manifest::ComponentSpec;

/// `composer/interposers/env`, prebuilt (`just interposers`).
const WASM: &[u8] = include_bytes!("../../../../interposers/env.wasm");

pub(super) fn add(c: &ComponentSpec, out: &mut Slices) -> Result<(), SliceError> {
    let Some(names) = &c.env_from_host else {
        return Ok(());
    };
    let mut config = Vec::new();
    let mut summary = Vec::new();
    for name in names {
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            return Err(SliceError::new(
                "env-from-host",
                format!("`{name}` is not a variable name"),
            ));
        }
        config.push(format!("host {name}"));
        summary.push(format!("env {name} (host)"));
    }
    for (k, v) in c.env.iter().flatten() {
        config.push(format!("set {k}={v}"));
        summary.push(format!("env {k}={v} (fixed)"));
    }
    for arg in c.args.iter().flatten() {
        config.push(format!("arg {arg}"));
    }
    if let Some(args) = &c.args {
        summary.push(format!("args {args:?} (fixed)"));
    }
    if let Some(cwd) = &c.cwd {
        config.push(format!("cwd {cwd}"));
        summary.push(format!("cwd {cwd} (fixed)"));
    }
    out.interposers.push(Interposer {
        kind: "env",
        wasm: WASM,
        wires: vec!["wasi:cli/environment"],
        grants: vec!["wasi:cli/environment"],
        library_grants: Vec::new(),
        config,
        summary: summary.join(", "),
    });
    Ok(())
}
