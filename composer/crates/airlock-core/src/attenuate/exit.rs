//! `exit = "allow" | "deny"`: `wasi:cli/exit` granted from the host, or
//! denied (the default: a trap whose message names the call, since
//! continuing after a refused exit would be wrong).

use super::Slices;
use crate::manifest::ComponentSpec;
use airlock_slice_settings::{Access, Slice};

pub(super) fn add(c: &ComponentSpec, out: &mut Slices) {
    let Some(access) = c.exit else {
        return;
    };
    match access {
        Access::Allow => out.grants.push(("wasi:cli/exit", "exit")),
        Access::Deny => out.denies.push(("wasi:cli/exit", "exit")),
    }
    out.summary.push(Slice::Exit(access));
}
