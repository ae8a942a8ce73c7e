//! `airlock compose`: build the output component and print its audit.

use super::{Format, print_report};
use crate::error::Error;
use crate::manifest::Manifest;
use crate::pipeline;
use crate::spec::CompositionSpec;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `airlock compose`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  airlock compose --manifest airlock.toml -o app.wasm
  airlock compose app.wasm --plug stats.wasm --plug telemetry.wasm \\
      --allow 'wasi:cli/std*@0.2' --allow 'wasi:io/*@0.2' -o app.composed.wasm
  airlock compose app.wasm --plug kv.wasm --deny 'demo:cache/*' -o out.wasm --format json
  airlock compose app.wasm --plug telemetry.wasm --allow 'wasi:cli/environment@0.2' --allow 'wasi:clocks/wall-clock@0.2' \\
      --set 'telemetry.env-from-host=[\"LANG\"]' --set telemetry.clock=offset:+3600 -o out.wasm
  airlock compose markdown.wasm --plug text.wasm --plug stats.wasm \\
      --export text --export stats -o libraries.wasm
  airlock compose -m airlock.toml --offline          # registry components from the cache only
  airlock compose -m airlock.toml --update-lock      # accept new capabilities in airlock.lock

With a manifest, `airlock.lock` beside it pins registry components and records
every component's imports; a new import fails with exit code 3 until accepted.

Exit codes: 0 composed, 1 error, 2 usage, 3 the policy or the capability lock is not met.")]
pub struct ComposeArgs {
    /// The manifest (`airlock.toml`) describing the components and the policy.
    #[arg(long, short = 'm', conflicts_with_all = ["root", "plug", "allow", "grant", "deny", "export"])]
    pub manifest: Option<PathBuf>,
    /// The root component (plug form): its exports become the output's exports.
    #[arg(required_unless_present = "manifest")]
    pub root: Option<PathBuf>,
    /// A library component whose exports satisfy the root's (or another plug's) imports.
    #[arg(long, value_name = "LIB.wasm")]
    pub plug: Vec<PathBuf>,
    /// An interface pattern the OUTPUT may import, e.g. `wasi:cli/stdout@0.2` or `wasi:sockets/*`.
    #[arg(long, value_name = "PATTERN")]
    pub allow: Vec<String>,
    /// Grant component NAME (its file stem) the interfaces matching PATTERN; plugs get nothing otherwise.
    #[arg(long, value_name = "NAME=PATTERN", value_parser = parse_grant)]
    pub grant: Vec<(String, String)>,
    /// Virtualize matching non-WASI imports as denied (WASI imports are denied unless granted).
    #[arg(long, value_name = "PATTERN")]
    pub deny: Vec<String>,
    /// A virtual value or slice for component NAME, as its manifest key would
    /// be written (TOML; a bare word is a string), e.g.
    /// `--set 'telemetry.env-from-host=["LANG"]'` or `--set lib.clock=offset:+3600`.
    #[arg(long, value_name = "NAME.KEY=VALUE", value_parser = crate::settings::parse)]
    pub set: Vec<crate::settings::Setting>,
    /// Re-export the exports of plug NAME (its file stem) too, e.g. to bundle several libraries.
    #[arg(long, value_name = "NAME")]
    pub export: Vec<String>,
    /// Where to write the output component (default: `[output] path`, else `composed.wasm` beside the manifest).
    #[arg(long, short = 'o', value_name = "OUT.wasm")]
    pub output: Option<PathBuf>,
    /// How to print the audit.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print the audit as JSON (same as `--format json`).
    #[arg(long)]
    pub json: bool,
    /// Accept capabilities that `airlock.lock` does not list yet, and move
    /// registry components to the newest versions that meet their requirements.
    #[arg(long, requires = "manifest")]
    pub update_lock: bool,
    /// Registry options (for `package = ...` components).
    #[command(flatten)]
    pub registry: super::lock::RegistryArgs,
}

fn parse_grant(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .filter(|(n, p)| !n.is_empty() && !p.is_empty())
        .map(|(n, p)| (n.to_string(), p.to_string()))
        .ok_or_else(|| format!("expected NAME=PATTERN, got `{s}`"))
}

/// Loads the spec from either form.
pub fn load_spec(
    manifest: Option<&PathBuf>,
    args: Option<&ComposeArgs>,
) -> Result<(CompositionSpec, Option<PathBuf>), Error> {
    if let Some(path) = manifest {
        let settings = args.map(|a| a.set.as_slice()).unwrap_or_default();
        let m = Manifest::load_with(path, settings)?;
        let default_out = m
            .output
            .path
            .as_ref()
            .map(|p| path.parent().unwrap_or(".".as_ref()).join(p));
        let spec = CompositionSpec::from_manifest(&m, path)?;
        let out = default_out
            .unwrap_or_else(|| path.parent().unwrap_or(".".as_ref()).join("composed.wasm"));
        return Ok((spec, Some(out)));
    }
    let args = args.expect("plug form has arguments");
    let root = args
        .root
        .as_ref()
        .expect("clap requires root without --manifest");
    let spec = CompositionSpec::from_plugs(root, &args.plug, &args.allow, &args.grant, &args.deny)?
        .export_also(&args.export)?
        .with_settings(&args.set, std::path::Path::new("."))?;
    Ok((spec, None))
}

/// Runs `airlock compose`; returns the exit code.
pub fn run(args: ComposeArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, Error> {
    let (mut spec, default_out) = load_spec(args.manifest.as_ref(), Some(&args))?;
    let lock = match &args.manifest {
        Some(m) => Some(super::lock::prepare(
            m,
            &mut spec,
            &args.registry,
            args.update_lock,
            err,
        )?),
        None => None,
    };
    let out_path = match (&args.output, default_out) {
        (Some(o), _) => o.clone(),
        (None, Some(d)) => d,
        (None, None) => return Err(Error::Usage("the plug form needs `-o OUT.wasm`".into())),
    };
    // Never overwrite an input: a failure later would destroy it.
    if let Some(input) = spec
        .instances
        .iter()
        .find(|i| same_file(&i.path, &out_path))
    {
        return Err(Error::Usage(format!(
            "the output `{}` is the input of component `{}`; choose another output path",
            out_path.display(),
            input.name
        )));
    }
    if let Some(manifest) = &args.manifest
        && same_file(manifest, &out_path)
    {
        return Err(Error::Usage(format!(
            "the output `{}` is the manifest; choose another output path",
            out_path.display()
        )));
    }
    let composed = pipeline::compose(&spec)?;
    pipeline::write_atomically(&out_path, &composed.bytes)?;
    if let Some(lock) = &lock
        && lock.write()?
        && lock.old.is_some()
    {
        let _ = writeln!(err, "info: updated `{}`", lock.path.display());
    }
    print_report(
        out,
        &composed.report,
        if args.json { Format::Json } else { args.format },
    );
    if matches!(args.format, Format::Text) && !args.json {
        let _ = writeln!(out, "wrote {}", out_path.display());
    }
    Ok(0)
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
