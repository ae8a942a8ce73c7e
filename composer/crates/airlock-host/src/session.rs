//! One instantiated component in its own store: link what it imports and the
//! config permits, instantiate, then call its exports (library components) or
//! run it (`run`).

use super::block::block_on;
use super::config::HostConfig;
use super::imports;
use super::link::Provided;
use super::record;
use super::state::{HostState, to_anyhow};
use anyhow::{Context, Result, anyhow, bail};
use std::collections::{BTreeMap, BTreeSet};
use wasmtime::component::{Component, Func, Instance, Linker, Val};
use wasmtime::{Engine, Store};

/// A component instance with the host state it runs against.
pub struct Session {
    engine: Engine,
    component: Component,
    store: Store<HostState>,
    instance: Instance,
}

impl Session {
    /// Compiles `component_bytes` and instantiates it (see [`Session::instantiate`]).
    pub fn new(engine: &Engine, component_bytes: &[u8], config: &HostConfig) -> Result<Self> {
        let component = compile(engine, component_bytes)?;
        Self::instantiate(engine, &component, config)
    }

    /// Links the interfaces that `component` imports and `config` permits, then
    /// instantiates. Fails with [`imports::UnsatisfiedImports`] (listing every
    /// import the host will not provide) before instantiating anything.
    /// Instantiation is async underneath (WASI 0.3 host functions are async),
    /// driven by [`block_on`].
    pub fn instantiate(
        engine: &Engine,
        component: &Component,
        config: &HostConfig,
    ) -> Result<Self> {
        let plan = imports::plan(engine, component, config)?;
        let linker = linker(engine, &plan)
            .map_err(to_anyhow)
            .context("linking the host")?;
        let mut store = Store::new(engine, HostState::new(config)?);
        let instance = block_on(linker.instantiate_async(&mut store, component))
            .map_err(to_anyhow)
            .context("instantiating the component")?;
        Ok(Self {
            engine: engine.clone(),
            component: component.clone(),
            store,
            instance,
        })
    }

    /// The exported function `func` of the exported instance `interface`
    /// (`None`: a function exported at the top level). `interface` may omit the
    /// version (`test:lib/math` finds `test:lib/math@1.0.0`).
    pub fn func(&mut self, interface: Option<&str>, func: &str) -> Result<Func> {
        let index = match interface {
            None => self.instance.get_export_index(&mut self.store, None, func),
            Some(interface) => {
                let name = self.export_name(interface)?;
                let outer = self
                    .instance
                    .get_export_index(&mut self.store, None, &name)
                    .ok_or_else(|| anyhow!("the component does not export `{name}`"))?;
                self.instance
                    .get_export_index(&mut self.store, Some(&outer), func)
            }
        };
        let what = match interface {
            Some(i) => format!("`{i}#{func}`"),
            None => format!("`{func}`"),
        };
        let index = index.ok_or_else(|| anyhow!("the component does not export {what}"))?;
        self.instance
            .get_func(&mut self.store, index)
            .ok_or_else(|| anyhow!("the export {what} is not a function"))
    }

    /// Calls an exported function with `args` and returns its results. A trap
    /// is an error whose chain includes the wasm backtrace.
    ///
    /// The call goes through `call_async` (driven by [`block_on`]), so it may
    /// suspend: an async-lifted export, an async call from one component of a
    /// composition to another, a WASI 0.3 host function (wasmtime's sync
    /// `call` refuses the first and panics on the second).
    pub fn call_export(
        &mut self,
        interface: Option<&str>,
        func: &str,
        args: &[Val],
    ) -> Result<Vec<Val>> {
        let f = self.func(interface, func)?;
        let mut results = vec![Val::Bool(false); f.ty(&self.store).results().len()];
        block_on(f.call_async(&mut self.store, args, &mut results))
            .map_err(to_anyhow)
            .with_context(|| format!("calling `{func}`"))?;
        Ok(results)
    }

    /// The full export name for `interface`, which may omit the version.
    pub fn export_name(&self, interface: &str) -> Result<String> {
        let exports: Vec<String> = self
            .component
            .component_type()
            .exports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        if exports.iter().any(|e| e == interface) {
            return Ok(interface.to_string());
        }
        let matches: Vec<&String> = exports
            .iter()
            .filter(|e| e.split_once('@').is_some_and(|(path, _)| path == interface))
            .collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => bail!(
                "the component does not export `{interface}`; it exports {}",
                list(&exports)
            ),
            many => bail!(
                "`{interface}` is ambiguous; the component exports {}",
                list(many)
            ),
        }
    }

    /// Calls served so far by the recorded functions, by `interface#function`.
    pub fn calls(&self) -> &BTreeMap<String, u64> {
        self.store.data().calls()
    }

    /// Captured standard output so far.
    pub fn stdout(&self) -> Vec<u8> {
        self.store.data().stdout()
    }

    /// Captured standard error so far.
    pub fn stderr(&self) -> Vec<u8> {
        self.store.data().stderr()
    }

    /// The store, for typed calls (`instance().get_typed_func(store_mut(), ..)`;
    /// use `call_async` with [`block_on`] where the call may suspend).
    pub fn store_mut(&mut self) -> &mut Store<HostState> {
        &mut self.store
    }

    /// The instance.
    pub fn instance(&self) -> Instance {
        self.instance
    }
}

/// Compiles a component with the shared engine's settings.
pub fn compile(engine: &Engine, component_bytes: &[u8]) -> Result<Component> {
    Component::new(engine, component_bytes)
        .map_err(to_anyhow)
        .context("compiling the component")
}

/// A linker with exactly the planned interfaces and the call recorders.
fn linker(engine: &Engine, plan: &[&'static Provided]) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    for provided in plan {
        (provided.link)(&mut linker)?;
    }
    let linked: BTreeSet<_> = plan.iter().map(|p| (p.name, p.track)).collect();
    record::add_recorders(&mut linker, &linked)?;
    Ok(linker)
}

fn list<S: AsRef<str>>(names: &[S]) -> String {
    if names.is_empty() {
        return "nothing".into();
    }
    names
        .iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}
