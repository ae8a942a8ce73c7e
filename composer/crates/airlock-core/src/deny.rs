//! Step 4 glue: from an instance's denied imports to its denial component,
//! via the synthesizer in `virtualize`.

use crate::virtualize;
use std::collections::BTreeMap;
use wit_parser::{Resolve, WorldId};

/// A synthesized denial component and, per denied interface, what each function does.
pub struct DenialComponent {
    /// The component bytes.
    pub bytes: Vec<u8>,
    /// Interface name -> function name -> behaviour, for the audit.
    pub functions: BTreeMap<String, BTreeMap<String, String>>,
}

/// Builds the component that serves `denied` (import names of `world`:
/// interfaces, inline interfaces and bare functions) for
/// `instance`, with the functions its `virtuals` serve returning those values.
pub fn deny_imports(
    resolve: &Resolve,
    world: WorldId,
    denied: &[String],
    instance: &str,
    virtuals: &virtualize::Virtuals,
) -> anyhow::Result<DenialComponent> {
    // Interfaces, named or inline, and bare functions, as the world has them.
    let items = resolve.worlds[world]
        .imports
        .iter()
        .filter(|(key, _)| denied.contains(&resolve.name_world_key(key)))
        .map(|(key, item)| (key.clone(), item.clone()))
        .collect::<Vec<_>>();
    anyhow::ensure!(
        items.len() == denied.len(),
        "some denied imports are not imports of the component: {}",
        denied.join(", ")
    );
    let stub = virtualize::synthesize_items(resolve, &items, instance, virtuals)?;
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
