//! Step 4 glue: from an instance's denied imports to its denial component,
//! via the synthesizer in `virtualize`.

use crate::virtualize;
use std::collections::BTreeMap;
use wit_parser::{Resolve, WorldId, WorldItem};

/// A synthesized denial component and, per denied interface, what each function does.
pub struct DenialComponent {
    /// The component bytes.
    pub bytes: Vec<u8>,
    /// Interface name -> function name -> behaviour, for the audit.
    pub functions: BTreeMap<String, BTreeMap<String, String>>,
}

/// Builds the component that serves `denied` (import names of `world`) for
/// `instance`, with the functions its `virtuals` serve returning those values.
pub fn deny_imports(
    resolve: &Resolve,
    world: WorldId,
    denied: &[String],
    instance: &str,
    virtuals: &virtualize::Virtuals,
) -> anyhow::Result<DenialComponent> {
    let ids = resolve.worlds[world]
        .imports
        .iter()
        .filter(|(key, _)| denied.contains(&resolve.name_world_key(key)))
        .filter_map(|(_, item)| match item {
            WorldItem::Interface { id, .. } => Some(*id),
            _ => None,
        })
        .collect::<Vec<_>>();
    anyhow::ensure!(
        ids.len() == denied.len(),
        "some denied imports are not interfaces of the component: {}",
        denied.join(", ")
    );
    let stub = virtualize::synthesize_with(resolve, &ids, instance, virtuals)?;
    let functions = stub
        .fates
        .into_iter()
        .map(|(iface, fates)| {
            let per_function = fates
                .into_iter()
                .map(|f| (f.function, f.fate.to_string()))
                .collect();
            (iface, per_function)
        })
        .collect();
    Ok(DenialComponent {
        bytes: stub.bytes,
        functions,
    })
}
