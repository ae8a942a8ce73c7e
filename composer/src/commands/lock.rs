//! `airlock lock`: resolve registry components and record the capability
//! lock (`airlock.lock`) without composing.

use crate::error::Error;
use crate::prepare::{
    Accept, RegistryArgs, load_manifest, note_cache_problem, prepare, verdict_cache,
};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `airlock lock`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  airlock lock --manifest airlock.toml             # create or refresh airlock.lock
  airlock lock --manifest airlock.toml --update    # accept new capabilities, newest versions
  airlock lock -m airlock.toml --offline           # from the cache only

The lock records each component's imports and the functions it uses from
each (with a hash of each signature). A lock written by an older airlock
(imports only) is upgraded by `airlock lock`: review the diff.

Exit codes: 0 locked, 1 error, 2 usage, 3 a component asks for capabilities the lock does not list.")]
pub struct LockArgs {
    /// The manifest (`airlock.toml`); the lock is written beside it.
    #[arg(long, short = 'm')]
    pub manifest: PathBuf,
    /// Accept every component's current capabilities, and move registry
    /// components to the newest versions that meet their requirements.
    #[arg(long)]
    pub update: bool,
    /// Registry options.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Runs `airlock lock`; returns the exit code.
pub fn run(args: LockArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, Error> {
    let (mut spec, _) = load_manifest(&args.manifest, &[])?;
    let accept = if args.update {
        Accept::Everything
    } else {
        Accept::FunctionRecords
    };
    let verdicts = verdict_cache(&args.registry);
    let prepared = prepare(
        &args.manifest,
        &mut spec,
        &args.registry,
        accept,
        verdicts.as_ref(),
        err,
    );
    note_cache_problem(err, verdicts.as_ref());
    let prepared = prepared?;
    let written = prepared.write()?;
    let _ = writeln!(
        out,
        "{} `{}` ({} components)",
        if written { "wrote" } else { "up to date:" },
        prepared.path.display(),
        prepared.new.components.len()
    );
    for (name, c) in &prepared.new.components {
        let source = match (&c.package, &c.digest) {
            (Some(p), Some(d)) => format!("{p} {d}"),
            _ => "file".to_string(),
        };
        let functions = match &c.functions {
            Some(f) => format!("{} functions", f.values().map(|f| f.len()).sum::<usize>()),
            None => "functions not recorded".into(),
        };
        let _ = writeln!(
            out,
            "  {name}: {source}, {} imports, {functions}",
            c.imports.len()
        );
    }
    Ok(0)
}
