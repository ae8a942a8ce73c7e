//! `airlock lock`: resolve registry components and record the capability
//! lock (`airlock.lock`) without composing; and the lock step that `compose`
//! and `check` share ([`prepare`]).

use crate::error::Error;
use crate::inspect;
use crate::lock::{Changes, LockError, LockFile, LockedComponent, compare};
use crate::manifest::Manifest;
use crate::registry::PackageReq;
use crate::registry::cache::Cache;
use crate::registry::config::RegistryConfig;
use crate::registry::resolve::Resolver;
use crate::spec::CompositionSpec;
use clap::Args;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Registry flags shared by `compose`, `check` and `lock`.
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
    /// The cache of pulled components (default: `AIRLOCK_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/airlock`, else `~/.cache/airlock`).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// Arguments of `airlock lock`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  airlock lock --manifest airlock.toml             # create or refresh airlock.lock
  airlock lock --manifest airlock.toml --update    # accept new capabilities, newest versions
  airlock lock -m airlock.toml --offline           # from the cache only

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
}

impl Prepared {
    /// Writes the lock file if it is missing or changed; true when written.
    pub fn write(&self) -> Result<bool, Error> {
        if self.old.as_ref() == Some(&self.new) {
            return Ok(false);
        }
        crate::pipeline::write_atomically(&self.path, self.new.to_text().as_bytes()).map_err(
            |e| match e {
                Error::Write { path, source } => Error::Lock(LockError::Io {
                    action: "write",
                    path,
                    source,
                }),
                e => e,
            },
        )?;
        Ok(true)
    }
}

/// Resolves the registry components of `spec` (pointing their paths at the
/// cache) and checks every component's imports against `airlock.lock`.
/// Without `update`, an import the lock does not list is an error (exit code 3).
/// Notes go to `err`. Writes nothing.
pub fn prepare(
    manifest: &Path,
    spec: &mut CompositionSpec,
    args: &RegistryArgs,
    update: bool,
    err: &mut dyn Write,
) -> Result<Prepared, Error> {
    let path = LockFile::path_for(manifest);
    let old = LockFile::load(&path)?;
    let empty = LockFile::default();
    let locked = old.as_ref().unwrap_or(&empty);

    let mut digests = BTreeMap::new();
    if spec.instances.iter().any(|i| i.package.is_some()) {
        let section = Manifest::load(manifest)?.registry;
        let config = RegistryConfig::from_env(args.registry.clone(), section)?;
        let cache = Cache::new(args.cache_dir.clone().unwrap_or_else(Cache::default_root));
        let mut resolver = Resolver::new(config, cache, args.offline, path.clone(), err);
        for inst in spec.instances.iter_mut() {
            let Some(text) = &inst.package else { continue };
            let req = PackageReq::parse(text)?;
            let resolved =
                resolver.resolve(&inst.name, &req, locked.components.get(&inst.name), update)?;
            inst.path = resolved.path;
            inst.package = Some(resolved.package.to_string());
            digests.insert(inst.name.clone(), resolved.digest);
        }
    }

    // Every component's capability surface, reporting every bad file at once.
    let mut errors = Vec::new();
    let mut current = BTreeMap::new();
    // Built-in interposers are part of airlock, not dependencies: not locked.
    for inst in spec.instances.iter().filter(|i| i.builtin.is_none()) {
        match inspect::read(&inst.path).and_then(|b| inspect::decode(&b, &inst.path)) {
            Ok(decoded) => {
                let mut imports: Vec<String> =
                    decoded.imports.iter().map(|i| i.name.clone()).collect();
                imports.sort();
                imports.dedup();
                current.insert(
                    inst.name.clone(),
                    LockedComponent {
                        package: inst.package.clone(),
                        digest: digests.get(&inst.name).cloned(),
                        imports,
                    },
                );
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Inspect(errors));
    }

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
    if old.is_some() && !changes.added.is_empty() {
        if !update {
            return Err(LockError::CapabilitiesAdded {
                path,
                added: changes
                    .added
                    .iter()
                    .map(|(n, a)| (n.clone(), (source(n), a.clone())))
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
    }
    for (name, removed) in &changes.removed {
        for import in removed {
            let _ = writeln!(err, "info: component `{name}` no longer imports `{import}`");
        }
    }
    Ok(Prepared {
        path,
        old,
        new: LockFile {
            components: current,
            ..LockFile::default()
        },
        changes,
    })
}

/// Runs `airlock lock`; returns the exit code.
pub fn run(args: LockArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, Error> {
    let (mut spec, _) = super::compose::load_spec(Some(&args.manifest), None)?;
    let prepared = prepare(&args.manifest, &mut spec, &args.registry, args.update, err)?;
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
        let _ = writeln!(out, "  {name}: {source}, {} imports", c.imports.len());
    }
    Ok(0)
}
