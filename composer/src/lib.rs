//! Airlock: compose WebAssembly components into one component whose only
//! imports are the ones a policy allows.
//!
//! The pipeline, one module per step (see `shared/DESIGN.md`):
//! load (`manifest`) -> inspect -> plan -> virtualize -> compose -> verify -> report.
