//! `cargo bench -p airlock --bench runtime`: the cost in wasmtime of
//! composing with airlock: compiling and instantiating the example app's
//! output against the `wac plug` output of the same components (section
//! `runtime`, which composes both first), and the per-call cost of one more
//! component and of a denied call (rows `call`). Options: see `harness`.

mod harness;

use airlock_core::spec::CompositionSpec;
use airlock_core::testkit::{wasi_resolve, wat};
use airlock_host::{HostConfig, HostState, Preopen, Session, engine};
use anyhow::{Context, Result};
use harness::{
    Args, ExampleApp, Table, component_path, compose, median, ms, ratio, root, us, wasi_deps,
};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker, Val};
use wasmtime::{Engine, Store};
use wit_component::{ComponentEncoder, StringEncoding};

fn main() -> Result<()> {
    harness::main("runtime", &[("runtime", runtime)])
}

fn linker(engine: &Engine) -> Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(linker)
}

fn store(engine: &Engine) -> Result<Store<HostState>> {
    Ok(Store::new(engine, HostState::new(&Default::default())?))
}

fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component> {
    Component::new(engine, bytes).map_err(|e| anyhow::anyhow!("{e:?}"))
}

/// Median compile times (no cache) and median instantiation times of two
/// components, measured alternately so that other load on the machine hits
/// both alike. Instantiation uses the project's host (`Session::instantiate`:
/// it links exactly what the component imports, then instantiates),
/// permitting files, network and HTTP.
fn compile_and_instantiate(
    engine: &Engine,
    pair: [&[u8]; 2],
    runs: usize,
) -> Result<[(Duration, Duration, Duration); 2]> {
    let mut compiles = [Vec::new(), Vec::new()];
    let mut cpu = [Vec::new(), Vec::new()];
    let mut components = [None, None];
    for _ in 0..runs.min(7) {
        for k in 0..2 {
            let (start, start_cpu) = (Instant::now(), cpu_time());
            components[k] = Some(compile(engine, pair[k])?);
            compiles[k].push(start.elapsed());
            cpu[k].push(cpu_time() - start_cpu);
        }
    }
    let config = HostConfig {
        dirs: vec![Preopen {
            host: root().join("examples/app"),
            guest: "/docs".into(),
            read_only: true,
        }],
        allow_net: true,
        allow_http: true,
        ..HostConfig::default()
    };
    let mut inst = [Vec::new(), Vec::new()];
    for _ in 0..(runs * 20) {
        for k in 0..2 {
            let component = components[k].as_ref().expect("compiled");
            let start = Instant::now();
            let session = Session::instantiate(engine, component, &config)?;
            inst[k].push(start.elapsed());
            drop(session);
        }
    }
    let [c0, c1] = compiles;
    let [u0, u1] = cpu;
    let [i0, i1] = inst;
    Ok([
        (median(c0), median(u0), median(i0)),
        (median(c1), median(u1), median(i1)),
    ])
}

