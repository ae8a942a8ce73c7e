//! What `compose`, `check` and `lock` share: loading a manifest's spec, the
//! registry flags, and the lock step ([`prepare`]) that resolves registry
//! components and checks every component against `airlock.lock`. The
//! subcommand modules depend on this one, never on each other.

use crate::error::Error;
use airlock_core::inspect;
use airlock_core::load::{self, Read};
use airlock_core::settings::{self, Setting};
use airlock_core::spec::CompositionSpec;
use airlock_core::verdicts::VerdictCache;
use airlock_registry::PackageReq;
use airlock_registry::cache::Cache;
use airlock_registry::config::RegistryConfig;
use airlock_registry::lock::{
    Changes, LockError, LockFile, LockedComponent, compare, describe_functions,
};
use airlock_registry::resolve::Resolver;
use clap::Args;
use indexmap::IndexMap;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Loads the spec of the manifest at `path`, with command-line settings
/// (`--set`) applied, and where `airlock compose` writes by default (`[output]
/// path`, else `composed.wasm` beside the manifest). The manifest is read
/// once: its `[registry]` stays in the spec for [`prepare`].
pub fn load_manifest(
    path: &Path,
    settings: &[Setting],
) -> Result<(CompositionSpec, PathBuf), Error> {
    let m = settings::load_manifest(path, settings)?;
    let folder = path.parent().unwrap_or(".".as_ref());
    let out = folder.join(m.output.path.as_deref().unwrap_or("composed.wasm".as_ref()));
    let spec = CompositionSpec::from_manifest(&m, path)?;
    Ok((spec, out))
}

/// Registry and cache flags shared by `compose`, `check` and `lock`.
#[derive(Debug, Default, Args)]
pub struct RegistryArgs {
    /// The registry for `package = ...` components, e.g. `ghcr.io/team` or
    /// `http://127.0.0.1:5000` (before `AIRLOCK_REGISTRY`, the manifest's
    /// `[registry]` and wkg's `default_registry`).
    #[arg(long, value_name = "REGISTRY")]
    pub registry: Option<String>,
    /// Use only the cache: never contact a registry (an error names what is missing).
    #[arg(long)]
    pub offline: bool,
    /// The cache of pulled components and of validation verdicts (default:
    /// `AIRLOCK_CACHE_DIR`, else `$XDG_CACHE_HOME/airlock`, else `~/.cache/airlock`).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Validate every component again instead of trusting verdicts in the
    /// cache, and record none (pulled components are still cached).
    #[arg(long)]
    pub no_cache: bool,
}

/// The lock as it should be after this run.
#[derive(Debug)]
pub struct Prepared {
    /// The lock file's path.
    pub path: PathBuf,
    /// What was there before.
    pub old: Option<LockFile>,
    /// What should be there now.
    pub new: LockFile,
    /// The differences.
    pub changes: Changes,
    /// Every component that is not built in, as read and decoded (by
    /// instance name), for the pipeline to reuse.
    pub libraries: IndexMap<String, Read>,
}

impl Prepared {
    /// Writes the lock file if it is missing or changed; true when written.
    pub fn write(&self) -> Result<bool, Error> {
        if self.old.as_ref() == Some(&self.new) {
            return Ok(false);
        }
        airlock_core::pipeline::write_atomically(&self.path, self.new.to_text().as_bytes())
            .map_err(|e| match e {
                airlock_core::error::Error::Write { path, source } => Error::Lock(LockError::Io {
                    action: "write",
                    path,
                    source,
                }),
                e => e.into(),
            })?;
        Ok(true)
    }
}

/// The cache folder these flags select, if there is one.
pub fn cache_root(args: &RegistryArgs) -> Option<PathBuf> {
    args.cache_dir
        .clone()
        .or_else(|| Cache::default_root().ok())
}

/// The validation verdict cache these flags select: in [`cache_root`],
/// unless `--no-cache` (or there is no cache folder; or off Unix, where its
/// folder's owner cannot be checked).
pub fn verdict_cache(args: &RegistryArgs) -> Option<VerdictCache> {
    if args.no_cache || cfg!(not(unix)) {
        return None;
    }
    VerdictCache::new(&cache_root(args)?).ok()
}

/// Says why the verdict cache could not be used, if it was tried and could not be.
pub fn note_cache_problem(err: &mut dyn Write, cache: Option<&VerdictCache>) {
    if let Some(problem) = cache.and_then(VerdictCache::problem) {
        let _ = writeln!(err, "warning: {problem}; validating every component");
    }
}

/// What [`prepare`] may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// Nothing new: a new import or function is an error (`compose`, `check`).
    Nothing,
    /// Record the functions of components that an older lock locked by
    /// imports only (`airlock lock`); new imports and functions are errors.
    FunctionRecords,
    /// Everything (`lock --update`, `compose --update-lock`).
    Everything,
}

