//! The virtualize stage: per instance, the components that serve its denied
//! imports inside the output, and what each of their functions does.

use crate::error::Error;
use crate::load::Components;
use crate::plan::{DenyReason, Fate, ImportPlan, Plan};
use crate::spec::CompositionSpec;
use std::collections::BTreeMap;

/// What the virtualize stage hands to `compose` and `report`.
#[derive(Default)]
pub struct Stubs {
    /// Key (the instance's name, or its [`types_only_key`]) -> the component.
    pub components: BTreeMap<String, Vec<u8>>,
    /// Instance -> denied import -> function -> what a call does (for the audit).
    pub functions: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
}

/// Synthesizes, per instance, one denial component for its denied imports and
/// one more for its types-only views (see [`types_only_key`]). The views are
/// apart because an interface the denial component imports from the host may
/// use their types (`wasi:http/types` uses `wasi:clocks/monotonic-clock`): one
/// component cannot both import what the host's interface uses and export the view.
pub fn stubs(plan: &Plan, spec: &CompositionSpec, loaded: &Components) -> Result<Stubs, Error> {
    let mut jobs = Vec::new();
    for inst in &plan.instances {
        let (views, denied): (Vec<&ImportPlan>, Vec<&ImportPlan>) = inst
            .imports
            .iter()
            .filter(|i| matches!(i.fate, Fate::Denied { .. }))
            .partition(|i| is_types_only(&i.fate));
        let groups = [
            (inst.name.clone(), names(&denied)),
            (types_only_key(&inst.name), names(&views)),
        ];
        jobs.extend(
            groups
                .into_iter()
                .filter(|(_, group)| !group.is_empty())
                .map(|(key, group)| (inst.name.as_str(), key, group)),
        );
    }
    // Each one is a component to encode and validate: on every core.
    let synthesized = crate::parallel::map(&jobs, |(instance, _, group)| {
        let decoded = &loaded[*instance].decoded;
        let virtuals = &spec
            .instance(instance)
            .expect("planned instances are in the spec")
            .virtuals;
        // The same label for every instance, so that identical denials
        // are identical bytes and share one definition in the output
        // (`compose`); backtraces name the denied function
        // (`airlock-deny:denials!airlock denied wasi:…#get-random-u64`),
        // the audit names the instance.
        crate::deny::deny_imports(&decoded.resolve, decoded.world, group, STUB_LABEL, virtuals)
            .map_err(|source| Error::Virtualize {
                instance: instance.to_string(),
                source,
            })
    });
    let mut out = Stubs::default();
    for ((instance, key, _), stub) in jobs.into_iter().zip(synthesized) {
        let stub = stub?;
        out.functions
            .entry(instance.to_string())
            .or_default()
            .extend(stub.functions);
        out.components.insert(key, stub.bytes);
    }
    Ok(out)
}

/// The name every denial component carries (`airlock-deny:denials`).
const STUB_LABEL: &str = "denials";

fn names(imports: &[&ImportPlan]) -> Vec<String> {
    imports.iter().map(|i| i.name.clone()).collect()
}

/// True for a types-only view of a type dependency.
pub fn is_types_only(fate: &Fate) -> bool {
    matches!(
        fate,
        Fate::Denied {
            reason: DenyReason::TypesOnly,
            ..
        }
    )
}

/// The key (and instance name in the output) of an instance's types-only views.
pub fn types_only_key(instance: &str) -> String {
    format!("{instance} (types only)")
}
