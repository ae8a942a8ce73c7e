//! `airlock check`: plan, compose and verify without writing anything; for CI.

use super::{Format, print_report};
use crate::error::Error;
use crate::pipeline;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `airlock check`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  airlock check --manifest airlock.toml
  airlock check -m airlock.toml --format json

Components must stay within `airlock.lock` (when there is one): a new import
is an error (exit code 3) until `airlock lock --update` accepts it.

Exit codes: 0 the policy holds, 1 error, 2 usage, 3 the policy or the capability lock is not met.")]
pub struct CheckArgs {
    /// The manifest (`airlock.toml`) to check.
    #[arg(long, short = 'm')]
    pub manifest: PathBuf,
    /// How to print the audit.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print the audit as JSON (same as `--format json`).
    #[arg(long)]
    pub json: bool,
    /// Registry options (for `package = ...` components).
    #[command(flatten)]
    pub registry: super::lock::RegistryArgs,
}

/// Runs `airlock check`; returns the exit code.
pub fn run(args: CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, Error> {
    let (mut spec, _) = super::compose::load_spec(Some(&args.manifest), None)?;
    // Checks the capability lock too; never writes it.
    let lock = super::lock::prepare(&args.manifest, &mut spec, &args.registry, false, err)?;
    if lock.old.is_some() && lock.old.as_ref() != Some(&lock.new) {
        let _ = writeln!(
            err,
            "info: `{}` is out of date (check never writes it): `airlock lock` records the change",
            lock.path.display()
        );
    }
    let report = pipeline::check(&spec)?;
    print_report(
        out,
        &report,
        if args.json { Format::Json } else { args.format },
    );
    Ok(0)
}
