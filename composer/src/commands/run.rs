//! `airlock run`: run a command component (WASI 0.2 or 0.3) with a host that
//! links only what the flags permit, like `wasmtime run`, with a cache of
//! compiled components.

use airlock_core::inspect::InspectError;
use airlock_host::{CacheUse, CompileCache, Component, Engine, HostConfig, Preopen};
use anyhow::{Context, Result, bail};
use clap::Args;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Arguments of `airlock run`.
#[derive(Debug, Args)]
#[command(after_help = "\
As `wasmtime run` does, the host links every WASI interface the component
imports (and nothing it does not import): stdio, clocks, random, wasi:io and
exit as they are; the environment empty (add to it with --env); the
filesystem with no directories (--dir, --dir-ro); sockets with every address
refused (--allow-net). wasi:http needs --allow-http. The same for WASI 0.2
and 0.3 commands (`wasi:cli/run@0.2.x`, `wasi:cli/run@0.3.x`). Imports the
host cannot provide are listed in one error before anything runs.
Arguments after APP.wasm are the component's; flags of `airlock run` go
before them (or before `--`).

Compiled code is cached (--no-cache: not) in $AIRLOCK_CACHE_DIR/compiled,
else $XDG_CACHE_HOME/airlock/compiled, else ~/.cache/airlock/compiled.

Examples:
  airlock run hello.wasm
  airlock run app.wasm --verbose input.txt
  airlock run --env HOME --env LANG=C app.wasm --verbose input.txt
  airlock run --dir ./data::/data --dir-ro ./config::/etc/app app.wasm
  airlock run --allow-http fetch.wasm https://example.com

Exit code: the component's (0 ok, 1 if `run` returned an error, N from
wasi:cli/exit), 134 if it trapped, 1 if it could not start.")]
pub struct RunArgs {
    /// The command component to run; it must export `wasi:cli/run` (WASI 0.2 or 0.3).
    #[arg(value_name = "APP.wasm")]
    pub component: PathBuf,
    /// Preopen host directory HOST, read-write, as GUEST (default: HOST as given).
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub dirs: Vec<String>,
    /// Preopen host directory HOST, read-only, as GUEST (default: HOST as given).
    #[arg(long = "dir-ro", value_name = "HOST[::GUEST]")]
    pub dirs_read_only: Vec<String>,
    /// Set an environment variable: KEY=VALUE, or KEY to pass the host's value (skipped if unset).
    #[arg(long = "env", value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,
    /// Open the network to wasi:sockets (TCP, UDP, name lookup; any address).
    #[arg(long)]
    pub allow_net: bool,
    /// Permit outgoing HTTP (wasi:http/outgoing-handler, 0.3's wasi:http/client, wasi:http/types).
    #[arg(long)]
    pub allow_http: bool,
    /// Compile from scratch; neither read nor write the compilation cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Arguments for the component (after APP.wasm, or after `--`); its argv[0] is the file name.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

/// Runs `airlock run`; returns the process exit code. A trap is printed to
/// stderr with its wasm backtrace.
pub fn run(args: RunArgs) -> Result<i32> {
    let path = &args.component;
    let config = config(&args)?;
    let bytes = std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
    // A wasip1 program runs as `wasmtime run` runs it: adapted first.
    if let Some(note) = airlock_core::preview1::note(path) {
        eprintln!("{note}");
    }
    let bytes = airlock_core::inspect::adapt_preview1(bytes, path)?;
    // What `inspect` says about a core module or a file that is not wasm,
    // rather than wasmtime's parser error.
    if wasmparser::Parser::is_core_wasm(&bytes) {
        bail!(InspectError::CoreModule { path: path.clone() });
    }
    if !wasmparser::Parser::is_component(&bytes) {
        bail!(InspectError::NotWasm { path: path.clone() });
    }
    let engine = airlock_host::engine();
    let component = load(&engine, &bytes, path, !args.no_cache)
        .with_context(|| format!("running `{}`", path.display()))?;
    let outcome = airlock_host::run_component(&engine, &component, &config)
        .with_context(|| format!("running `{}`", path.display()))?;
    if let Some(trap) = &outcome.trap {
        eprintln!("error: `{}` trapped: {trap}", path.display());
    }
    Ok(outcome.exit_code)
}

/// The compiled component: from the cache when `use_cache` and it holds a
/// valid entry, else compiled (with a progress line on a terminal) and stored.
/// A cache that cannot be used is a warning, never an error.
fn load(engine: &Engine, bytes: &[u8], path: &Path, use_cache: bool) -> Result<Component> {
    let cache = match airlock_host::default_cache_dir().filter(|_| use_cache) {
        None => None,
        Some(dir) => match CompileCache::open(&dir) {
            Ok(cache) => Some(cache),
            Err(e) => {
                eprintln!(
                    "warning: not using the compilation cache (--no-cache: do not try): {e:#}"
                );
                None
            }
        },
    };
    let compile = || compile_with_progress(engine, bytes, path);
    let (component, used) = airlock_host::compile_cached(engine, bytes, cache.as_ref(), compile)?;
    match used {
        Some(CacheUse::NotStored(reason)) => {
            eprintln!("warning: the compiled component was not cached: {reason}");
        }
        Some(CacheUse::Replaced(reason)) => {
            eprintln!("warning: a cached compilation was discarded ({reason}) and replaced");
        }
        _ => {}
    }
    Ok(component)
}

/// How long compiling may take before the progress line shows.
const PROGRESS_AFTER: Duration = Duration::from_secs(1);

/// Compiles; when that takes longer than [`PROGRESS_AFTER`] and stderr is a
/// terminal, shows `compiling X (N MB)…` on stderr until it is done, then
/// clears the line.
fn compile_with_progress(engine: &Engine, bytes: &[u8], path: &Path) -> Result<Component> {
    if !std::io::stderr().is_terminal() {
        return airlock_host::compile(engine, bytes);
    }
    let line = progress_line(path, bytes.len());
    let (done, finished) = mpsc::channel::<()>();
    let progress = std::thread::spawn(move || {
        if finished.recv_timeout(PROGRESS_AFTER) == Err(mpsc::RecvTimeoutError::Timeout) {
            eprint!("{line}");
            let _ = finished.recv();
            // Carriage return, erase the line: the program's output starts clean.
            eprint!("\r\x1b[2K");
        }
    });
    let compiled = airlock_host::compile(engine, bytes);
    drop(done);
    let _ = progress.join();
    compiled
}

/// `compiling app.wasm (20.3 MB)…`
fn progress_line(path: &Path, len: usize) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    format!("compiling {name} ({:.1} MB)…", len as f64 / 1e6)
}

