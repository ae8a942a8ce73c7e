//! The wasmtime host behind `airlock run` and the end-to-end tests.
//!
//! It links ONLY the WASI interfaces that a component imports AND that the
//! [`HostConfig`] permits, interface by interface, so a forbidden import that
//! slipped through a composition fails loudly before anything runs
//! ([`UnsatisfiedImports`] lists every such import and the flag that would permit it).
//! `airlock run` starts from [`HostConfig::command`], which links the filesystem
//! and sockets when imported but empty (no preopens, no network), as `wasmtime run` does.
//! Calls to the entry points that yield authority (environment, preopens,
//! sockets, outgoing HTTP) are counted ([`RunOutcome::calls`], [`Session::calls`]).
//!
//! One file per job:
//! - `block`: [`block_on`], which drives wasmtime's async instantiation and
//!   calls (component-model async, WASI 0.3) from synchronous code;
//! - `engine`: the one shared [`Engine`] per process;
//! - `cache`: compiled components on disk, checked before they are loaded ([`CompileCache`]);
//! - `config`: what the user permits ([`HostConfig`]);
//! - `imports`: which imports the host will provide, and the error for those it will not;
//! - `link`: the table of interfaces wasmtime-wasi provides (WASI 0.2 and 0.3),
//!   linked one by one;
//! - `record`: counting wrappers around the authority-yielding functions;
//! - `state`: the store data (WASI contexts, resource table, call counts);
//! - `session`: instantiate a component and call its exports;
//! - `run`: run a command component (`wasi:cli/run`, 0.2 or 0.3) to completion ([`run_command`]).

mod block;
mod cache;
mod config;
mod engine;
mod imports;
mod link;
mod record;
mod run;
mod session;
mod state;

pub use block::block_on;
pub use cache::{CacheUse, CompileCache, Lookup, compile_cached, default_dir as default_cache_dir};
pub use config::{HostConfig, Output, Preopen, Stdin};
pub use engine::engine;
pub use imports::{Reason, UnsatisfiedImport, UnsatisfiedImports};
pub use link::{HOST_WASI_P3_VERSION, HOST_WASI_VERSION};
pub use record::{RECORDED, RECORDED_P3};
pub use run::{RunOutcome, TRAP_EXIT_CODE, run_command, run_component};
pub use session::{Session, compile};
pub use state::HostState;

pub use wasmtime::Engine;
pub use wasmtime::component::{Component, Val};
