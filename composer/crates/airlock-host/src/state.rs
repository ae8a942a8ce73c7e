//! The store data: WASI and WASI-HTTP contexts built from a [`HostConfig`],
//! one resource table, and the call counts.

use super::config::{HostConfig, Output, Stdin};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// What a `Store` holds for one guest.
pub struct HostState {
    pub(super) wasi: WasiCtx,
    pub(super) http: WasiHttpCtx,
    pub(super) table: ResourceTable,
    pub(super) calls: BTreeMap<String, u64>,
    pub(super) stdout: Option<MemoryOutputPipe>,
    pub(super) stderr: Option<MemoryOutputPipe>,
}

impl HostState {
    /// Builds the contexts; fails when a preopened directory cannot be opened.
    pub fn new(config: &HostConfig) -> Result<Self> {
        let mut b = WasiCtxBuilder::new();
        b.allow_blocking_current_thread(true);
        b.args(&config.args);
        b.envs(&config.env);
        for key in &config.inherit_env {
            if let Ok(value) = std::env::var(key) {
                b.env(key, value);
            }
        }
        match &config.stdin {
            Stdin::Empty => {}
            Stdin::Inherit => {
                b.inherit_stdin();
            }
            Stdin::Bytes(bytes) => {
                b.stdin(MemoryInputPipe::new(bytes.clone()));
            }
        }
        let stdout = match config.stdout {
            Output::Capture => Some(capture()),
            Output::Inherit => {
                b.inherit_stdout();
                None
            }
            Output::Discard => None,
        };
        if let Some(pipe) = &stdout {
            b.stdout(pipe.clone());
        }
        let stderr = match config.stderr {
            Output::Capture => Some(capture()),
            Output::Inherit => {
                b.inherit_stderr();
                None
            }
            Output::Discard => None,
        };
        if let Some(pipe) = &stderr {
            b.stderr(pipe.clone());
        }
        for dir in &config.dirs {
            let perms = if dir.read_only {
                FsPerms::ReadOnly
            } else {
                FsPerms::ReadWrite
            };
            b.preopened_dir(&dir.host, &dir.guest, perms)
                .map_err(to_anyhow)
                .with_context(|| format!("opening directory `{}`", dir.host.display()))?;
        }
        if config.allow_net {
            b.inherit_network()
                .allow_tcp(true)
                .allow_udp(true)
                .allow_ip_name_lookup(true);
        }
        Ok(Self {
            wasi: b.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            calls: BTreeMap::new(),
            stdout,
            stderr,
        })
    }

    /// Counts one call of `function` (`interface#function`, no version).
    pub fn record(&mut self, function: &str) {
        *self.calls.entry(function.to_string()).or_default() += 1;
    }

    /// Calls served so far, by `interface#function`.
    pub fn calls(&self) -> &BTreeMap<String, u64> {
        &self.calls
    }

    /// Captured standard output so far (empty unless captured).
    pub fn stdout(&self) -> Vec<u8> {
        self.stdout
            .as_ref()
            .map(|p| p.contents().to_vec())
            .unwrap_or_default()
    }

    /// Captured standard error so far (empty unless captured).
    pub fn stderr(&self) -> Vec<u8> {
        self.stderr
            .as_ref()
            .map(|p| p.contents().to_vec())
            .unwrap_or_default()
    }
}

/// An in-memory pipe without a practical limit.
fn capture() -> MemoryOutputPipe {
    MemoryOutputPipe::new(usize::MAX)
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: Default::default(),
        }
    }
}

/// wasmtime 48 has its own error type; this keeps its chain (causes, wasm backtrace).
pub(super) fn to_anyhow(e: wasmtime::Error) -> anyhow::Error {
    anyhow::Error::from_boxed(e.into_boxed_dyn_error())
}
