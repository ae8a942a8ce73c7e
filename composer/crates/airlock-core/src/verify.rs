//! Step 6: re-read the OUTPUT bytes, independently of the plan: the component
//! validates, every import is inside the allow-list, and each instance inside
//! reaches no more of the host than its own grants ([`check_instances`]). An interface that is
//! not itself listed is accepted only when WASI's own WIT (compiled into the
//! composer, see `wasi_deps`) says a listed WASI interface uses its types, e.g.
//! `wasi:io/streams` under an allowed `wasi:cli/stdout`, or
//! `wasi:clocks/wall-clock` under `wasi:filesystem/types` (its `datetime`):
//! the host must provide those for the listed interface's types to line up.
//! A plain name (a bare function or inline interface, `thing-in`) is never
//! WASI: the output may import it only when the allow-list names it exactly,
//! and an instance reach it only when its grant names it exactly too.

use crate::names::InterfaceName;
use crate::policy::PatternSet;
use crate::spec::CompositionSpec;
use crate::wasi_deps;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use wit_parser::{WorldItem, WorldKey};

/// Validates a component with every feature wasmparser knows. Like
/// `Validator::validate_all`, but function bodies (most of the work) are
/// checked on every core; the error reported is the first in function order.
pub fn validate(bytes: &[u8]) -> Result<(), String> {
    use wasmparser::{FuncValidatorAllocations, Parser, ValidPayload, Validator, WasmFeatures};
    let features = WasmFeatures::all();
    let mut validator = Validator::new_with_features(features);
    let mut parser = Parser::new(0);
    parser.set_features(features);
    let mut functions = Vec::new();
    for payload in parser.parse_all(bytes) {
        let payload = payload.map_err(|e| e.to_string())?;
        if let ValidPayload::Func(func, body) =
            validator.payload(&payload).map_err(|e| e.to_string())?
        {
            functions.push((func, body));
        }
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = functions.len().div_ceil(workers).max(1);
    let mut chunks = Vec::new();
    while !functions.is_empty() {
        let rest = functions.split_off(chunk.min(functions.len()));
        chunks.push(std::mem::replace(&mut functions, rest));
    }
    let errors: Vec<Option<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    let mut allocs = FuncValidatorAllocations::default();
                    for (func, body) in chunk {
                        let mut v = func.into_validator(allocs);
                        if let Err(e) = v.validate(&body) {
                            return Some(e.to_string());
                        }
                        allocs = v.into_allocations();
                    }
                    None
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Some("the validator panicked on this input".into()))
            })
            .collect()
    });
    match errors.into_iter().flatten().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Why an output must not be written.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The encoded output does not validate.
    #[error("the composed output does not validate: {0}")]
    Invalid(String),
    /// Its WIT could not be decoded.
    #[error("cannot decode the composed output: {0}")]
    Decode(String),
    /// It imports more than the allow-list permits.
    #[error("the composed output imports what the allow-list does not permit: {}", .0.join(", "))]
    OutsideAllowList(Vec<String>),
    /// The output's structure could not be read instance by instance.
    #[error("cannot read the composed output instance by instance: {0}")]
    Reach(#[from] crate::reach::ReachError),
    /// An instance inside the output reaches more of the host than its own grants.
    #[error(
        "an instance inside the composed output reaches more of the host than its own grants:\n{}",
        .0.iter().map(|v| format!("  - {v}")).collect::<Vec<_>>().join("\n")
    )]
    BeyondGrants(Vec<ReachViolation>),
}

/// Per instance: what of the host reaches an instance beyond its own grants.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReachViolation {
    /// The instance, as named in the output.
    pub instance: String,
    /// What is wrong, e.g. ``reaches `wasi:cli/environment@0.2.6` (get-environment) from the host``.
    pub problem: String,
}

