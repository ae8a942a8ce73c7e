//! Airlock's core: compose WebAssembly components into one component whose
//! only imports are the ones a policy allows.
//!
//! The pipeline, one module per step (see `shared/DESIGN.md`):
//! load (`manifest`, `spec`) -> inspect -> plan -> attenuate -> virtualize ->
//! compose -> verify (`reach`) -> report. [`pipeline`] runs them in order.
//!
//! No command line, registry client or runtime here: those are the `airlock`,
//! `airlock-registry` and `airlock-host` crates.

pub mod attenuate;
pub mod compose;
pub mod deny;
pub mod digest;
pub mod error;
pub mod inspect;
pub mod load;
pub mod manifest;
pub mod names;
pub mod normalize;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod preview1;
pub mod private_dir;
pub mod provenance;
pub mod reach;
pub mod report;
pub mod settings;
pub mod spec;
pub mod typos;
pub mod verdicts;
pub mod verify;
pub mod virtualize;
pub mod wasi_deps;

#[cfg(feature = "testkit")]
pub mod testkit;
