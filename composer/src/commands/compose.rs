//! `airlock compose`: build the output component and print its audit.

use crate::Format;
use crate::error::Error;
use crate::prepare::{
    Accept, RegistryArgs, cache_root, load_manifest, note_cache_problem, prepare, verdict_cache,
};
use airlock_core::pipeline;
use airlock_core::spec::CompositionSpec;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `airlock compose`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  airlock compose                      # finds ./airlock.toml, as cargo does
  airlock compose --manifest airlock.toml -o app.wasm
  airlock compose app.wasm --plug stats.wasm --plug telemetry.wasm \\
      --allow 'wasi:cli/std*@0.2' --allow 'wasi:io/*@0.2' \\
      -o app.composed.wasm
  airlock compose app.wasm --plug kv.wasm --deny 'demo:cache/*' \\
      -o out.wasm --format json
  airlock compose app.wasm --plug telemetry.wasm \\
      --allow 'wasi:cli/environment@0.2' \\
      --allow 'wasi:clocks/wall-clock@0.2' \\
      --set 'telemetry.env-from-host=[\"LANG\"]' \\
      --set telemetry.clock=offset:+3600 -o out.wasm
  airlock compose markdown.wasm --plug text.wasm --plug stats.wasm \\
      --export text --export stats -o libraries.wasm
  airlock compose -m airlock.toml --offline     # registry components: cache
  airlock compose -m airlock.toml --update-lock # accept new capabilities

With a manifest, `airlock.lock` beside it pins registry components and records
every component's imports and the functions it uses from each; a new import,
or a new or changed function, fails with exit code 3 until accepted.

The output never replaces an input component, the manifest, `airlock.lock` or
anything in the component cache (by any path, symlink or hard link), and is
written with ordinary permissions (never setuid, setgid or sticky).

Exit codes: 0 composed, 1 error, 2 usage, 3 the policy or the capability lock is not met.")]
pub struct ComposeArgs {
    /// The manifest (`airlock.toml`) describing the components and the policy.
    #[arg(long, short = 'm', conflicts_with_all = ["root", "plug", "allow", "grant", "deny", "export"])]
    pub manifest: Option<PathBuf>,
    /// The root component (plug form): its exports become the output's
    /// exports. Without it and without `--manifest`, `./airlock.toml` is used.
    pub root: Option<PathBuf>,
    /// A library component whose exports satisfy the root's (or another plug's) imports.
    #[arg(long, value_name = "LIB.wasm")]
    pub plug: Vec<PathBuf>,
    /// An interface pattern the OUTPUT may import, e.g. `wasi:cli/stdout@0.2` or
    /// `wasi:sockets/*`; a bare function or inline interface only by its exact name.
    #[arg(long, value_name = "PATTERN")]
    pub allow: Vec<String>,
    /// Grant component NAME (its file stem) the interfaces matching PATTERN; plugs get nothing otherwise.
    #[arg(long, value_name = "NAME=PATTERN", value_parser = parse_grant)]
    pub grant: Vec<(String, String)>,
    /// Virtualize matching non-WASI imports as denied (WASI imports are denied unless
    /// granted); a plain name (`thing-in`, `lists`) matches a bare function or
    /// inline interface of that name only.
    #[arg(long, value_name = "PATTERN")]
    pub deny: Vec<String>,
    /// A virtual value or slice for component NAME, as its manifest key would
    /// be written (TOML; a bare word is a string), e.g.
    /// `--set 'telemetry.env-from-host=["LANG"]'` or `--set lib.clock=offset:+3600`.
    #[arg(long, value_name = "NAME.KEY=VALUE", value_parser = airlock_core::settings::parse)]
    pub set: Vec<airlock_core::settings::Setting>,
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
    /// Print only the summary: one line per component.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Accept capabilities that `airlock.lock` does not list yet, and move
    /// registry components to the newest versions that meet their requirements.
    #[arg(long, requires = "manifest")]
    pub update_lock: bool,
    /// Registry options (for `package = ...` components).
    #[command(flatten)]
    pub registry: RegistryArgs,
}

fn parse_grant(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .filter(|(n, p)| !n.is_empty() && !p.is_empty())
        .map(|(n, p)| (n.to_string(), p.to_string()))
        .ok_or_else(|| format!("expected NAME=PATTERN, got `{s}`"))
}

/// Loads the spec from either form, with the manifest form's default output.
fn load_spec(args: &ComposeArgs) -> Result<(CompositionSpec, Option<PathBuf>), Error> {
    if let Some(path) = &args.manifest {
        let (spec, out) = load_manifest(path, &args.set)?;
        return Ok((spec, Some(out)));
    }
    let root = args
        .root
        .as_ref()
        .expect("clap requires root without --manifest");
    let spec = CompositionSpec::from_plugs(root, &args.plug, &args.allow, &args.grant, &args.deny)?
        .export_also(&args.export)?
        .with_settings(&args.set, Path::new("."))?;
    Ok((spec, None))
}

