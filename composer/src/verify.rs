//! Step 6: re-read the OUTPUT bytes, independently of the plan: the component
//! validates, and every import is inside the allow-list. An interface that is
//! not itself listed is accepted only when WASI's own WIT (compiled into the
//! composer, see `wasi_deps`) says a listed WASI interface uses its types, e.g.
//! `wasi:io/streams` under an allowed `wasi:cli/stdout`, or
//! `wasi:clocks/wall-clock` under `wasi:filesystem/types` (its `datetime`):
//! the host must provide those for the listed interface's types to line up.

use crate::names::InterfaceName;
use crate::policy::PatternSet;
use crate::wasi_deps;
use serde::Serialize;
use std::collections::BTreeMap;
use wit_parser::WorldItem;

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
}

/// Each output import and why it is permitted.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct VerifiedImports(pub BTreeMap<String, String>);

/// Checks the output bytes against the allow-list.
pub fn check_output(bytes: &[u8], allow: &PatternSet) -> Result<VerifiedImports, VerifyError> {
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
            listed.push(n.unversioned());
        }
    }
    // Type dependencies come from WASI's own WIT (compiled in), never from the
    // output's declared types, which its components wrote themselves.
    let deps = wasi_deps::closure(listed.iter().map(String::as_str));
    let mut outside = Vec::new();
    for (key, item) in imports {
        let name = resolve.name_world_key(key);
        if verdicts.contains_key(&name) {
            continue;
        }
        let via = match (item, InterfaceName::parse(&name)) {
            (WorldItem::Interface { .. }, Some(n)) if n.is_wasi() => deps.get(&n.unversioned()),
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
    Ok(VerifiedImports(verdicts))
}
