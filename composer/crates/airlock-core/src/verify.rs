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

use crate::bodies::{BodyPool, Queue};
use crate::names::InterfaceName;
use crate::policy::PatternSet;
use crate::spec::CompositionSpec;
use crate::wasi_deps;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use wasmparser::component_types::ComponentEntityType;

/// Validates a component with every feature wasmparser knows. Like
/// `Validator::validate_all`, but function bodies (most of the work) are
/// checked on every core; the error reported is the first in function order.
pub fn validate(bytes: &[u8]) -> Result<(), String> {
    validate_component(bytes).map(drop)
}

/// A component that validated: its top-level types, and its import names in order.
struct Validated {
    types: wasmparser::types::Types,
    imports: Vec<String>,
}

/// [`validate`], keeping what the validator learned about the top level.
///
/// Function bodies are validated on the other cores while this thread reads
/// the structure ([`crate::bodies`]), each module's as it ends, never all at
/// the end: a body's validator holds the validator's view of every type
/// defined so far, and an output with thousands of nested modules kept
/// thousands of such views alive together (1.2 GiB at 1000 nested
/// instances, see `composer/benches/patches/FINDINGS.md`, prototype A).
/// A bad body is reported before a structural error later in the bytes, as
/// if the bodies had been validated in order.
fn validate_component(bytes: &[u8]) -> Result<Validated, String> {
    let queue = Queue::default();
    let structure = std::thread::scope(|scope| {
        let mut bodies = BodyPool::start(scope, &queue);
        let validated = validate_structure(bytes, &mut bodies)?;
        bodies.finish();
        Ok(validated)
    });
    queue.verdict()?;
    structure
}

/// Validates everything but the function bodies, which go to `bodies`.
fn validate_structure<'a>(
    bytes: &'a [u8],
    bodies: &mut BodyPool<'_, 'a>,
) -> Result<Validated, String> {
    use wasmparser::{Parser, Payload, ValidPayload, Validator, WasmFeatures};
    let features = WasmFeatures::all();
    let mut validator = Validator::new_with_features(features);
    let mut parser = Parser::new(0);
    parser.set_features(features);
    let mut functions = Vec::new();
    let mut imports = Vec::new();
    let mut top = None;
    // Nesting below the top level.
    let mut depth = 0usize;
    for payload in parser.parse_all(bytes) {
        let payload = payload.map_err(|e| e.to_string())?;
        if let (0, Payload::ComponentImportSection(section)) = (depth, &payload) {
            for import in section.clone() {
                imports.push(import.map_err(|e| e.to_string())?.name.name.to_string());
            }
        }
        match validator.payload(&payload).map_err(|e| e.to_string())? {
            ValidPayload::Func(func, body) => functions.push((func, body)),
            ValidPayload::Parser(_) => depth += 1,
            ValidPayload::End(types) => {
                // A module (or component) ended: its bodies, now.
                bodies.submit(std::mem::take(&mut functions));
                match depth {
                    0 => top = Some(types),
                    _ => depth -= 1,
                }
            }
            ValidPayload::Ok => {}
        }
    }
    let types = top.ok_or("unexpected end of the component")?;
    Ok(Validated { types, imports })
}

/// Why an output must not be written.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The encoded output does not validate.
    #[error("the composed output does not validate: {0}")]
    Invalid(String),
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
    // Full validation, function bodies included; the import names, whether
    // each is an instance (a WIT interface) and its functions are the
    // validator's, from the same pass.
    let Validated { types, imports } = validate_component(bytes).map_err(VerifyError::Invalid)?;
    // Import name -> the names of its functions, for an instance import.
    let imports: Vec<(String, Option<BTreeSet<String>>)> = imports
        .into_iter()
        .map(|name| {
            let functions = match types.component_item_for_import(&name).map(|i| &i.ty) {
                // A bare function import: one function of that name.
                Some(ComponentEntityType::Func(_)) => Some(BTreeSet::from([name.clone()])),
                Some(ComponentEntityType::Instance(id)) => Some(
                    types[*id]
                        .exports
                        .iter()
                        .filter(|(_, item)| matches!(item.ty, ComponentEntityType::Func(_)))
                        .map(|(f, _)| f.clone())
                        .collect(),
                ),
                _ => None,
            };
            (name, functions)
        })
        .collect();

    let mut verdicts = BTreeMap::new();
    let mut listed = Vec::new();
    for (name, functions) in &imports {
        let parsed = InterfaceName::parse(name);
        if let (Some(n), Some(_)) = (&parsed, functions)
            && let Some(p) = allow.find(n)
        {
            verdicts.insert(name.to_string(), format!("allowed by `{p}`"));
            listed.push(n.clone());
        } else if parsed.is_none()
            && functions.is_some()
            && let Some(p) = allow.find_exact(name)
        {
            // A plain name (bare function, inline interface): by its exact name only.
            verdicts.insert(name.to_string(), format!("allowed by `{p}`"));
        }
    }
    // Type dependencies come from WASI's own WIT (compiled in), never from the
    // output's declared types, which its components wrote themselves.
    let deps = wasi_deps::dependencies(&listed);
    let mut outside = Vec::new();
    for (name, functions) in &imports {
        if verdicts.contains_key(name) {
            continue;
        }
        let via = match (functions, InterfaceName::parse(name)) {
            // On the vendored track only: `wasi:io/streams@0.3.0-rc-…` is
            // never a dependency of `wasi:cli/stdout@0.2.6`.
            (Some(_), Some(n)) => deps.via(&n),
            _ => None,
        };
        match via {
            Some(via) => {
                verdicts.insert(name.to_string(), format!("type dependency of `{via}`"));
            }
            None => outside.push(name.to_string()),
        }
    }
    if !outside.is_empty() {
        return Err(VerifyError::OutsideAllowList(outside));
    }
    let functions = imports
        .into_iter()
        .filter_map(|(name, functions)| Some((name, functions?)))
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