/// CPU time (user + system) of this process so far, all threads: compilation
/// runs on every core, so wall time suffers from any other load on the machine.
fn cpu_time() -> Duration {
    // SAFETY: `rusage` is plain integers, for which all zeroes is valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid out-pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// The WIT and core module (text) of a component that forwards
/// `airlock:bench/fwd#mean` to `airlock:stats/stats#mean`.
const FWD_WIT: &str = r#"
package airlock:bench;
interface fwd {
  use airlock:stats/stats@0.1.0.{stats-error};
  mean: func(values: list<f64>) -> result<f64, stats-error>;
}
interface env {
  count: func() -> u32;
}
world forwarder {
  import airlock:stats/stats@0.1.0;
  export fwd;
}
world env-forwarder {
  import wasi:cli/environment@0.2.12;
  export env;
}
"#;

const REALLOC: &str = r#"
  (memory (export "memory") 4)
  (global $bump (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
    global.get $bump local.get 2 i32.add i32.const 1 i32.sub
    i32.const 0 local.get 2 i32.sub i32.and local.tee $p
    local.get 3 i32.add global.set $bump
    local.get $p)
"#;

fn fwd_module() -> String {
    format!(
        r#"(module
  (import "airlock:stats/stats@0.1.0" "mean" (func $mean (param i32 i32 i32)))
  {REALLOC}
  (func (export "airlock:bench/fwd#mean") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.const 16 call $mean
    i32.const 16)
  (func (export "cabi_post_airlock:bench/fwd#mean") (param i32)
    i32.const 1024 global.set $bump))"#
    )
}

fn env_module() -> String {
    format!(
        r#"(module
  (import "wasi:cli/environment@0.2.12" "get-environment" (func $env (param i32)))
  {REALLOC}
  (func (export "airlock:bench/env#count") (result i32)
    i32.const 1024 global.set $bump
    i32.const 16 call $env
    i32.const 20 i32.load))"#
    )
}

fn real_component(world: &str, module_wat: &str) -> Result<Vec<u8>> {
    let mut resolve = wasi_resolve(&wasi_deps())?;
    resolve.push_path(root().join("wit/stats"))?;
    let pkg = resolve.push_str("bench.wit", FWD_WIT)?;
    let world = resolve.select_world(&[pkg], Some(world))?;
    let mut module = wat(module_wat)?;
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)?;
    ComponentEncoder::default()
        .module(&module)?
        .validate(true)
        .encode()
}

/// Median time of one call of each `(component, interface, function)` with
/// `args`, in alternating batches so that other load hits both alike.
fn time_calls(
    engine: &Engine,
    targets: [(&[u8], &str, &str); 2],
    args: &[Val],
    calls: usize,
) -> Result<[Duration; 2]> {
    let mut funcs = Vec::new();
    for (bytes, interface, func) in targets {
        let component = compile(engine, bytes)?;
        let mut store = store(engine)?;
        let instance = linker(engine)?
            .instantiate(&mut store, &component)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let outer = instance
            .get_export_index(&mut store, None, interface)
            .with_context(|| format!("no export `{interface}`"))?;
        let index = instance
            .get_export_index(&mut store, Some(&outer), func)
            .with_context(|| format!("no function `{func}`"))?;
        let f = instance
            .get_func(&mut store, index)
            .context("not a function")?;
        funcs.push((store, f));
    }
    let mut results = vec![Val::Bool(false)];
    let mut samples = [Vec::new(), Vec::new()];
    // Batches of calls, median batch, per call.
    let batch = 100;
    for _ in 0..calls / batch {
        for (k, (store, f)) in funcs.iter_mut().enumerate() {
            let start = Instant::now();
            for _ in 0..batch {
                f.call(&mut *store, args, &mut results)
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            }
            samples[k].push(start.elapsed() / batch as u32);
        }
    }
    let [a, b] = samples;
    Ok([median(a), median(b)])
}

fn plugs(
    dir: &Path,
    root_bytes: &[u8],
    plug: Option<&Path>,
    allow: &[String],
    grants: &[(String, String)],
) -> Result<Vec<u8>> {
    let root_path = dir.join("root.wasm");
    std::fs::write(&root_path, root_bytes)?;
    let plugs: Vec<PathBuf> = plug.into_iter().map(Path::to_path_buf).collect();
    let spec = CompositionSpec::from_plugs(&root_path, &plugs, allow, grants, &[])?;
    Ok(compose(&spec)?.bytes)
}