/// Resolves the registry components of `spec` (pointing their paths at the
/// cache) and checks every component's imports, and the functions of each,
/// against `airlock.lock`. Unless `accept` is [`Accept::Everything`], an
/// import or a function (new, or with a changed signature) that the lock
/// does not list is an error (exit code 3). A lock written before functions
/// were recorded is honoured for imports; its functions are recorded only
/// when `accept` allows it. Notes go to `err`. Writes nothing but the
/// caches (pulled components, and validation verdicts in `cache`).
pub fn prepare(
    manifest: &Path,
    spec: &mut CompositionSpec,
    args: &RegistryArgs,
    accept: Accept,
    cache: Option<&VerdictCache>,
    err: &mut dyn Write,
) -> Result<Prepared, Error> {
    let update = accept == Accept::Everything;
    let path = LockFile::path_for(manifest);
    let old = LockFile::load(&path)?;
    let empty = LockFile::default();
    let locked = old.as_ref().unwrap_or(&empty);

    let mut digests = BTreeMap::new();
    if spec.instances.iter().any(|i| i.package.is_some()) {
        let config = RegistryConfig::from_env(args.registry.clone(), spec.registry.clone())?;
        let cache = Cache::open(args.cache_dir.clone())?;
        let mut resolver = Resolver::new(config, cache, args.offline, path.clone(), err);
        for inst in spec.instances.iter_mut() {
            let Some(text) = &inst.package else { continue };
            let req = PackageReq::parse(text)?;
            let resolved =
                resolver.resolve(&inst.name, &req, locked.components.get(&inst.name), update)?;
            inst.path = resolved.path;
            inst.verified = Some(resolved.bytes);
            inst.package = Some(resolved.package.to_string());
            digests.insert(inst.name.clone(), resolved.digest);
        }
    }

    // Every component's capability surface, reporting every bad file at once.
    // Built-in interposers are part of airlock, not dependencies: not locked.
    let libraries = load::read(spec.instances.iter().filter(|i| i.builtin.is_none()), cache)?;
    let mut current: BTreeMap<String, LockedComponent> = libraries
        .iter()
        .map(|(name, read)| {
            let decoded = read.decoded();
            let mut imports: Vec<String> = decoded.imports.iter().map(|i| i.name.clone()).collect();
            imports.sort();
            imports.dedup();
            let inst = spec.instance(name).expect("read instances are in the spec");
            let locked = LockedComponent {
                package: inst.package.clone(),
                digest: digests.get(name).cloned(),
                imports,
                functions: Some(airlock_registry::lock::functions_of(
                    &decoded.resolve,
                    decoded.world,
                )),
            };
            (name.clone(), locked)
        })
        .collect();

    let changes = compare(locked, &current);
    let source = |name: &str| {
        let inst = spec
            .instance(name)
            .expect("compared instances are in the spec");
        match &inst.package {
            Some(p) => format!("`{p}`"),
            None => format!("file `{}`", inst.path.display()),
        }
    };
    if old.is_some() && (!changes.added.is_empty() || !changes.functions_added.is_empty()) {
        if !update {
            return Err(LockError::CapabilitiesAdded {
                path,
                added: changes
                    .added
                    .iter()
                    .map(|(n, a)| (n.clone(), (source(n), a.clone())))
                    .collect(),
                functions: changes
                    .functions_added
                    .iter()
                    .map(|(n, f)| (n.clone(), (source(n), f.clone())))
                    .collect(),
            }
            .into());
        }
        for (name, added) in &changes.added {
            for import in added {
                let _ = writeln!(
                    err,
                    "info: accepted: component `{name}` ({}) now imports `{import}` ({})",
                    source(name),
                    inspect::Family::of(import).label()
                );
            }
        }
        for (name, functions) in &changes.functions_added {
            for line in describe_functions(functions) {
                let _ = writeln!(
                    err,
                    "info: accepted: component `{name}` ({}) {line}",
                    source(name)
                );
            }
        }
    }
    for (name, removed) in &changes.removed {
        for import in removed {
            let _ = writeln!(err, "info: component `{name}` no longer imports `{import}`");
        }
    }
    for (name, removed) in &changes.functions_removed {
        for line in describe_functions(removed) {
            let _ = writeln!(err, "info: component `{name}` {line}");
        }
    }
    // A lock from before functions were recorded: its imports hold; its
    // functions are recorded only when the user asks (said once).
    if !changes.functions_unlocked.is_empty() {
        if accept == Accept::Nothing {
            for name in &changes.functions_unlocked {
                if let Some(c) = current.get_mut(name) {
                    c.functions = None;
                }
            }
            let _ = writeln!(
                err,
                "note: `{}` (from an older airlock) locks imports only: the functions used from them are not checked until `airlock lock` records them",
                path.display()
            );
        } else {
            let _ = writeln!(
                err,
                "note: upgraded `{}`: it now records the functions each component uses from its imports ({}); review them before committing it",
                path.display(),
                changes
                    .functions_unlocked
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let imports_only = !current.is_empty() && current.values().all(|c| c.functions.is_none());
    Ok(Prepared {
        path,
        old,
        new: LockFile {
            version: if imports_only {
                airlock_registry::lock::FORMAT_IMPORTS_ONLY
            } else {
                airlock_registry::lock::FORMAT
            },
            components: current,
        },
        changes,
        libraries,
    })
}
