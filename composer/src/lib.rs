//! The `airlock` command line, as a library function so tests can drive it:
//! one module per subcommand under [`commands`], and what several of them
//! share in [`prepare`]; `main.rs` only hands over the process arguments. The work itself is in `airlock-core` (the pipeline),
//! `airlock-registry` (OCI, cache, lock) and `airlock-host` (the runner).

pub mod commands;
pub mod error;
pub mod prepare;

use airlock_core::report::Report;
use clap::{Parser, Subcommand};
#[cfg(feature = "host")]
use commands::run;
use commands::{check, compose, inspect, lock, publish};
use error::Error;
use std::ffi::OsString;
use std::io::Write;

/// Compose WebAssembly components into one component whose only imports are the ones a policy allows.
#[derive(Debug, Parser)]
#[command(name = "airlock", version, about)]
pub struct Airlock {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compose components into one output whose imports stay within the allow-list.
    Compose(compose::ComposeArgs),
    /// Plan, compose and verify without writing output (a CI gate).
    Check(check::CheckArgs),
    /// Show the capability surface of one component, grouped by family.
    Inspect(inspect::InspectArgs),
    /// Resolve registry components and record `airlock.lock` (versions, digests, capabilities).
    Lock(lock::LockArgs),
    /// Push a component to an OCI registry as `namespace:name@version`.
    Publish(publish::PublishArgs),
    /// Run a command component with a host that links only the permitted interfaces.
    #[cfg(feature = "host")]
    Run(run::RunArgs),
}

/// Runs the command line: reports go to `out`, errors to `err`. Returns the exit code
/// (0 ok, 1 error, 2 usage, 3 the policy cannot be met).
pub fn main<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args = match Airlock::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => {
            let code = e.exit_code();
            let text = e.render();
            let _ = if e.use_stderr() {
                write!(err, "{text}")
            } else {
                write!(out, "{text}")
            };
            return code;
        }
    };
    // A panic is a bug in airlock or a library it uses; it still becomes a clear
    // message and exit code 1, and nothing has been written (outputs are
    // written only after verification).
    let result = guard(std::panic::AssertUnwindSafe(|| match args.command {
        Command::Compose(a) => compose::run(a, out, err),
        Command::Check(a) => check::run(a, out, err),
        Command::Inspect(a) => inspect::run(a, out),
        Command::Lock(a) => lock::run(a, out, err),
        Command::Publish(a) => publish::run(a, out),
        #[cfg(feature = "host")]
        Command::Run(a) => run::run(a).or_else(|e| {
            let _ = writeln!(err, "error: {e:#}");
            Ok(1)
        }),
    }));
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            e.exit_code()
        }
    }
}

/// Runs `f`, turning a panic into [`Error::Internal`] with the panic's message.
fn guard(f: impl FnOnce() -> Result<i32, Error> + std::panic::UnwindSafe) -> Result<i32, Error> {
    std::panic::catch_unwind(f).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Error::Internal(message))
    })
}

/// How an audit is printed.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    Text,
    /// JSON for tools.
    Json,
    /// A Graphviz graph of the composition.
    Dot,
}

/// The width of text audits (see [`set_audit_width`]).
static AUDIT_WIDTH: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(airlock_core::report::DEFAULT_WIDTH);

/// Sets the width text audits wrap to; the `airlock` binary passes the
/// terminal's (80 when stdout is not a terminal, as for tests).
pub fn set_audit_width(width: usize) {
    AUDIT_WIDTH.store(width, std::sync::atomic::Ordering::Relaxed);
}

fn audit_width() -> usize {
    AUDIT_WIDTH.load(std::sync::atomic::Ordering::Relaxed)
}

/// Prints the audit: JSON when asked (`--json` or `--format json`), else
/// the summary alone with `--quiet`, else in the chosen format.
pub fn print_audit(out: &mut dyn Write, report: &Report, format: Format, json: bool, quiet: bool) {
    match (json, format, quiet) {
        (true, _, _) | (_, Format::Json, _) => print_report(out, report, Format::Json),
        (false, Format::Text, true) => {
            let _ = write!(out, "{}", report.summary_text(audit_width()));
        }
        (false, format, _) => print_report(out, report, format),
    }
}

/// Warns on `err` of each denial that traps where a program may well call it.
pub fn print_trap_warnings(err: &mut dyn Write, report: &Report) {
    for warning in report.trap_warnings() {
        let _ = writeln!(err, "warning: {warning}");
    }
}

/// Says on `err` which components are preview1 modules adapted on the way in.
pub fn note_adapted(err: &mut dyn Write, spec: &airlock_core::spec::CompositionSpec) {
    for inst in spec.instances.iter().filter(|i| i.builtin.is_none()) {
        if let Some(note) = airlock_core::preview1::note(&inst.path) {
            let _ = writeln!(err, "{note}");
        }
    }
}

/// `./airlock.toml`, when neither a manifest nor a root component is given
/// (as cargo finds `Cargo.toml`).
pub fn default_manifest() -> Result<std::path::PathBuf, Error> {
    let path = std::path::PathBuf::from(airlock_core::manifest::FILE_NAME);
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::Usage(format!(
            "no `{}` here: give one with `--manifest PATH`, or compose in the plug form \
             (`airlock compose ROOT.wasm --plug LIB.wasm -o OUT.wasm`)",
            airlock_core::manifest::FILE_NAME
        )))
    }
}

/// Prints the audit in the chosen format.
pub fn print_report(out: &mut dyn Write, report: &Report, format: Format) {
    let _ = match format {
        Format::Text => write!(out, "{}", report.to_text_width(audit_width())),
        Format::Json => writeln!(out, "{}", report.to_json()),
        Format::Dot => write!(out, "{}", report.to_dot()),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let e = guard(|| panic!("boom")).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(e.to_string().contains("boom"), "{e}");
        assert_eq!(guard(|| Ok(7)).unwrap(), 7);
    }
}