/// The host config the flags describe.
pub fn config(args: &RunArgs) -> Result<HostConfig> {
    let program = args
        .component
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.component.display().to_string());
    let mut config = HostConfig::command(program);
    config.args.extend(args.args.iter().cloned());
    for spec in &args.env {
        match spec.split_once('=') {
            Some(("", _)) => bail!("`--env {spec}`: the variable name is empty"),
            Some((key, value)) => config.env.push((key.into(), value.into())),
            None => config.inherit_env.push(spec.clone()),
        }
    }
    let dirs = args.dirs.iter().map(|d| (d, false));
    let read_only = args.dirs_read_only.iter().map(|d| (d, true));
    for (spec, read_only) in dirs.chain(read_only) {
        let (host, guest) = match spec.split_once("::") {
            Some((host, guest)) => (host, guest),
            None => (spec.as_str(), spec.as_str()),
        };
        if host.is_empty() || guest.is_empty() {
            bail!("`--dir {spec}`: expected HOST or HOST::GUEST");
        }
        let host = PathBuf::from(host);
        if !host.is_dir() {
            bail!("`--dir {spec}`: `{}` is not a directory", host.display());
        }
        config.dirs.push(Preopen {
            host,
            guest: guest.into(),
            read_only,
        });
    }
    config.allow_net = args.allow_net;
    config.allow_http = args.allow_http;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_names_the_file_and_its_size() {
        assert_eq!(
            progress_line(Path::new("target/airlock/app.wasm"), 20_345_678),
            "compiling app.wasm (20.3 MB)…"
        );
        assert_eq!(
            progress_line(Path::new("hello.wasm"), 64_477),
            "compiling hello.wasm (0.1 MB)…"
        );
    }
}
