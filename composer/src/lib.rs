//! Airlock: compose WebAssembly components into one component whose only
//! imports are the ones a policy allows.
//!
//! The pipeline, one module per step (see `shared/DESIGN.md`):
//! load (`manifest`) -> inspect -> plan -> virtualize -> compose -> verify -> report.

pub mod attenuate;
pub mod cli;
pub mod compose;
pub mod deny;
pub mod error;
#[cfg(feature = "host")]
pub mod host;
pub mod inspect;
pub mod lock;
pub mod manifest;
pub mod names;
pub mod normalize;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod preview1;
pub mod provenance;
pub mod reach;
pub mod registry;
pub mod report;
pub mod settings;
pub mod spec;
pub mod typos;
pub mod verify;
pub mod virtualize;
pub mod wasi_deps;

#[cfg(feature = "testkit")]
pub mod testkit;
