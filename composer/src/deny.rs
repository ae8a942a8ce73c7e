//! Step 4 glue: from an instance's denied imports to its denial component,
//! via the synthesizer in `virtualize`.

use std::collections::BTreeMap;
use wit_parser::{Resolve, WorldId};

/// A synthesized denial component and, per denied interface, what each function does.
pub struct DenialComponent {
    /// The component bytes.
    pub bytes: Vec<u8>,
    /// Interface name -> function name -> behaviour, for the audit.
    pub functions: BTreeMap<String, BTreeMap<String, String>>,
}

/// Builds the component that serves `denied` (import names of `world`) for `instance`.
pub fn deny_imports(
    _resolve: &Resolve,
    _world: WorldId,
    denied: &[String],
    instance: &str,
) -> anyhow::Result<DenialComponent> {
    anyhow::bail!("virtualization is not wired yet ({instance}: {})", denied.join(", "))
}
