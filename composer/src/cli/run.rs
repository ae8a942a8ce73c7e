//! `airlock run`: run a command component with a host that links only what the
//! flags permit.

use crate::host::{self, HostConfig, Preopen};
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `airlock run`.
#[derive(Debug, Args)]
#[command(after_help = "\
The host links only the WASI interfaces the component imports and the flags permit:
stdio, wasi:io, clocks, random, environment and exit always; wasi:filesystem with
--dir; wasi:sockets with --allow-net; wasi:http with --allow-http. Any other import
is an error that lists every such import before anything runs.

Examples:
  airlock run app.wasm
  airlock run app.wasm --env HOME --env LANG=C -- --verbose input.txt
  airlock run app.wasm --dir ./data::/data --dir-ro ./config::/etc/app
  airlock run fetch.wasm --allow-http -- https://example.com

Exit code: the component's (0 ok, 1 `run` returned an error, N from wasi:cli/exit),
134 if it trapped, 1 if it could not start.")]
pub struct RunArgs {
    /// The command component to run; it must export `wasi:cli/run`.
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
    /// Permit wasi:sockets (TCP, UDP, name lookup) to any address.
    #[arg(long)]
    pub allow_net: bool,
    /// Permit outgoing HTTP (wasi:http/outgoing-handler and wasi:http/types).
    #[arg(long)]
    pub allow_http: bool,
    /// Arguments for the component, after `--`; its argv[0] is the file name.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

/// Runs `airlock run`; returns the process exit code. A trap is printed to
/// stderr with its wasm backtrace.
pub fn run(args: RunArgs) -> Result<i32> {
    let path = &args.component;
    let config = config(&args)?;
    let bytes = std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
    let outcome = host::run_command(&host::engine(), &bytes, &config)
        .with_context(|| format!("running `{}`", path.display()))?;
    if let Some(trap) = &outcome.trap {
        eprintln!("error: `{}` trapped: {trap}", path.display());
    }
    Ok(outcome.exit_code)
}

/// The host config the flags describe.
pub fn config(args: &RunArgs) -> Result<HostConfig> {
    let program = args
        .component
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.component.display().to_string());
    let mut config = HostConfig::inherit_stdio(program);
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
