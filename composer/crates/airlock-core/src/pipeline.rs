//! The whole pipeline, from a spec to verified output bytes and their audit:
//! load -> inspect -> normalise -> plan -> virtualize -> compose -> verify -> report.

use crate::error::Error;
use crate::inspect::{self, Decoded};
use crate::names::InterfaceName;
use crate::normalize::Renames;
use crate::plan::{self, Fate, ImportPlan, Plan};
use crate::report::Report;
use crate::spec::CompositionSpec;
use crate::{compose, verify};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

/// A composition that passed verification.
pub struct Composed {
    /// The output component.
    pub bytes: Vec<u8>,
    /// Its audit.
    pub report: Report,
}

/// Loads, plans, virtualizes, composes and verifies. Writes nothing.
pub fn compose(spec: &CompositionSpec) -> Result<Composed, Error> {
    let loaded = load(spec)?;
    let (spec, loaded) = drop_unused_interposers(spec, loaded);
    let spec = spec.as_ref();
    let mut plan = plan::plan(spec, &loaded.decoded)?;
    let virtuals = virtualize(&mut plan, spec, &loaded.decoded)?;

    let inputs = compose::Inputs {
        components: spec
            .instances
            .iter()
            .zip(&loaded.bytes)
            .map(|(i, b)| (i.name.as_str(), b.as_slice()))
            .collect(),
        virtuals: virtuals
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect(),
    };
    let bytes = compose::compose(&plan, &inputs)?;
    let bytes = add_metadata(bytes, spec.output_package.as_deref())?;
    let provenance = crate::provenance::Provenance::of(spec, &loaded.digests);
    let bytes = crate::provenance::embed(bytes, &provenance);
    let output_imports = verify::check(&bytes, spec)?;
    let output_exports = compose::output_exports(&plan)?
        .into_iter()
        .map(|(_, export)| export.to_string())
        .collect();
    let report = Report {
        output_exports,
        output_imports,
        output_bytes: Some(bytes.len()),
        plan,
    };
    Ok(Composed { bytes, report })
}

/// Plans and verifies without keeping the output (for `airlock check`).
pub fn check(spec: &CompositionSpec) -> Result<Report, Error> {
    let mut composed = compose(spec)?;
    composed.report.output_bytes = None;
    Ok(composed.report)
}

/// Drops the interposers whose library imports nothing they serve (a slice
/// of an interface the library never asks for): they would only add bytes,
/// and host imports that nothing uses. The library's audit line for the
/// slice says so instead.
fn drop_unused_interposers(
    spec: &CompositionSpec,
    loaded: Loaded,
) -> (Cow<'_, CompositionSpec>, Loaded) {
    let serves = |target: &str| {
        spec.instances
            .iter()
            .zip(&loaded.decoded)
            .any(|(inst, dec)| {
                inst.wire.iter().any(|(pattern, t)| {
                    t == target
                        && dec.imports.iter().any(|i| {
                            InterfaceName::parse(&i.name).is_some_and(|n| pattern.matches(&n))
                        })
                })
            })
    };
    let unused: Vec<usize> = (0..spec.instances.len())
        .filter(|&i| spec.instances[i].builtin.is_some() && !serves(&spec.instances[i].name))
        .collect();
    if unused.is_empty() {
        return (Cow::Borrowed(spec), loaded);
    }
    let mut pruned = spec.clone();
    let mut loaded = loaded;
    for &i in unused.iter().rev() {
        let gone = pruned.instances.remove(i);
        loaded.bytes.remove(i);
        loaded.decoded.remove(i);
        loaded.digests.remove(i);
        for inst in &mut pruned.instances {
            inst.wire.retain(|(_, target)| *target != gone.name);
            for line in inst.slices.iter_mut() {
                if gone.slices.contains(line) {
                    line.push_str(" (unused: not imported)");
                }
            }
        }
    }
    (Cow::Owned(pruned), loaded)
}