fn runtime(args: &Args, table: &mut Table) -> Result<()> {
    let engine = engine();
    let work = args.work();
    let mut app = ExampleApp::new(args)?;
    app.build()?;
    let ours = std::fs::read(&app.airlock_out)?;
    let theirs = std::fs::read(&app.wac_out)?;
    let [(ca, ua, ia), (cw, uw, iw)] =
        compile_and_instantiate(&engine, [&ours, &theirs], args.runs)?;
    table.add(
        "runtime",
        "example app: compile in wasmtime (cache off), airlock output, wall",
        ms(ca),
        format!(
            "{} (goal <= 1.10x)",
            ratio(ca.as_secs_f64(), cw.as_secs_f64(), "wac output")
        ),
        json!({"airlock_s": ca.as_secs_f64(), "wac_s": cw.as_secs_f64()}),
    );
    table.add(
        "runtime",
        "example app: compile, `wac plug` output, wall",
        ms(cw),
        String::new(),
        json!({"wac_s": cw.as_secs_f64()}),
    );
    table.add(
        "runtime",
        "example app: compile, airlock output, CPU time (all threads)",
        ms(ua),
        format!(
            "{} (`wac plug` output: {})",
            ratio(ua.as_secs_f64(), uw.as_secs_f64(), "wac output"),
            ms(uw)
        ),
        json!({"airlock_cpu_s": ua.as_secs_f64(), "wac_cpu_s": uw.as_secs_f64()}),
    );
    table.add(
        "runtime",
        "example app: instantiate, airlock output",
        us(ia),
        format!(
            "{} (goal <= 1.05x)",
            ratio(ia.as_secs_f64(), iw.as_secs_f64(), "wac output")
        ),
        json!({"airlock_s": ia.as_secs_f64(), "wac_s": iw.as_secs_f64()}),
    );
    table.add(
        "runtime",
        "example app: instantiate, `wac plug` output",
        us(iw),
        String::new(),
        json!({"wac_s": iw.as_secs_f64()}),
    );

    // A cross-component call: host -> forwarder -> stats, vs host -> stats.
    let stats = std::fs::read(component_path("stats"))?;
    let fwd = real_component("forwarder", &fwd_module())?;
    let composed = plugs(&work, &fwd, Some(&component_path("stats")), &[], &[])?;
    let list = |n: usize| Val::List((0..n).map(|i| Val::Float64(i as f64)).collect());
    let calls = 5000;
    for (n, label) in [
        (1000, "stats.mean, 1000 values"),
        (0, "stats.mean, empty list (near no-op)"),
    ] {
        let args = [list(n)];
        let [direct, through] = time_calls(
            &engine,
            [
                (&stats, "airlock:stats/stats@0.1.0", "mean"),
                (&composed, "airlock:bench/fwd", "mean"),
            ],
            &args,
            calls,
        )?;
        table.add(
            "call",
            &format!("{label}: through one more component"),
            us(through),
            format!(
                "{} the stats component alone ({}); +{:.2} µs",
                ratio(through.as_secs_f64(), direct.as_secs_f64(), ""),
                us(direct),
                (through.as_secs_f64() - direct.as_secs_f64()) * 1e6
            ),
            json!({"through_s": through.as_secs_f64(), "direct_s": direct.as_secs_f64()}),
        );
    }

    // A denied call (served inside the output) vs the same call served by the host.
    let env = real_component("env-forwarder", &env_module())?;
    let denied = plugs(&work, &env, None, &[], &[])?;
    let allow = vec!["wasi:cli/environment@0.2".to_string()];
    let granted = plugs(&work, &env, None, &allow, &[])?;
    let [d, g] = time_calls(
        &engine,
        [
            (&denied, "airlock:bench/env", "count"),
            (&granted, "airlock:bench/env", "count"),
        ],
        &[],
        calls,
    )?;
    table.add(
        "call",
        "denied wasi:cli/environment.get-environment (empty list, in-output)",
        us(d),
        format!(
            "{} the host's (empty) environment ({})",
            ratio(d.as_secs_f64(), g.as_secs_f64(), ""),
            us(g)
        ),
        json!({"denied_s": d.as_secs_f64(), "host_s": g.as_secs_f64()}),
    );
    Ok(())
}