/// Runs `airlock compose`; returns the exit code.
pub fn run(mut args: ComposeArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, Error> {
    if args.manifest.is_none() && args.root.is_none() {
        args.manifest = Some(crate::default_manifest()?);
    }
    let (mut spec, default_out) = load_spec(&args)?;
    let out_path = match (&args.output, default_out) {
        (Some(o), _) => o.clone(),
        (None, Some(d)) => d,
        (None, None) => return Err(Error::Usage("the plug form needs `-o OUT.wasm`".into())),
    };
    let cache = cache_root(&args.registry);
    // Refused before anything is fetched, and again once registry components
    // point at their cached files.
    refuse_protected_output(&out_path, &spec, args.manifest.as_deref(), cache.as_deref())?;
    let verdicts = verdict_cache(&args.registry);
    let mut lock = match &args.manifest {
        Some(m) => Some(prepare(
            m,
            &mut spec,
            &args.registry,
            if args.update_lock {
                Accept::Everything
            } else {
                Accept::Nothing
            },
            verdicts.as_ref(),
            err,
        )?),
        None => None,
    };
    refuse_protected_output(&out_path, &spec, args.manifest.as_deref(), cache.as_deref())?;
    crate::note_adapted(err, &spec);
    let libraries = lock.as_mut().map(|l| std::mem::take(&mut l.libraries));
    let composed = pipeline::compose_cached(&spec, libraries, verdicts.as_ref());
    note_cache_problem(err, verdicts.as_ref());
    let composed = composed?;
    pipeline::write_atomically(&out_path, &composed.bytes)?;
    if let Some(lock) = &lock
        && lock.write()?
    {
        let _ = match lock.old {
            Some(_) => writeln!(err, "info: updated `{}`", lock.path.display()),
            None => writeln!(
                err,
                "info: created `{}`: it records each component's imports and the functions \
                 used from them, and later runs fail when they grow; commit it",
                lock.path.display()
            ),
        };
    }
    crate::print_audit(out, &composed.report, args.format, args.json, args.quiet);
    crate::print_trap_warnings(err, &composed.report);
    let _ = writeln!(err, "wrote {}", out_path.display());
    Ok(0)
}

/// Refuses an output path that would replace what the composition depends
/// on: an input component, the manifest, the capability lock, or anything in
/// the component cache; by any spelling of the path, through a symlink, or
/// as a hard link. A later failure (or the next run) would otherwise lose it.
fn refuse_protected_output(
    out: &Path,
    spec: &CompositionSpec,
    manifest: Option<&Path>,
    cache: Option<&Path>,
) -> Result<(), Error> {
    let refuse = |what: String| {
        Err(Error::Usage(format!(
            "the output `{}` is {what}; choose another output path",
            out.display()
        )))
    };
    let output = FileId::of(out);
    // Never overwrite an input: a failure later would destroy it.
    for inst in spec.instances.iter().filter(|i| i.builtin.is_none()) {
        if output.same(&FileId::of(&inst.path)) {
            return refuse(format!("the input of component `{}`", inst.name));
        }
    }
    if let Some(manifest) = manifest {
        if output.same(&FileId::of(manifest)) {
            return refuse("the manifest".into());
        }
        let lock = airlock_registry::lock::LockFile::path_for(manifest);
        if output.same(&FileId::of(&lock)) {
            return refuse(format!("the capability lock `{}`", lock.display()));
        }
    }
    if let Some(cache) = cache
        && let Ok(cache_dir) = cache.canonicalize()
        && output.names.iter().any(|n| n.starts_with(&cache_dir))
    {
        return refuse(format!("inside the component cache `{}`", cache.display()));
    }
    // Wherever it is, a file of that name is taken for a capability lock.
    if out
        .file_name()
        .is_some_and(|n| n.eq_ignore_ascii_case(airlock_registry::lock::FILE_NAME))
    {
        return refuse(format!(
            "named `{}`, the name of a capability lock",
            airlock_registry::lock::FILE_NAME
        ));
    }
    Ok(())
}

/// What a path names on disk: the directory entry a write replaces, the
/// file it resolves to through symlinks, and (on Unix) that file's device
/// and inode, to see hard links.
struct FileId {
    /// Canonical paths: the entry (canonical folder + name) and the target.
    names: Vec<PathBuf>,
    /// Device and inode of the existing file.
    inode: Option<(u64, u64)>,
}

impl FileId {
    fn of(path: &Path) -> Self {
        let mut names = Vec::new();
        if let Some(name) = path.file_name() {
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            if let Ok(dir) = parent.canonicalize() {
                names.push(dir.join(name));
            }
        }
        if let Ok(target) = path.canonicalize() {
            names.push(target);
        }
        #[cfg(unix)]
        let inode = {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
        };
        #[cfg(not(unix))]
        let inode = None;
        Self { names, inode }
    }

    fn same(&self, other: &FileId) -> bool {
        self.names.iter().any(|n| other.names.contains(n))
            || (self.inode.is_some() && self.inode == other.inode)
    }
}
