//! Airlock's core: compose WebAssembly components into one component whose
//! only imports are the ones a policy allows.
//!
//! One module per stage of the pipeline, in order; [`pipeline`] runs them,
//! each handing the next a value it does not edit. No command line, registry
//! client or runtime here: those are the `airlock`, `airlock-registry` and
//! `airlock-host` crates.

// load: the manifest, the spec it becomes, then each instance's component.
pub mod load;
pub mod manifest;
pub mod settings;
pub mod spec;
// inspect: what each component imports and exports.
pub mod inspect;
pub mod preview1;
pub mod verdicts;
// attenuate: the slices' interposers, kept where their library uses them.
pub mod attenuate;
// plan: every import's fate.
pub mod plan;
// virtualize: the stubs that serve denied imports.
pub mod deny;
pub mod virtualize;
// compose: the output bytes.
pub mod compose;
// verify: the output read back, independently of the plan.
mod bodies;
pub mod reach;
pub mod verify;
// report: the audit.
pub mod report;

pub mod pipeline;

// Shared by several stages.
pub mod digest;
pub mod error;
pub mod names;
pub mod nested;
pub mod normalize;
pub mod parallel;
pub mod policy;
pub mod private_dir;
pub mod provenance;
pub mod typos;
pub mod wasi_deps;

#[cfg(feature = "testkit")]
pub mod testkit;