/// Components read, version-normalised and decoded, in spec order.
struct Loaded {
    bytes: Vec<Vec<u8>>,
    decoded: Vec<Decoded>,
    /// sha256 of each file as read, for the provenance.
    digests: Vec<String>,
}

fn load(spec: &CompositionSpec) -> Result<Loaded, Error> {
    // Read and decode everything first, so every bad file is reported at once.
    let mut errors = Vec::new();
    let mut raw = read_all(spec).unwrap_or_default();
    for inst in spec.instances.iter().skip(raw.len()) {
        match read(&inst.path, inst.bytes())
            .and_then(|b| inspect::decode(&b, &inst.path).map(|d| (b, d)))
        {
            Ok(pair) => raw.push(pair),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Inspect(errors));
    }
    let renames = Renames::highest(
        raw.iter()
            .flat_map(|(_, d)| d.imports.iter().map(|i| i.name.as_str())),
    );
    let digests = raw.iter().map(|(b, _)| crate::digest::sha256(b)).collect();
    let mut bytes = Vec::new();
    let mut decoded = Vec::new();
    for ((b, d), inst) in raw.into_iter().zip(&spec.instances) {
        let names: Vec<String> = d.imports.iter().map(|i| i.name.clone()).collect();
        let normalize_err = |message: String| Error::Normalize {
            path: inst.path.clone(),
            message,
        };
        match renames.rewrite(&b, &names).map_err(normalize_err)? {
            std::borrow::Cow::Borrowed(_) => {
                bytes.push(b);
                decoded.push(d);
            }
            std::borrow::Cow::Owned(renamed) => {
                let d = inspect::decode(&renamed, &inst.path)
                    .map_err(|e| normalize_err(e.to_string()))?;
                bytes.push(renamed);
                decoded.push(d);
            }
        }
    }
    Ok(Loaded {
        bytes,
        decoded,
        digests,
    })
}

/// A component file's bytes and what they decode to.
type File = (Vec<u8>, Decoded);

/// Reads and decodes each distinct file once, on every core; `None` if any
/// fails (the caller then reads them one by one and reports every error).
fn read_all(spec: &CompositionSpec) -> Option<Vec<File>> {
    let mut paths: Vec<(&Path, Option<&[u8]>)> = spec
        .instances
        .iter()
        .map(|i| (i.path.as_path(), i.bytes()))
        .collect();
    paths.sort();
    paths.dedup();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(paths.len());
    let mut done: Vec<(usize, Option<File>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((path, builtin)) = paths.get(i) else {
                            return mine;
                        };
                        let result = read(path, *builtin)
                            .and_then(|b| inspect::decode(&b, path).map(|d| (b, d)))
                            .ok();
                        mine.push((i, result));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("decoding does not panic"))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    let files: Vec<File> = done.into_iter().map(|(_, r)| r).collect::<Option<_>>()?;
    Some(
        spec.instances
            .iter()
            .map(|inst| {
                let i = paths
                    .binary_search(&(inst.path.as_path(), inst.bytes()))
                    .expect("every path was read");
                files[i].clone()
            })
            .collect(),
    )
}

/// A component's bytes: built into airlock (an interposer), verified when
/// resolved from a registry, or read from its file.
fn read(path: &Path, bytes: Option<&[u8]>) -> Result<Vec<u8>, inspect::InspectError> {
    match bytes {
        Some(bytes) => inspect::adapt_preview1(bytes.to_vec(), path),
        None => inspect::read(path),
    }
}

