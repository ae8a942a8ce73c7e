//! Running a command component (`wasi:cli/run`, WASI 0.2 or 0.3) to completion.

use super::block::block_on;
use super::config::HostConfig;
use super::session::{Session, compile};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime_wasi::I32Exit;

/// The exit code of a run that trapped (128 + SIGABRT, as the wasmtime CLI uses on Unix).
pub const TRAP_EXIT_CODE: i32 = 134;

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOutcome {
    /// 0 when `run` returned `ok`, 1 for `err`, the code given to `wasi:cli/exit`,
    /// or [`TRAP_EXIT_CODE`] after a trap.
    pub exit_code: i32,
    /// Captured standard output (empty unless `Output::Capture`).
    pub stdout: Vec<u8>,
    /// Captured standard error (empty unless `Output::Capture`).
    pub stderr: Vec<u8>,
    /// Calls served by the recorded functions, e.g.
    /// `wasi:cli/environment#get-environment` -> 2 (see [`super::RECORDED`]).
    pub calls: BTreeMap<String, u64>,
    /// The trap or host error that ended the run: the full error chain and the
    /// wasm backtrace (function names from the name section).
    pub trap: Option<String>,
}

/// Compiles, links (only what is imported and permitted), instantiates and runs
/// the `wasi:cli/run` export of a command component: `wasi:cli/run@0.2.x`
/// (`run: func() -> result`) or `wasi:cli/run@0.3.x` (`run: async func() -> result`). Errors are for things that
/// stop it from starting (invalid component, unsatisfied imports, no `run`);
/// what happens while it runs is in the outcome.
pub fn run_command(
    engine: &Engine,
    component_bytes: &[u8],
    config: &HostConfig,
) -> Result<RunOutcome> {
    let component = compile(engine, component_bytes)?;
    run_component(engine, &component, config)
}

/// [`run_command`] for an already compiled component.
pub fn run_component(
    engine: &Engine,
    component: &Component,
    config: &HostConfig,
) -> Result<RunOutcome> {
    Session::instantiate(engine, component, config)?.run()
}

impl Session {
    /// Calls the `run` function of the `wasi:cli/run` export (0.2 or 0.3; with
    /// `call_async`, so an async `run` may wait) and collects the outcome.
    pub fn run(mut self) -> Result<RunOutcome> {
        let func = self
            .func(Some("wasi:cli/run"), "run")
            .context("the component is not a command")?;
        let run = func
            .typed::<(), (Result<(), ()>,)>(self.store_mut())
            .map_err(super::state::to_anyhow)
            .context("`wasi:cli/run#run` has an unexpected type")?;
        let (exit_code, trap) = match block_on(run.call_async(self.store_mut(), ())) {
            Ok((Ok(()),)) => (0, None),
            Ok((Err(()),)) => (1, None),
            Err(e) => match exit_status(&e) {
                Some(code) => (code, None),
                None => (TRAP_EXIT_CODE, Some(format!("{e:?}"))),
            },
        };
        Ok(RunOutcome {
            exit_code,
            stdout: self.stdout(),
            stderr: self.stderr(),
            calls: self.calls().clone(),
            trap,
        })
    }
}

/// The status passed to `wasi:cli/exit`, if that is what ended the run.
fn exit_status(e: &wasmtime::Error) -> Option<i32> {
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        return Some(exit.0);
    }
    e.chain()
        .find_map(|c| c.downcast_ref::<I32Exit>())
        .map(|exit| exit.0)
}
