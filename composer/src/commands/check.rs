//! `airlock check`: plan, compose and verify without writing anything; for CI.

use crate::Format;
use crate::error::Error;
use crate::prepare::{
    Accept, RegistryArgs, load_manifest, note_cache_problem, prepare, verdict_cache,
};
use airlock_core::pipeline;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `airlock check`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  airlock check --manifest airlock.toml
  airlock check -m airlock.toml --format json

Components must stay within `airlock.lock` (when there is one): a new import,
or a new or changed function of an import, is an error (exit code 3) until
`airlock lock --update` accepts it.

Exit codes: 0 the policy holds, 1 error, 2 usage, 3 the policy or the capability lock is not met.")]
pub struct CheckArgs {
    /// The manifest (`airlock.toml`) to check (default: `./airlock.toml`).
    #[arg(long, short = 'm')]
    pub manifest: Option<PathBuf>,
    /// How to print the audit.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print the audit as JSON (same as `--format json`); when the policy
    /// fails, the JSON lists the problems.
    #[arg(long)]
    pub json: bool,
    /// Print only the summary: one line per component.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Registry options (for `package = ...` components).
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Runs `airlock check`; returns the exit code.
pub fn run(args: CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, Error> {
    let json = args.json || matches!(args.format, Format::Json);
    match check(&args, out, err) {
        // Tools reading `--json` get the problems on stdout as well.
        Err(e) if json && e.exit_code() == airlock_core::error::EXIT_POLICY => {
            let problems: Vec<String> = match &e {
                Error::Core(airlock_core::error::Error::Policy(p)) => {
                    p.0.iter().map(ToString::to_string).collect()
                }
                e => vec![e.to_string()],
            };
            let report = serde_json::json!({ "ok": false, "problems": problems });
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&report).expect("serializes")
            );
            Err(e)
        }
        other => other,
    }
}

fn check(args: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, Error> {
    let manifest = match &args.manifest {
        Some(m) => m.clone(),
        None => crate::default_manifest()?,
    };
    let (mut spec, _) = load_manifest(&manifest, &[])?;
    // Checks the capability lock too; never writes it.
    let verdicts = verdict_cache(&args.registry);
    let mut lock = prepare(
        &manifest,
        &mut spec,
        &args.registry,
        Accept::Nothing,
        verdicts.as_ref(),
        err,
    )?;
    if lock.old.is_some() && lock.old.as_ref() != Some(&lock.new) {
        let _ = writeln!(
            err,
            "info: `{}` is out of date (check never writes it): `airlock lock` records the change",
            lock.path.display()
        );
    }
    crate::note_adapted(err, &spec);
    let libraries = std::mem::take(&mut lock.libraries);
    let report = pipeline::check_cached(&spec, Some(libraries), verdicts.as_ref());
    note_cache_problem(err, verdicts.as_ref());
    let report = report?;
    crate::print_audit(out, &report, args.format, args.json, args.quiet);
    crate::print_trap_warnings(err, &report);
    Ok(0)
}