/// Synthesizes, per instance, one denial component for its denied imports and
/// one more for its types-only views (see [`types_only_key`]), and records in
/// the plan what each denied function does. The views are apart because an
/// interface the denial component imports from the host may use their types
/// (`wasi:http/types` uses `wasi:clocks/monotonic-clock`): one component
/// cannot both import what the host's interface uses and export the view.
fn virtualize(
    plan: &mut Plan,
    spec: &CompositionSpec,
    decoded: &[Decoded],
) -> Result<BTreeMap<String, Vec<u8>>, Error> {
    let mut out = BTreeMap::new();
    for inst in &mut plan.instances {
        let index = spec
            .instances
            .iter()
            .position(|s| s.name == inst.name)
            .expect("planned instances are in the spec");
        let (views, denied): (Vec<&ImportPlan>, Vec<&ImportPlan>) = inst
            .imports
            .iter()
            .filter(|i| matches!(i.fate, Fate::Denied { .. }))
            .partition(|i| is_types_only(&i.fate));
        let groups = [
            (inst.name.clone(), names(&denied)),
            (types_only_key(&inst.name), names(&views)),
        ];
        for (key, group) in groups {
            if group.is_empty() {
                continue;
            }
            let stub = crate::deny::deny_imports(
                &decoded[index].resolve,
                decoded[index].world,
                &group,
                &inst.name,
                &spec.instances[index].virtuals,
            )
            .map_err(|e| Error::Virtualize {
                instance: inst.name.clone(),
                message: format!("{e:#}"),
            })?;
            for import in &mut inst.imports {
                if let Fate::Denied { functions, .. } = &mut import.fate
                    && let Some(fates) = stub.functions.get(&import.name)
                {
                    functions.clone_from(fates);
                }
            }
            out.insert(key, stub.bytes);
        }
    }
    Ok(out)
}

fn names(imports: &[&ImportPlan]) -> Vec<String> {
    imports.iter().map(|i| i.name.clone()).collect()
}

/// True for a types-only view of a type dependency.
pub fn is_types_only(fate: &Fate) -> bool {
    matches!(fate, Fate::Denied { reason, .. } if reason == "types-only")
}

/// The key (and instance name in the output) of an instance's types-only views.
pub fn types_only_key(instance: &str) -> String {
    format!("{instance} (types only)")
}

/// Records the output package name and version (`ns:name@1.2.3`) in the output's metadata.
fn add_metadata(bytes: Vec<u8>, package: Option<&str>) -> Result<Vec<u8>, Error> {
    let Some(package) = package else {
        return Ok(bytes);
    };
    let (name, version) = match package.split_once('@') {
        Some((n, v)) => (n, Some(v)),
        None => (package, None),
    };
    let mut meta = wasm_metadata::AddMetadata::default();
    meta.name = wasm_metadata::AddMetadataField::Set(name.to_string());
    if let Some(v) = version {
        meta.version =
            wasm_metadata::AddMetadataField::Set(wasm_metadata::Version::new(v.to_string()));
    }
    meta.to_wasm(&bytes).map_err(|e| {
        Error::Compose(compose::ComposeError {
            message: format!("record the package name `{package}`: {e:#}"),
        })
    })
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, then a rename,
/// so a failure never leaves a partial output. The rename replaces the entry
/// `path` itself (a symlink there is replaced, its target is not written).
/// The file gets ordinary permissions: an existing file's read/write/execute
/// bits (through a symlink, its target's), never its setuid, setgid or sticky
/// bits; a new file `0o644` less the umask.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let write_err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(write_err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("the folder `{}` does not exist", dir.display()),
        )));
    }
    // tempfile's errors name the random temporary file; report the output path only.
    let write_err =
        |e: std::io::Error| write_err(std::io::Error::new(e.kind(), e.kind().to_string()));
    let mut builder = tempfile::Builder::new();
    // The permission bits to keep: an existing file's, masked to rwx for
    // user, group and others.
    #[cfg(unix)]
    let kept = {
        use std::os::unix::fs::PermissionsExt;
        let kept = std::fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o777);
        // Created with at most the final bits (the umask narrows them), so
        // the temporary file is never more open than the output will be.
        builder.permissions(std::fs::Permissions::from_mode(kept.unwrap_or(0o644)));
        kept
    };
    let mut tmp = builder.tempfile_in(dir).map_err(write_err)?;
    tmp.write_all(bytes).map_err(write_err)?;
    tmp.as_file().sync_all().map_err(write_err)?;
    #[cfg(unix)]
    if let Some(mode) = kept {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(write_err)?;
    }
    tmp.persist(path).map_err(|e| write_err(e.error))?;
    Ok(())
}
