//! `exit = "allow" | "deny"`: `wasi:cli/exit` granted from the host, or
//! denied (the default: a trap whose message names the call, since
//! continuing after a refused exit would be wrong).

use super::Slices;
use crate::manifest::{Access, ComponentSpec};

pub(super) fn add(c: &ComponentSpec, out: &mut Slices) {
    match c.exit {
        Some(Access::Allow) => {
            out.grants.push(("wasi:cli/exit", "exit"));
            out.summary.push("exit allowed".into());
        }
        Some(Access::Deny) => {
            out.denies.push(("wasi:cli/exit", "exit"));
            out.summary.push("exit denied (traps)".into());
        }
        None => {}
    }
}