#[cfg(test)]
mod tests {
    use super::validate;

    /// `count` modules, nested in components, each with `bodies` functions;
    /// the function `bad` of module `bad_module` returns an i64 where its
    /// type says i32.
    fn nested(count: usize, bodies: usize, bad_module: Option<usize>) -> Vec<u8> {
        let mut text = String::from("(component\n");
        for m in 0..count {
            text += "  (component (core module\n";
            for f in 0..bodies {
                let value = match (bad_module == Some(m), f == bodies - 1) {
                    (true, true) => "(i64.const 0)",
                    _ => "(i32.const 0)",
                };
                text += &format!("    (func (result i32) {value})\n");
            }
            text += "  ))\n";
        }
        text += ")";
        wat::parse_str(&text).unwrap()
    }

    /// Bodies are validated module by module, in batches on every core: a
    /// bad body is found wherever it is, in a batch of its own or among
    /// many, and only there.
    #[test]
    fn every_nested_body_is_validated_inline_and_in_parallel() {
        // One batch per module, and three (the bad body in the last).
        for bodies in [3, 100, 300] {
            assert_eq!(validate(&nested(20, bodies, None)), Ok(()));
            for bad in [0, 7, 19] {
                let err = validate(&nested(20, bodies, Some(bad))).unwrap_err();
                assert!(
                    err.contains("type mismatch"),
                    "{bodies} bodies, module {bad}: {err}"
                );
            }
        }
    }

    /// A module of `bodies` functions; the last one returns `result` where
    /// its type says i32.
    fn module(bodies: usize, result: &str) -> String {
        let mut text = String::from("  (component (core module\n");
        for f in 0..bodies {
            let value = if f + 1 == bodies {
                result
            } else {
                "(i32.const 0)"
            };
            text += &format!("    (func (result i32) {value})\n");
        }
        text + "  ))\n"
    }

    /// Two imports of one name: wrong in the structure, not in a body.
    const STRUCTURE_ERROR: &str = "  (component (import \"a\" (func)) (import \"a\" (func)))\n";

    /// Whichever thread gets to it first, the error reported is the one
    /// validating in order would report: a bad body before a structural
    /// error later in the bytes, the structural error before a bad body
    /// after it, and of two bad bodies the earlier.
    #[test]
    fn the_first_error_in_the_bytes_is_the_one_reported() {
        let bad = |t: &str| module(300, &format!("({t}.const 0)"));
        let component =
            |parts: &[String]| wat::parse_str(format!("(component\n{})", parts.concat())).unwrap();
        let good = module(300, "(i32.const 0)");
        let structure = STRUCTURE_ERROR.to_string();
        for _ in 0..20 {
            let body_first = validate(&component(&[good.clone(), bad("i64"), structure.clone()]));
            assert!(
                body_first.as_ref().unwrap_err().contains("type mismatch"),
                "{body_first:?}"
            );
            let structure_first = validate(&component(&[structure.clone(), bad("i64")]));
            assert!(
                structure_first.as_ref().unwrap_err().contains("conflicts"),
                "{structure_first:?}"
            );
            let two = validate(&component(&[bad("f32"), good.clone(), bad("i64")]));
            assert!(two.as_ref().unwrap_err().contains("f32"), "{two:?}");
        }
    }
}