impl std::fmt::Display for ReachViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` {}", self.instance, self.problem)
    }
}

/// Each output import and why it is permitted.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct VerifiedImports(pub BTreeMap<String, String>);

/// Checks the output bytes against the allow-list (see [`check_output`]) and,
/// instance by instance, against each instance's own grants (see
/// [`check_instances`]): the whole of step 6.
pub fn check(bytes: &[u8], spec: &CompositionSpec) -> Result<VerifiedImports, VerifyError> {
    let (verified, host_functions) = check_imports(bytes, &spec.allow)?;
    check_instances(bytes, spec, &host_functions)?;
    Ok(verified)
}

/// Checks the output bytes against the allow-list.
pub fn check_output(bytes: &[u8], allow: &PatternSet) -> Result<VerifiedImports, VerifyError> {
    check_imports(bytes, allow).map(|(verified, _)| verified)
}

/// Output import name -> the functions of that host interface, as the output declares them.
type HostFunctions = BTreeMap<String, BTreeSet<String>>;

fn check_imports(
    bytes: &[u8],
    allow: &PatternSet,
) -> Result<(VerifiedImports, HostFunctions), VerifyError> {
    // Full validation (function bodies included) and decoding are independent:
    // run them side by side.
    let (valid, decoded) = std::thread::scope(|scope| {
        let valid = scope.spawn(|| validate(bytes));
        let decoded = wit_component::decode(bytes);
        let valid = valid
            .join()
            .unwrap_or_else(|_| Err("the validator panicked on this input".into()));
        (valid, decoded)
    });
    valid.map_err(VerifyError::Invalid)?;
    let (resolve, world) = match decoded {
        Ok(wit_component::DecodedWasm::Component(r, w)) => (r, w),
        Ok(_) => return Err(VerifyError::Decode("not a component".into())),
        Err(e) => return Err(VerifyError::Decode(format!("{e:#}"))),
    };
    let imports = &resolve.worlds[world].imports;

    let mut verdicts = BTreeMap::new();
    let mut listed = Vec::new();
    for (key, item) in imports {
        let name = resolve.name_world_key(key);
        let parsed = InterfaceName::parse(&name);
        if let (Some(n), WorldItem::Interface { .. }) = (&parsed, item)
            && let Some(p) = allow.find(n)
        {
            verdicts.insert(name, format!("allowed by `{p}`"));
            listed.push(n.clone());
        } else if let (WorldKey::Name(plain), WorldItem::Interface { .. } | WorldItem::Function(_)) =
            (key, item)
            && let Some(p) = allow.find_exact(plain)
        {
            verdicts.insert(name, format!("allowed by `{p}`"));
        }
    }
    // Type dependencies come from WASI's own WIT (compiled in), never from the
    // output's declared types, which its components wrote themselves.
    let deps = wasi_deps::dependencies(&listed);
    let mut outside = Vec::new();
    for (key, item) in imports {
        let name = resolve.name_world_key(key);
        if verdicts.contains_key(&name) {
            continue;
        }
        let via = match (item, InterfaceName::parse(&name)) {
            // On the vendored track only: `wasi:io/streams@0.3.0-rc-…` is
            // never a dependency of `wasi:cli/stdout@0.2.6`.
            (WorldItem::Interface { .. }, Some(n)) => deps.via(&n),
            _ => None,
        };
        match via {
            Some(via) => {
                verdicts.insert(name, format!("type dependency of `{via}`"));
            }
            None => outside.push(name),
        }
    }
    if !outside.is_empty() {
        return Err(VerifyError::OutsideAllowList(outside));
    }
    let functions = imports
        .iter()
        .filter_map(|(key, item)| match item {
            WorldItem::Interface { id, .. } => Some((
                resolve.name_world_key(key),
                resolve.interfaces[*id].functions.keys().cloned().collect(),
            )),
            WorldItem::Function(f) => Some((f.name.clone(), BTreeSet::from([f.name.clone()]))),
            WorldItem::Type { .. } => None,
        })
        .collect();
    Ok((VerifiedImports(verdicts), functions))
}

/// Instance by instance, what of the host reaches it (read from the output
/// bytes by [`crate::reach`], never from the plan) must be within its own
/// grants: an output import its grant and the allow-list both match (and its
/// `deny` does not), or a WASI type dependency of such an import (WASI's own
/// WIT says so, at the same semver track) of which only functions without
/// authority of their own arrive (methods on handles, not `now()`). A
/// denial component (`NAME (denials)`) is held to its instance's rules. Any
/// other instance in the output is an error.
pub fn check_instances(
    bytes: &[u8],
    spec: &CompositionSpec,
    host_functions: &HostFunctions,
) -> Result<(), VerifyError> {
    let reach = crate::reach::host_reach(bytes)?;
    let mut violations = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for (name, reached) in &reach.instances {
        // Synthesized components (denials, types-only views) are held to
        // their instance's rules.
        let synthesized = name
            .strip_suffix(" (denials)")
            .or_else(|| name.strip_suffix(" (types only)"));
        let owner = synthesized.unwrap_or(name);
        let Some(inst) = spec.instance(owner) else {
            violations.insert(ReachViolation {
                instance: name.clone(),
                problem: "is not an instance of the policy".into(),
            });
            continue;
        };
        seen.insert(owner);
        let granted: Vec<InterfaceName> = host_functions
            .keys()
            .filter_map(|n| InterfaceName::parse(n))
            .filter(|n| inst.grant.matches(n) && spec.allow.matches(n) && !inst.deny.matches(n))
            .collect();
        // Plain names only by their exact name, in the grant and the allow-list.
        let granted_plain = |n: &str| {
            inst.grant.find_exact(n).is_some()
                && spec.allow.find_exact(n).is_some()
                && !inst.deny.matches_plain(n)
        };
        let deps = wasi_deps::dependencies(&granted);
        for (import, access) in reached {
            let parsed = InterfaceName::parse(import);
            let granted_here = match &parsed {
                Some(n) => granted.contains(n),
                None => granted_plain(import),
            };
            if granted_here {
                continue;
            }
            let functions: BTreeSet<&str> = match access {
                crate::reach::Access::Whole => host_functions
                    .get(import)
                    .into_iter()
                    .flatten()
                    .map(String::as_str)
                    .collect(),
                crate::reach::Access::Functions(f) => f.iter().map(String::as_str).collect(),
            };
            let known = parsed
                .as_ref()
                .filter(|n| deps.via(n).is_some())
                .and_then(wasi_deps::known);
            let problem = match known {
                // A type dependency: only what acts on handles it already holds.
                Some(k) => {
                    let authority: Vec<&str> = functions
                        .iter()
                        .copied()
                        .filter(|f| k.ambient.contains(*f) || !k.functions.contains(*f))
                        .collect();
                    if authority.is_empty() {
                        continue;
                    }
                    format!(
                        "reaches `{import}` from the host, a type dependency of its grants, \
                         with functions that carry authority: {}",
                        authority.join(", ")
                    )
                }
                None => format!(
                    "reaches `{import}` from the host ({}), which its grants do not permit",
                    if functions.is_empty() {
                        "no functions".to_string()
                    } else {
                        functions.into_iter().collect::<Vec<_>>().join(", ")
                    }
                ),
            };
            violations.insert(ReachViolation {
                instance: name.clone(),
                problem,
            });
        }
    }
    for inst in &spec.instances {
        if !seen.contains(inst.name.as_str()) {
            violations.insert(ReachViolation {
                instance: inst.name.clone(),
                problem: "is not instantiated in the output".into(),
            });
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(VerifyError::BeyondGrants(violations.into_iter().collect()))
    }
}
